// cross_entropy_fwd — log-softmax over classes fused with the negative log-likelihood, one pixel (row) at a time.
// Logits x viewed as [outer, C, inner] ([N, C, H, W]: outer N, inner H * W; [N, C]: inner 1); row r = o * inner + i
// has class target t = tgt[r] (i32, or f32 holding an integer when TGT_F32) and class weight wt = w[t] (1 without
// HAS_W; the w binding is then a dummy):
//   lse[r] = m + log(sum_c exp(x[o, c, i] - m)),  m = max_c x[o, c, i]
//   loss_r = wt * (lse[r] - x[o, t, i]),   0 with weight 0 where t == ignore,   NaN where t is out of [0, C)
//   (an f32 target that is no integer included).
// REDUCE = false: out[r - pbase] = loss_r (reduction 'none'). REDUCE = true: out is the partial-sum buffer (bound
// whole, [2, J]): workgroup k writes out[jbase + k] = sum of its loss_r and out[J + jbase + k] = sum of its wt
// (the 'mean' denominator), each reduced in a fixed order (sequential, then a workgroup tree; no atomics).
// lse is always written: backward reads it and never recomputes the row maxima.
// This launch covers global rows [row0, row0 + rows); global element e = (o * C + c) * inner + i. x is bound as a
// window starting at global element xbase; the per-row arrays tgt, lse (and a 'none' out) as windows starting at
// global row pbase. Workgroup k covers local rows [k * WG * K, (k + 1) * WG * K), invocation lid the rows
// k * WG * K + j * WG + lid, j < K. Grid: ceil(rows / (WG * K)) workgroups, 1-D folded.
// Bindings: 0 x · 1 tgt · 2 w (read) · 3 lse · 4 out (write) · 5 p (uniform). WG is a power of two.

// #include "lib/cross_entropy_nll.wgsl"

override WG: u32 = 64u;
override K: u32 = 16u;
override REDUCE: bool = false;
override HAS_W: bool = false;
override TGT_F32: bool = false;

struct Params { rows: u32, row0: u32, C: u32, inner: u32, xbase: u32, pbase: u32, jbase: u32, J: u32, ignore: i32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> tgt: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.y * nwg.x + wid.x;
  if (k * WG * K >= p.rows) { return; }
  var acc = vec2f(0.0);
  for (var j = 0u; j < K; j++) {
    let local = k * WG * K + j * WG + lid;
    if (local < p.rows) {
      let r = p.row0 + local;
      let o = r / p.inner;
      let i = r - o * p.inner;
      let start = o * p.C * p.inner + i - p.xbase;
      var m = -0x1.fffffep+127f;
      for (var c = 0u; c < p.C; c++) { m = max(m, x[start + c * p.inner]); }
      var s = 0.0;
      for (var c = 0u; c < p.C; c++) { s += exp(x[start + c * p.inner] - m); }
      let l = m + log(s);
      lse[r - p.pbase] = l;
      let t = class_target(tgt[r - p.pbase], TGT_F32);
      var xt = 0.0;
      var wt = 1.0;
      if (nll_counts(t, p.C, p.ignore)) {
        xt = x[start + u32(t) * p.inner];
        if (HAS_W) { wt = w[u32(t)]; }
      }
      let lw = nll(t, p.C, p.ignore, l, xt, wt);
      if (REDUCE) { acc += lw; } else { out[r - p.pbase] = lw.x; }
    }
  }
  if (REDUCE) {
    let total = workgroup_sum2(lid, WG, acc);
    if (lid == 0u) {
      out[p.jbase + k] = total.x;
      out[p.J + p.jbase + k] = total.y;
    }
  }
}
