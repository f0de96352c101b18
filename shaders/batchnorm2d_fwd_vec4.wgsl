// batchnorm2d_fwd_vec4 — batchnorm2d_fwd (same contract: y[e] = (x[e] - mean[c]) * (invstd[c] * weight[c]) + bias[c],
// c = (e / hw) % C, over a flat range [base, base + n) of the NCHW-contiguous x, y [N, C, HW]; weight = 1 unless
// HAS_W, bias = 0 unless HAS_B; RELU: y = max(that, 0)) with x and y as vec4 and the per-channel values loaded once
// per run: valid when HW is a multiple of 4 (so are base and n, and no vec4 straddles two planes).
// On lavapipe every storage load is a per-lane scalar loop: a vec4 moves 4 floats for about the cost of one, and a run
// of RUN vec4s inside one plane shares the channel's four gathers and the one division that finds it.
// Runs: plane q holds hw4 = HW / 4 vec4s cut into rpp = ceil(hw4 / RUN) runs; invocation t (< nruns) takes run
// t % rpp of plane q0 + t / rpp, where q0 is the plane of the range's first element; vec4s outside the range are
// skipped (the range may start or end inside a plane). 1-D grid over runs, folded past 65,535 workgroups.
// Bindings: 0 x (vec4) · 1 mean · 2 invstd · 3 weight · 4 bias (reads; weight / bias not touched when absent)
// · 5 y (write, vec4) · 6 p. x and y are windows that start at element `base` (aligned).

// #include "lib/batchnorm_apply.wgsl"
// #include "lib/nan.wgsl"

override WG: u32 = 64u;
override RUN: u32 = 4u;
override HAS_W: bool = true;
override HAS_B: bool = true;
override RELU: bool = false;

struct Params { n: u32, base: u32, hw: u32, c: u32, q0: u32, rpp: u32, nruns: u32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> invstd: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(6) var<uniform> p: Params;

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
  var s = invstd[c];
  if (HAS_W) { s *= weight[c]; }
  var b = 0.0;
  if (HAS_B) { b = bias[c]; }
  // Global vec4 index of the run's first vec4, as a signed offset into the window.
  let g0 = i32(q * hw4 + j0) - i32(base4);
  for (var k = 0u; k < RUN; k++) {
    let i = g0 + i32(k);
    if (j0 + k >= hw4 || i >= i32(n4)) { break; }
    if (i < 0) { continue; }
    var v = bn_apply4(x[i], mu, s, b, HAS_B);
    if (RELU) { v = select(vec4f(0.0), v, relu_keeps4(v)); }
    y[i] = v;
  }
}
