// dice_fwd — the per-class sums of the soft Dice loss over probabilities x [N, C, ...] (planes of HW pixels):
//   I_c = sum_{n, i} x[n, c, i] * t[n, c, i],   P_c = sum x[n, c, i],   T_c = sum t[n, c, i]
// as fixed-order partial sums (sequential per invocation, then a workgroup tree; deterministic, no atomics), which
// loss_reduce then sums and turns into 1 - (2 I_c + smooth) / (P_c + T_c + smooth).
// The target by TGT: 0 = one-hot / soft f32 [N, C, ...] like x; 1 = class indices i32 [N, ...] (t = [tgt == c]);
// 2 = class indices held in f32 [N, ...]. It is declared array<u32> and bitcast accordingly. An index outside [0, C)
// (or an f32 one that is no integer) gives t = NaN for every class, so the loss is NaN (class_target_check reports it).
// Plane q = n * C + c. This launch covers planes [pl0, pl0 + npl) and in each the pixels [i0, i0 + ni); workgroup k
// takes plane pl0 + k / cpp and the pixels i0 + (k % cpp) * WG * K + j * WG + lid, j < K, of it (cpp = ceil(ni /
// (WG * K)); i0 is a multiple of WG * K, jc0 = i0 / (WG * K)). It writes slot s = n * CPPG + jc0 + k % cpp of the
// partial buffer part [3, C, J] (bound whole; J = N * CPPG, CPPG = ceil(HW / (WG * K))): part[((q3 * C) + c) * J + s]
// for q3 = 0 (I), 1 (P), 2 (T). x and a one-hot t are bound as windows starting at global element xbase / tbase;
// an index t as a window starting at global pixel tbase (pixel n * HW + i). Grid: npl * cpp workgroups, 1-D folded.
// Bindings: 0 x · 1 tgt (read) · 2 part (write) · 3 p (uniform). WG is a power of two.

// #include "lib/class_target.wgsl"

override WG: u32 = 64u;
override K: u32 = 16u;
override TGT: u32 = 0u;

struct Params {
  pl0: u32, npl: u32, i0: u32, ni: u32, cpp: u32, jc0: u32, CPPG: u32, J: u32, C: u32, HW: u32, xbase: u32, tbase: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> tgt: array<u32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> shi: array<f32, WG>;
var<workgroup> shp: array<f32, WG>;
var<workgroup> sht: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.y * nwg.x + wid.x;
  let pl = k / p.cpp;
  if (pl >= p.npl) { return; }
  let chunk = k - pl * p.cpp;
  let q = p.pl0 + pl;
  let n = q / p.C;
  let c = q - n * p.C;
  var ai = 0.0;
  var ap = 0.0;
  var at = 0.0;
  for (var j = 0u; j < K; j++) {
    let il = chunk * WG * K + j * WG + lid;
    if (il < p.ni) {
      let i = p.i0 + il;
      let xv = x[q * p.HW + i - p.xbase];
      var tv: f32;
      if (TGT == 0u) {
        tv = bitcast<f32>(tgt[q * p.HW + i - p.tbase]);
      } else {
        let cls = class_target(tgt[n * p.HW + i - p.tbase], TGT == 2u);
        // A class outside [0, C) (or an f32 index that is no integer) makes every class's sums NaN.
        if (cls < 0 || u32(cls) >= p.C) { tv = bitcast<f32>(0x7fc00000u | (p.C & 0u)); } else { tv = select(0.0, 1.0, cls == i32(c)); }
      }
      ai += xv * tv;
      ap += xv;
      at += tv;
    }
  }
  shi[lid] = ai;
  shp[lid] = ap;
  sht[lid] = at;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      shi[lid] += shi[lid + s];
      shp[lid] += shp[lid + s];
      sht[lid] += sht[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let slot = n * p.CPPG + p.jc0 + chunk;
    part[c * p.J + slot] = shi[0];
    part[(p.C + c) * p.J + slot] = shp[0];
    part[(2u * p.C + c) * p.J + slot] = sht[0];
  }
}
