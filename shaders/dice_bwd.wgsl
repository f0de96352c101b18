// dice_bwd — gradient of the soft Dice loss with respect to the probabilities [N, C, ...] (planes of HW pixels):
//   loss_c = 1 - (2 I_c + s) / D_c,  D_c = P_c + T_c + s   =>   gx[n, c, i] = gl_c * ((2 I_c + s) / D_c^2 - 2 t / D_c)
// with the per-class sums = [I (C), P (C), T (C)] saved by the forward (loss_reduce) and s = smooth. gl_c by
// COMBINED: true = g[0] * scale (reductions 'mean' (scale 1 / C) and 'sum'), false = g[c] (reduction 'none').
// The target by TGT as in dice_fwd (0 = one-hot / soft f32 like x, 1 = i32 indices, 2 = f32 indices).
// The gradient does not depend on x itself. Elementwise: one invocation per element of this launch's global range
// [e0, e0 + n); gx is bound as a window starting at global element xbase, t at global element (one-hot) or pixel
// (indices) tbase. Grid: ceil(n / WG) workgroups, 1-D folded.
// Bindings: 0 tgt · 1 sums · 2 g (read) · 3 gx (write) · 4 p (uniform).

// #include "lib/class_target.wgsl"

override WG: u32 = 64u;
override TGT: u32 = 0u;
override COMBINED: bool = true;

struct Params { n: u32, e0: u32, C: u32, HW: u32, xbase: u32, tbase: u32, smoothing: f32, scale: f32 }

@group(0) @binding(0) var<storage, read> tgt: array<u32>;
@group(0) @binding(1) var<storage, read> sums: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let local = (wid.y * nwg.x + wid.x) * WG + lid;
  if (local >= p.n) { return; }
  let e = p.e0 + local;
  let q = e / p.HW;
  let i = e - q * p.HW;
  let n = q / p.C;
  let c = q - n * p.C;
  var tv: f32;
  if (TGT == 0u) {
    tv = bitcast<f32>(tgt[e - p.tbase]);
  } else {
    let cls = class_target(tgt[n * p.HW + i - p.tbase], TGT == 2u);
    // A class outside [0, C) (or an f32 index that is no integer) makes every class's sums NaN.
    if (cls < 0 || u32(cls) >= p.C) { tv = bitcast<f32>(0x7fc00000u | (p.C & 0u)); } else { tv = select(0.0, 1.0, cls == i32(c)); }
  }
  let d = sums[p.C + c] + sums[2u * p.C + c] + p.smoothing;
  let num = 2.0 * sums[c] + p.smoothing;
  var gl: f32;
  if (COMBINED) { gl = g[0] * p.scale; } else { gl = g[c]; }
  gx[e - p.xbase] = gl * (num / (d * d) - 2.0 * tv / d);
}
