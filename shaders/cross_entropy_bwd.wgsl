// cross_entropy_bwd — gradient of cross_entropy_fwd with respect to the logits, from the saved per-row lse:
//   gx[o, c, i] = gl * wt * (exp(x[o, c, i] - lse[r]) - [c == t]),   r = o * inner + i, t = tgt[r], wt = w[t]
// (0 where t == ignore, NaN where t is out of [0, C)). gl by G_MODE: 0 = g[r - pbase] (reduction 'none', g per row),
// 1 = g[0] * scale ('sum'), 2 = g[0] / sums[1] ('mean': sums = the forward's [sum of losses, sum of weights]).
// Elementwise: one invocation per logit of this launch's global range [e0, e0 + n). x and gx are bound as windows
// starting at global element xbase; tgt, lse (and a per-row g) as windows starting at global row pbase.
// Grid: ceil(n / WG) workgroups, 1-D folded.
// Bindings: 0 x · 1 tgt · 2 w · 3 lse · 4 g · 5 sums (read) · 6 gx (write) · 7 p (uniform).

// #include "lib/class_target.wgsl"

override WG: u32 = 64u;
override G_MODE: u32 = 1u;
override HAS_W: bool = false;
override TGT_F32: bool = false;

struct Params { n: u32, e0: u32, C: u32, inner: u32, xbase: u32, pbase: u32, ignore: i32, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> tgt: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read> sums: array<f32>;
@group(0) @binding(6) var<storage, read_write> gx: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let local = (wid.y * nwg.x + wid.x) * WG + lid;
  if (local >= p.n) { return; }
  let e = p.e0 + local;
  let ci = p.C * p.inner;
  let o = e / ci;
  let rem = e - o * ci;
  let c = rem / p.inner;
  let r = o * p.inner + (rem - c * p.inner);
  let t = class_target(tgt[r - p.pbase], TGT_F32);
  var v = 0.0;
  if (t != p.ignore) {
    if (t >= 0 && u32(t) < p.C) {
      var wt = 1.0;
      if (HAS_W) { wt = w[u32(t)]; }
      var gl: f32;
      if (G_MODE == 0u) { gl = g[r - p.pbase]; } else if (G_MODE == 1u) { gl = g[0] * p.scale; } else { gl = g[0] / sums[1]; }
      v = gl * wt * (exp(x[e - p.xbase] - lse[r - p.pbase]) - select(0.0, 1.0, u32(t) == c));
    } else {
      v = bitcast<f32>(0x7fc00000u | (p.C & 0u));
    }
  }
  gx[e - p.xbase] = v;
}
