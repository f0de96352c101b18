// conv_bwd_bias_vec4 — conv_bwd_bias (same contract, params and bindings: see shaders/conv_bwd_bias.wgsl) with g read
// as vec4: one load per 4 columns (on lavapipe every storage load is a per-lane loop; a vec4 costs about what a scalar
// does). Needs w, g_off and g_ns multiples of 4 (every row starts on a vec4; the op takes it then).
// Summation: the 4 column phases (xx % 4) each over the slice's rows in order and their columns in order, then
// (phase 0 + phase 1) + (phase 2 + phase 3): not the scalar kernel's order.
// Bindings: 0 g (read, as vec4) · 1 part (write) · 2 p (uniform Params).

override WG: u32 = 64u;

// #include "lib/conv_bwd_bias_params.wgsl"

@group(0) @binding(0) var<storage, read> g: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.nslices * p.c) { return; }
  let t = bias_slice(i, p);
  let w4 = p.w / 4u;
  let plane = (p.g_off + t.ch * p.h * p.w) / 4u;
  var acc = vec4f(0.0);
  for (var r = t.r0; r < t.r1; r++) {
    let base = plane + (r / p.h) * (p.g_ns / 4u) + (r % p.h) * w4;
    for (var xq = 0u; xq < w4; xq++) {
      acc += g[base + xq];
    }
  }
  part[t.out] = (acc.x + acc.y) + (acc.z + acc.w);
}
