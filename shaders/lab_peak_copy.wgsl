// lab_peak_copy — the kernel lab's memory-bandwidth probe (src/kernels/lab.ts): y[i] = x[i] for i < n4, as vec4
// (16 bytes read and 16 written per invocation), so the rate is what this adapter's storage path sustains.
// One invocation per vec4; 1-D grid over ceil(n4 / WG) workgroups, folded past 65,535 (wid.y * nwg.x + wid.x).
// Bindings: 0 x (read, n4 vec4) · 1 y (write, n4 vec4) · 2 p (uniform Params). Buffers hold a multiple of 4 floats.

override WG: u32 = 256u;

struct Params { n4: u32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n4) { return; }
  y[i] = x[i];
}
