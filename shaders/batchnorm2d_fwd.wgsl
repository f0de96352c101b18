// batchnorm2d_fwd — y[e] = (x[e] - mean[c]) * (invstd[c] * weight[c]) + bias[c], c = (e / hw) % C, over the
// NCHW-contiguous x, y [N, C, HW] (HW = 1 for [N, C]); weight = 1 unless HAS_W, bias = 0 unless HAS_B;
// RELU: y = max(that, 0) (batchNormRelu: BN + ReLU in one pass; backward recomputes the mask from x with the same
// bn_apply of lib/batchnorm_apply.wgsl).
// mean / invstd are the batch statistics (training) or the running ones (evaluation), from batchnorm2d_finalize.
// One invocation per element of a flat range [base, base + n): a large tensor runs in ranges whose start is a
// multiple of the binding offset alignment, so x and y are bound as windows that start at element `base`.
// 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x · 1 mean · 2 invstd · 3 weight · 4 bias (reads; weight / bias not touched when absent) · 5 y (write) · 6 p.

// #include "lib/batchnorm_apply.wgsl"
// #include "lib/nan.wgsl"

override WG: u32 = 256u;
override HAS_W: bool = true;
override HAS_B: bool = true;
override RELU: bool = false;

struct Params { n: u32, base: u32, hw: u32, c: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> invstd: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let c = ((p.base + i) / p.hw) % p.c;
  var s = invstd[c];
  if (HAS_W) { s *= weight[c]; }
  var b = 0.0;
  if (HAS_B) { b = bias[c]; }
  var v = bn_apply(x[i], mean[c], s, b, HAS_B);
  if (RELU) { v = select(0.0, v, relu_keeps(v)); }
  y[i] = v;
}
