// winograd_fused — Winograd F(4x4, 3x3) in one pass, for convolutions with few channels: y[n, co, oy, ox] = the 3x3
// correlation of x (begin pads ph, pw; zero outside) with the transformed weights u (+ bias[b_co0 + co] when
// HAS_BIAS), for co < cout, every input channel ci < cin in this launch. The data transform of each input channel's
// patches, the 36 channel contractions and the output transform of winograd_input / winograd_gemm / winograd_output
// (same tiles, same u) without their transformed data v and products m in memory: x is read once per block of CO
// output channels, y written once. Where the channels are few, v and m (36/16 of x and y each) cost more memory
// passes than the contraction costs arithmetic (isbi's first two levels: 16 and 32 channels at 256 x 256 and 128 x 128).
// Tiles of a band as in winograd_input (t = (nI*bt + (ty - ty0))*tg*4 + tx); x at x_off + nI*x_ns + ci*h*w + iy*w + ix,
// y at y_off + nI*y_ns + co*oh*ow + oy*ow + ox; u as vec4 over output channels, u4[(e*cin + ci)*cp/4 + co/4]
// (winograd_weight, cp a multiple of 8, its pad columns zeros).
// One invocation = one tile quad (4 tiles of a tile row) x CO output channels (4 or 8): per input channel 6 x 6 vec4
// loads of x (lib/winograd_rows_vec4.wgsl) and the transform on vec4, then the 36 products of each output channel
// added to 36 x CO vec4 accumulators; lane l of each 8 loads u of e = l + 8k (k < 5) and the subgroup shares them
// (subgroupShuffle from lane e mod 8), so u costs 5 x CO/4 loads per lane per input channel, not 36 x CO/4. Then
// per output channel the output transform and its stores (lib/winograd_store_vec4.wgsl). Valid where w, ow, x_off,
// x_ns, y_off and y_ns are multiples of 4 (x and y as vec4) and SHIFT = (-pw) mod 4. Summation order: input
// channels in order, one product each (winograd_gemm sums blocks of 8 first). CO = 16 measured ~20% faster on isbi's
// launches, but its pipeline (576 accumulators, every index constant) takes ~60 s to compile on lavapipe, CO = 8 ~15 s.
// Grid: one workgroup of WG lanes = WG tile quads x one block of CO output channels, 1-D over ceil(cout/CO) *
// ceil(t4/WG), the channel block fastest (neighbouring workgroups read the same x), folded past 65,535. Lanes past
// t4 compute on a clamped quad and store nothing.
// Bindings: 0 x (read, as vec4) · 1 u (read) · 2 bias (read; any f32 buffer when !HAS_BIAS) · 3 y (write, as vec4) ·
// 4 p (uniform Params).
// Assumes the subgroup size is >= 8 and WG is a multiple of it or at most it (WG = the adapter's subgroup size).

enable subgroups;

override WG: u32 = 8u;
// Output channels per invocation: 4 or 8.
override CO: u32 = 8u;
override HAS_BIAS: bool = false;

