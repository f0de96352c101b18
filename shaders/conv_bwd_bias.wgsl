// conv_bwd_bias — the bias gradient of a convolution, split into slices of rows:
//   part[s, c_base + c] = sum over rows r in slice s (r = n*h + yy, r < n*h) and xx < w of g[n, c, yy, xx]
// (g = dy [N, C, H, W]); conv_partial_sum then adds the slices in fixed order (deterministic, no atomics).
// Summation: rows in order, xx in order, into 0 (the CPU reference does the same).
// Layout: g at g_off + n*g_ns + c*h*w + yy*w + xx (g_off: residual of an aligned window of a channel or batch block);
// part row-major [nslices][c_tot], this run's channels at c_base.
// One invocation per (slice, channel), channel fastest. Grid: 1-D over nslices * c, folded past 65,535 workgroups.
// Bindings: 0 g (read) · 1 part (write) · 2 p (uniform Params).

override WG: u32 = 64u;

// #include "lib/conv_bwd_bias_params.wgsl"

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.nslices * p.c) { return; }
  let t = bias_slice(i, p);
  let plane = p.g_off + t.ch * p.h * p.w;
  var acc = 0.0;
  for (var r = t.r0; r < t.r1; r++) {
    let base = plane + (r / p.h) * p.g_ns + (r % p.h) * p.w;
    for (var xx = 0u; xx < p.w; xx++) {
      acc += g[base + xx];
    }
  }
  part[t.out] = acc;
}
