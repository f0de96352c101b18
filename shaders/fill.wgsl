// fill — y[i] = value (zeros, ones, full). One invocation per element; 1-D grid folded past 65,535.
// Bindings: 0 y (write) · 1 p (uniform Params).

override WG: u32 = 256u;

struct Params { n: u32, value: f32 }

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  y[i] = p.value;
}
