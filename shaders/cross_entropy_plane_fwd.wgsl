// cross_entropy_plane_fwd — the cross-entropy of a chunk of np pixels (rows) from its plane-wise statistics
// st = [m (np), s (np), xt (np)] (softmax_plane_stats with GATHER: xt = the logit of the target class), for rows
// too long for one binding; otherwise as cross_entropy_fwd:
//   lse = m + log(s);  loss = w[t] * (lse - xt),  0 with weight 0 where t == ignore,  NaN where t is out of [0, C).
// The chunk is the global rows [row0, row0 + np); tgt, lse (and a 'none' out) are bound as windows starting at
// global row pbase. REDUCE = false: out[r - pbase] = loss (reduction 'none'). REDUCE = true: out is the partial
// buffer [2, J] (bound whole): workgroup k writes out[jbase + k] = sum of its losses and out[J + jbase + k] = sum of
// its weights (fixed order: sequential, then a workgroup tree). Workgroup k covers local rows [k * WG * K,
// (k + 1) * WG * K), invocation lid the rows k * WG * K + j * WG + lid. Grid: ceil(np / (WG * K)), 1-D folded.
// Bindings: 0 st · 1 tgt · 2 w (read) · 3 lse · 4 out (write) · 5 p (uniform). WG is a power of two.

// #include "lib/cross_entropy_nll.wgsl"

override WG: u32 = 64u;
override K: u32 = 16u;
override REDUCE: bool = false;
override HAS_W: bool = false;
override TGT_F32: bool = false;

struct Params { np: u32, row0: u32, C: u32, pbase: u32, jbase: u32, J: u32, ignore: i32 }

@group(0) @binding(0) var<storage, read> st: array<f32>;
@group(0) @binding(1) var<storage, read> tgt: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.y * nwg.x + wid.x;
  if (k * WG * K >= p.np) { return; }
  var acc = vec2f(0.0);
  for (var j = 0u; j < K; j++) {
    let q = k * WG * K + j * WG + lid;
    if (q < p.np) {
      let r = p.row0 + q;
      let l = st[q] + log(st[p.np + q]);
      lse[r - p.pbase] = l;
      let t = class_target(tgt[r - p.pbase], TGT_F32);
      var wt = 1.0;
      if (HAS_W && nll_counts(t, p.C, p.ignore)) { wt = w[u32(t)]; }
      let lw = nll(t, p.C, p.ignore, l, st[2u * p.np + q], wt);
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
