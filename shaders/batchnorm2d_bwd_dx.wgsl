// batchnorm2d_bwd_dx — dx[e], c = (e / hw) % C, over the NCHW-contiguous x, g, dx [N, C, HW]:
//   TRAINING (through the batch statistics), with xhat = (x - mean[c]) * invstd[c] and M = N * HW:
//     dx = weight[c] * invstd[c] * (g - sum_g[c] / M - xhat * sum_gxhat[c] / M)
//   !TRAINING (running statistics are constants): dx = weight[c] * invstd[c] * g.
// sum_g = dbias and sum_gxhat = dweight as batchnorm2d_bwd_finalize wrote them (not read when !TRAINING);
// weight = 1 unless HAS_W.
// One invocation per element of a flat range [base, base + n); windows start at element `base` (a multiple of
// the binding offset alignment). 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x · 1 g · 2 mean · 3 invstd · 4 weight · 5 sum_gxhat · 6 sum_g (reads) · 7 dx (write) · 8 p.

override WG: u32 = 256u;
override TRAINING: bool = true;
override HAS_W: bool = true;

struct Params { n: u32, base: u32, hw: u32, c: u32, inv_m: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> sum_gxhat: array<f32>;
@group(0) @binding(6) var<storage, read> sum_g: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let c = ((p.base + i) / p.hw) % p.c;
  var s = invstd[c];
  if (HAS_W) { s *= weight[c]; }
  if (TRAINING) {
    let xhat = (x[i] - mean[c]) * invstd[c];
    dx[i] = s * (g[i] - sum_g[c] * p.inv_m - xhat * (sum_gxhat[c] * p.inv_m));
  } else {
    dx[i] = s * g[i];
  }
}
