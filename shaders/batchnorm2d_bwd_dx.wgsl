// batchnorm2d_bwd_dx — dx[e], c = (e / hw) % C, over the NCHW-contiguous x, g, dx [N, C, HW], with dz = g, or
// with RELU (batchNormRelu) dz = g where the recomputed z = (x - mean[c]) * invstd[c] * weight[c] + bias[c] > 0
// (bn_apply, the forward's expression, so the forward's z to the bit), else 0:
//   TRAINING (through the batch statistics), with xhat = (x - mean[c]) * invstd[c] and M = N * HW:
//     dx = weight[c] * invstd[c] * (dz - sum_g[c] / M - xhat * sum_gxhat[c] / M)
//   !TRAINING (running statistics are constants): dx = weight[c] * invstd[c] * dz.
// sum_g = dbias and sum_gxhat = dweight as batchnorm2d_bwd_finalize wrote them (sums of dz; not read when
// !TRAINING); weight = 1 unless HAS_W; bias = 0 unless HAS_B (bias only read with RELU).
// One invocation per element of a flat range [base, base + n); windows start at element `base` (a multiple of
// the binding offset alignment). 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x · 1 g · 2 mean · 3 invstd · 4 weight · 5 bias · 6 sum_gxhat · 7 sum_g (reads) · 8 dx (write) · 9 p.

// #include "lib/batchnorm_apply.wgsl"
// #include "lib/nan.wgsl"

override WG: u32 = 256u;
override TRAINING: bool = true;
override HAS_W: bool = true;
override HAS_B: bool = true;
override RELU: bool = false;

struct Params { n: u32, base: u32, hw: u32, c: u32, inv_m: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read> sum_gxhat: array<f32>;
@group(0) @binding(7) var<storage, read> sum_g: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;
@group(0) @binding(9) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let c = ((p.base + i) / p.hw) % p.c;
  var s = invstd[c];
  if (HAS_W) { s *= weight[c]; }
  let xv = x[i];
  var gv = g[i];
  if (RELU) {
    var b = 0.0;
    if (HAS_B) { b = bias[c]; }
    if (!relu_keeps(bn_apply(xv, mean[c], s, b, HAS_B))) { gv = 0.0; }
  }
  if (TRAINING) {
    let xhat = (xv - mean[c]) * invstd[c];
    dx[i] = s * (gv - sum_g[c] * p.inv_m - xhat * (sum_gxhat[c] * p.inv_m));
  } else {
    dx[i] = s * gv;
  }
}
