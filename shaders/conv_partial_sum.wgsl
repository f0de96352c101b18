// conv_partial_sum — fixed-order sum of the slices of a split reduction (conv weight and bias gradients):
//   out[i] = (ACCUMULATE ? out[i] : 0) + (part[0*m + i] + part[1*m + i] + ... + part[(s-1)*m + i])
// The slices are added in order into 0, then to out (the CPU reference does the same): deterministic, no atomics.
// ACCUMULATE adds the partials of a later batch block of a split run.
// One invocation per output element. Grid: 1-D over m, folded past 65,535 workgroups.
// Bindings: 0 part (read) · 1 out (read_write) · 2 p (uniform Params).

override WG: u32 = 64u;
override ACCUMULATE: bool = false;

struct Params { m: u32, s: u32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.m) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.s; k++) {
    acc += part[k * p.m + i];
  }
  if (ACCUMULATE) {
    out[i] = out[i] + acc;
  } else {
    out[i] = acc;
  }
}
