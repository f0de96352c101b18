// batchnorm2d_bwd_dx_vec4 — batchnorm2d_bwd_dx (same contract: over a flat range [base, base + n) of the
// NCHW-contiguous x, g, dx [N, C, HW], c = (e / hw) % C, dz = g, or with RELU dz = g where the recomputed
// z = (x - mean[c]) * invstd[c] * weight[c] + bias[c] > 0 (bn_apply4, the forward's expression), else 0;
//   TRAINING: dx = weight[c] * invstd[c] * (dz - sum_g[c] / M - xhat * sum_gxhat[c] / M), xhat = (x - mean) * invstd;
//   !TRAINING: dx = weight[c] * invstd[c] * dz)
// with x, g and dx as vec4 and the per-channel values loaded once per run: valid when HW is a multiple of 4.
// Runs exactly as batchnorm2d_fwd_vec4: invocation t (< nruns) takes run t % rpp (RUN vec4s) of plane q0 + t / rpp;
// vec4s outside the range are skipped. 1-D grid over runs, folded past 65,535 workgroups.
// Bindings: 0 x · 1 g (vec4) · 2 mean · 3 invstd · 4 weight · 5 bias · 6 sum_gxhat · 7 sum_g (reads)
// · 8 dx (write, vec4) · 9 p. x, g and dx are windows that start at element `base` (aligned).

// #include "lib/batchnorm_apply.wgsl"
// #include "lib/nan.wgsl"

override WG: u32 = 64u;
override RUN: u32 = 4u;
override TRAINING: bool = true;
override HAS_W: bool = true;
override HAS_B: bool = true;
override RELU: bool = false;

struct Params { n: u32, base: u32, hw: u32, c: u32, inv_m: f32, q0: u32, rpp: u32, nruns: u32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> g: array<vec4f>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read> sum_gxhat: array<f32>;
@group(0) @binding(7) var<storage, read> sum_g: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(9) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * WG + lid;
  if (t >= p.nruns) { return; }
  let hw4 = p.hw / 4u;
  let base4 = p.base / 4u;
  let n4 = p.n / 4u;
  let dq = t / p.rpp;
  let q = p.q0 + dq;
  let j0 = (t - dq * p.rpp) * RUN;
  let c = q % p.c;
  let mu = mean[c];
  let inv = invstd[c];
  var s = inv;
  if (HAS_W) { s *= weight[c]; }
  var b = 0.0;
  if (RELU && HAS_B) { b = bias[c]; }
  var a1 = 0.0;
  var a2 = 0.0;
  if (TRAINING) {
    a1 = sum_g[c] * p.inv_m;
    a2 = sum_gxhat[c] * p.inv_m;
  }
  let g0 = i32(q * hw4 + j0) - i32(base4);
  for (var k = 0u; k < RUN; k++) {
    let i = g0 + i32(k);
    if (j0 + k >= hw4 || i >= i32(n4)) { break; }
    if (i < 0) { continue; }
    let xv = x[i];
    var gv = g[i];
    if (RELU) {
      gv = select(vec4f(0.0), gv, relu_keeps4(bn_apply4(xv, mu, s, b, HAS_B)));
    }
    if (TRAINING) {
      let xhat = (xv - mu) * inv;
      dx[i] = s * (gv - a1 - xhat * a2);
    } else {
      dx[i] = s * gv;
    }
  }
}
