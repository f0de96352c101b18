// conv2d_bwd_weight_tiled — conv2d_bwd_weight's contract (same params, bindings and partials: see
// shaders/conv2d_bwd_weight.wgsl and lib/conv2d_bwd_weight_io.wgsl) computed as a GEMM in workgroup tiles, the layout a
// GPU wants:
//   rows (M) = g channels a, columns (N) = (x channel b, tap) flattened as j = b*kh*kw + ky*kw + kx (the partials'
//   own order, so a row of the tile is stored contiguously), K = the pixels q of the slice, q = r*gw + ox for rows r in
//   [s*rows, min((s+1)*rows, n*gh)) and ox < gw; A[a, q] = g[n, a, oy, ox], B[q, j] = x at the tap-shifted position
//   (0 outside x: padding).
// A workgroup of TA x TB invocations computes a BM x BN tile (BM = 4*TA g channels, BN = 4*TB columns) of one slice,
// each invocation a 4 x 4 block (16 accumulators in vec4 registers). Per K step of BK pixels the workgroup stages
// A [BK][BM] and B [BK][BN] in workgroup memory; every invocation then reads 4 + 4 values per 16 multiply-adds.
// Split-K: the slices are the host's (fixed-order reduction by conv_partial_sum afterwards: deterministic).
// Summation per partial: pixels in order (rows in order, ox in order within a row) into 0, as the CPU reference; a
// pixel whose tap misses x adds g * 0.
// Requires WG = TA*TB a multiple of BK (each invocation stages one fixed pixel of every K step).
// Grid: 1-D over nslices * ceil(a / BM) * ceil(b*kh*kw / BN) workgroups (column tile fastest), folded past 65,535.
// Bindings: 0 g · 1 x (read) · 2 part (write) · 3 p (uniform Params), as conv2d_bwd_weight.

override TA: u32 = 8u;
override TB: u32 = 8u;
override BK: u32 = 16u;
// #include "lib/conv2d_bwd_weight_io.wgsl"

var<workgroup> As: array<f32, BK * 4u * TA>; // [BK][BM]
var<workgroup> Bs: array<f32, BK * 4u * TB>; // [BK][BN]

@compute @workgroup_size(TA * TB)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let WG = TA * TB;
  let BM = 4u * TA;
  let BN = 4u * TB;
  let kk = p.kh * p.kw;
  let ncols = p.b * kk;
  let at = (p.a + BM - 1u) / BM;
  let ct = (ncols + BN - 1u) / BN;
  let t = wid.y * nwg.x + wid.x;
  // Uniform per workgroup: every invocation leaves together (the barriers below stay in uniform control flow).
  if (t >= p.nslices * at * ct) { return; }
  let ctile = t % ct;
  let atile = (t / ct) % at;
  let s = t / (ct * at);

  let ghw = p.gh * p.gw;
  let xhw = p.xh * p.xw;
  let q0 = s * p.rows * p.gw;
  let q1 = min(p.n * p.gh, (s + 1u) * p.rows) * p.gw;
  // The pixel of each K step this invocation stages, and the first of its tile rows / columns.
  let sk = lid % BK;
  let se = lid / BK;
  let estep = WG / BK;

  let ta = lid / TB;
  let tb = lid % TB;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var qk = q0; qk < q1; qk += BK) {
    let q = qk + sk;
    let qok = q < q1;
    let r = q / p.gw;
    let ox = q - r * p.gw;
    let nn = r / p.gh;
    let oy = r - nn * p.gh;
    let gi = p.g_off + nn * p.g_ns + oy * p.gw + ox;
    for (var m = se; m < BM; m += estep) {
      let a = atile * BM + m;
      var v = 0.0;
      if (qok && a < p.a) { v = g[gi + a * ghw]; }
      As[sk * BM + m] = v;
    }
    let xn = p.x_off + nn * p.x_ns;
    for (var e = se; e < BN; e += estep) {
      let j = ctile * BN + e;
      var v = 0.0;
      if (qok && j < ncols) {
        let b = j / kk;
        let tap = j - b * kk;
        let ky = tap / p.kw;
        let kx = tap - ky * p.kw;
        let iy = i32(oy * p.sh) - p.ph + i32(ky * p.dh);
        let ix = i32(ox * p.sw) - p.pw + i32(kx * p.dw);
        if (iy >= 0 && iy < i32(p.xh) && ix >= 0 && ix < i32(p.xw)) { v = x[xn + b * xhw + u32(iy) * p.xw + u32(ix)]; }
      }
      Bs[sk * BN + e] = v;
    }
    workgroupBarrier();
    let kn = min(BK, q1 - qk);
    for (var k = 0u; k < kn; k++) {
      let ai = k * BM + 4u * ta;
      let bi = k * BN + 4u * tb;
      let b = vec4f(Bs[bi], Bs[bi + 1u], Bs[bi + 2u], Bs[bi + 3u]);
      c0 += As[ai] * b;
      c1 += As[ai + 1u] * b;
      c2 += As[ai + 2u] * b;
      c3 += As[ai + 3u] * b;
    }
    workgroupBarrier();
  }
  let a0 = atile * BM + 4u * ta;
  let j0 = ctile * BN + 4u * tb;
  store(s, a0, j0, ncols, c0);
  store(s, a0 + 1u, j0, ncols, c1);
  store(s, a0 + 2u, j0, ncols, c2);
  store(s, a0 + 3u, j0, ncols, c3);
}

// Writes columns j0..j0+3 of g channel a's partial row (those inside the block).
fn store(s: u32, a: u32, j0: u32, ncols: u32, v: vec4f) {
  if (a >= p.a) { return; }
  let base = ((s * p.a_tot + p.a_base + a) * p.b_tot + p.b_base) * p.kh * p.kw;
  for (var d = 0u; d < 4u; d++) {
    if (j0 + d < ncols) { part[base + j0 + d] = v[d]; }
  }
}
