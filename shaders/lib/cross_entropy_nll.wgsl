// lib/cross_entropy_nll.wgsl — the negative log-likelihood epilogue that cross_entropy_fwd (log-sum-exp of a row in
// one binding) and cross_entropy_plane_fwd (from plane-wise statistics) share: the class target of a row, its loss
// and weight, and the fixed-order workgroup sum of the REDUCE partials. One copy, so both give the same floats.

// #include "lib/class_target.wgsl"

// Whether target t counts: not `ignore` and a class in [0, c). Only then are its logit and class weight read.
fn nll_counts(t: i32, c: u32, ignore: i32) -> bool {
  return t != ignore && t >= 0 && u32(t) < c;
}

// (loss, weight) of a row with log-sum-exp lse, target logit xt and class weight wt (both used only when t counts):
// (wt * (lse - xt), wt); (0, 0) where t == ignore; (NaN, NaN) where t is out of [0, c) (an f32 target that is no
// integer included: class_target gives CLASS_INVALID).
fn nll(t: i32, c: u32, ignore: i32, lse: f32, xt: f32, wt: f32) -> vec2f {
  if (t == ignore) { return vec2f(0.0); }
  // A NaN made at run time (WGSL rejects NaN in constant expressions).
  if (t < 0 || u32(t) >= c) { return vec2f(bitcast<f32>(0x7fc00000u | (c & 0u))); }
  return vec2f(wt * (lse - xt), wt);
}

// Up to 256 lanes (WebGPU's default maxComputeInvocationsPerWorkgroup; the loss kernels run 64).
var<workgroup> nll_part: array<vec2f, 256>;

// The sum of v over the n lanes of the workgroup (n a power of two <= 256), in a fixed tree order (no atomics): a
// pairwise tree over lid, lid + n/2, ..., the same for every run. Every lane gets the total. Call from uniform
// control flow with every lane of the workgroup.
fn workgroup_sum2(lid: u32, n: u32, v: vec2f) -> vec2f {
  nll_part[lid] = v;
  workgroupBarrier();
  for (var s = n / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { nll_part[lid] += nll_part[lid + s]; }
    workgroupBarrier();
  }
  return nll_part[0];
}