struct Params { cin: u32, cp: u32, cout: u32, h: u32, w: u32, ph: i32, pw: i32, x_off: u32, x_ns: u32, oh: u32, ow: u32, y_off: u32, y_ns: u32, b_co0: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> u: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

// #include "lib/winograd_bt.wgsl"
// #include "lib/winograd_rows_vec4.wgsl"
// #include "lib/winograd_store_vec4.wgsl"

// Accumulators: acc[e*8 + j] = the products of tile quad and output channel j of the block at point e (vec4: 4 tiles).
alias Acc = array<vec4f, 288>;

// acc[e*8 + j] += ve * (u of point e, output channel j < CO), u shared from lane src (uq[2k + q]: the quad q of
// point e = 8k + src's lane index).
fn mac(acc: ptr<function, Acc>, e: u32, ve: vec4f, uq: array<vec4f, 10>, k: u32, src: u32) {
  for (var q = 0u; q < CO / 4u; q++) {
    let a = subgroupShuffle(uq[2u * k + q], src);
    (*acc)[e * 8u + 4u * q] += ve * a.x;
    (*acc)[e * 8u + 4u * q + 1u] += ve * a.y;
    (*acc)[e * 8u + 4u * q + 2u] += ve * a.z;
    (*acc)[e * 8u + 4u * q + 3u] += ve * a.w;
  }
}

// One input channel's 36 points (v[b][a]: point e = a*6 + b), each index a constant (no dynamic indexing of acc).
fn macs(acc: ptr<function, Acc>, v: array<array<vec4f, 6>, 6>, uq: array<vec4f, 10>, sb: u32) {
  mac(acc, 0u, v[0][0], uq, 0u, sb + 0u);
  mac(acc, 1u, v[1][0], uq, 0u, sb + 1u);
  mac(acc, 2u, v[2][0], uq, 0u, sb + 2u);
  mac(acc, 3u, v[3][0], uq, 0u, sb + 3u);
  mac(acc, 4u, v[4][0], uq, 0u, sb + 4u);
  mac(acc, 5u, v[5][0], uq, 0u, sb + 5u);
  mac(acc, 6u, v[0][1], uq, 0u, sb + 6u);
  mac(acc, 7u, v[1][1], uq, 0u, sb + 7u);
  mac(acc, 8u, v[2][1], uq, 1u, sb + 0u);
  mac(acc, 9u, v[3][1], uq, 1u, sb + 1u);
  mac(acc, 10u, v[4][1], uq, 1u, sb + 2u);
  mac(acc, 11u, v[5][1], uq, 1u, sb + 3u);
  mac(acc, 12u, v[0][2], uq, 1u, sb + 4u);
  mac(acc, 13u, v[1][2], uq, 1u, sb + 5u);
  mac(acc, 14u, v[2][2], uq, 1u, sb + 6u);
  mac(acc, 15u, v[3][2], uq, 1u, sb + 7u);
  mac(acc, 16u, v[4][2], uq, 2u, sb + 0u);
  mac(acc, 17u, v[5][2], uq, 2u, sb + 1u);
  mac(acc, 18u, v[0][3], uq, 2u, sb + 2u);
  mac(acc, 19u, v[1][3], uq, 2u, sb + 3u);
  mac(acc, 20u, v[2][3], uq, 2u, sb + 4u);
  mac(acc, 21u, v[3][3], uq, 2u, sb + 5u);
  mac(acc, 22u, v[4][3], uq, 2u, sb + 6u);
  mac(acc, 23u, v[5][3], uq, 2u, sb + 7u);
  mac(acc, 24u, v[0][4], uq, 3u, sb + 0u);
  mac(acc, 25u, v[1][4], uq, 3u, sb + 1u);
  mac(acc, 26u, v[2][4], uq, 3u, sb + 2u);
  mac(acc, 27u, v[3][4], uq, 3u, sb + 3u);
  mac(acc, 28u, v[4][4], uq, 3u, sb + 4u);
  mac(acc, 29u, v[5][4], uq, 3u, sb + 5u);
  mac(acc, 30u, v[0][5], uq, 3u, sb + 6u);
  mac(acc, 31u, v[1][5], uq, 3u, sb + 7u);
  mac(acc, 32u, v[2][5], uq, 4u, sb + 0u);
  mac(acc, 33u, v[3][5], uq, 4u, sb + 1u);
  mac(acc, 34u, v[4][5], uq, 4u, sb + 2u);
  mac(acc, 35u, v[5][5], uq, 4u, sb + 3u);
}

// Output channel j of the block (co in the launch): A^T m A of its 36 accumulators, stored with the bias.
fn emit(acc: ptr<function, Acc>, j: u32, t0: OutputTile, co: u32) {
  var q: array<array<vec4f, 4>, 6>;
  q[0] = at(array<vec4f, 6>((*acc)[0u + j], (*acc)[8u + j], (*acc)[16u + j], (*acc)[24u + j], (*acc)[32u + j], (*acc)[40u + j]));
  q[1] = at(array<vec4f, 6>((*acc)[48u + j], (*acc)[56u + j], (*acc)[64u + j], (*acc)[72u + j], (*acc)[80u + j], (*acc)[88u + j]));
  q[2] = at(array<vec4f, 6>((*acc)[96u + j], (*acc)[104u + j], (*acc)[112u + j], (*acc)[120u + j], (*acc)[128u + j], (*acc)[136u + j]));
  q[3] = at(array<vec4f, 6>((*acc)[144u + j], (*acc)[152u + j], (*acc)[160u + j], (*acc)[168u + j], (*acc)[176u + j], (*acc)[184u + j]));
  q[4] = at(array<vec4f, 6>((*acc)[192u + j], (*acc)[200u + j], (*acc)[208u + j], (*acc)[216u + j], (*acc)[224u + j], (*acc)[232u + j]));
  q[5] = at(array<vec4f, 6>((*acc)[240u + j], (*acc)[248u + j], (*acc)[256u + j], (*acc)[264u + j], (*acc)[272u + j], (*acc)[280u + j]));
  var base = 0.0;
  if (HAS_BIAS) { base = bias[p.b_co0 + co]; }
  store_rows_vec4(&y, OutputTile(true, t0.yp + co * p.oh * p.ow, t0.oy0, t0.ox0, base, tile_transform(q)), p.oh, p.ow);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let wi = wid.y * nwg.x + wid.x;
  let t4 = p.nn * p.bt * p.tg;
  let ntb = (t4 + WG - 1u) / WG;
  let ncb = (p.cout + CO - 1u) / CO;
  // Uniform across the workgroup: returning here keeps every later shuffle in uniform control flow.
  if (wi >= ncb * ntb) { return; }
  let cb = wi % ncb;
  let tq0 = (wi / ncb) * WG + lid;
  let tq = min(tq0, t4 - 1u);
  let g = tq % p.tg;
  let r = tq / p.tg;
  let ty = p.ty0 + r % p.bt;
  let nI = r / p.bt;
  let iy0 = i32(ty * 4u) - p.ph;
  let ix0 = i32(g * 16u) - p.pw;
  let l8 = sid & 7u;
  let cq = cb * (CO / 4u);
  let c4 = p.cp / 4u;

  var acc: Acc;
  for (var ci = 0u; ci < p.cin; ci++) {
    let v = patch_transform(load_rows_vec4(&x, p.x_off + nI * p.x_ns + ci * p.h * p.w, iy0, ix0, p.h, p.w));
    // Lane l8's u quads of points e = l8 + 8k (clamped past 35: never shared).
    var uq: array<vec4f, 10>;
    for (var k = 0u; k < 5u; k++) {
      let ui = (min(l8 + 8u * k, 35u) * p.cin + ci) * c4 + cq;
      for (var q = 0u; q < CO / 4u; q++) { uq[2u * k + q] = u[ui + q]; }
    }
    macs(&acc, v, uq, sid & ~7u);
  }
  if (tq0 < t4) {
    let t0 = OutputTile(true, p.y_off + nI * p.y_ns, ty * 4u, g * 16u, 0.0, array<array<vec4f, 4>, 4>());
    let co0 = cb * CO;
    if (CO > 0u && co0 + 0u < p.cout) { emit(&acc, 0u, t0, co0 + 0u); }
    if (CO > 1u && co0 + 1u < p.cout) { emit(&acc, 1u, t0, co0 + 1u); }
    if (CO > 2u && co0 + 2u < p.cout) { emit(&acc, 2u, t0, co0 + 2u); }
    if (CO > 3u && co0 + 3u < p.cout) { emit(&acc, 3u, t0, co0 + 3u); }
    if (CO > 4u && co0 + 4u < p.cout) { emit(&acc, 4u, t0, co0 + 4u); }
    if (CO > 5u && co0 + 5u < p.cout) { emit(&acc, 5u, t0, co0 + 5u); }
    if (CO > 6u && co0 + 6u < p.cout) { emit(&acc, 6u, t0, co0 + 6u); }
    if (CO > 7u && co0 + 7u < p.cout) { emit(&acc, 7u, t0, co0 + 7u); }
  }
}
