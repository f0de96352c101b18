// conv2d_fwd_tiled — conv2d_fwd's contract (direct, or TRANSPOSED transposed, 2-D convolution as a gather, NCHW,
// packed weights, windows, begin pads, ACCUMULATE / HAS_BIAS epilogue: see shaders/conv2d_fwd.wgsl and
// lib/conv2d_fwd_io.wgsl) computed as an implicit GEMM in workgroup tiles, the layout a GPU wants:
//   rows (M) = output pixels of one phase plane, columns (N) = output channels, K = the taps that reach the phase x
//   the input channels; A[m, (tap, ci)] = x at the pixel's input coordinate through the tap (0 outside: padding),
//   B[(tap, ci), co] = the packed weight row (vec4 over output channels).
// Phases (TRANSPOSED): output pixels oy = ry + sh*qy, ox = rx + sw*qx with the same (ry, rx) meet the same taps, so a
// tile never straddles phases and taps that reach no pixel of the phase are skipped whole (uniform branches): no
// multiply-adds on the zeros a stride > 1 would leave. Direct: one phase; a tile's pixels run across rows and images
// (M = n * oh * ow), so small images still fill the tiles.
// A workgroup of TP x TC invocations computes a BM x BN tile (BM = 4*TP pixels, BN = 4*TC channels), each invocation a
// 4 x 4 block (16 accumulators in vec4 registers). Per tap and K step of BK input channels the workgroup stages
// A [BK][BM] and B [BK][BN] (B loaded as vec4) in workgroup memory, then every invocation reads 4 + 4 values per
// 16 multiply-adds. Summation per output: taps (ky, kx) in order, input channels in order, into 0, then + base (as
// the CPU reference).
// Requires TC % 4 == 0 (each invocation stages one fixed pixel column of A) and BK % (WG / BM) == 0.
// Grid: 1-D over phases * ceil(P / BM) * ceil(cout / BN) workgroups (channel tile fastest), P = n * ceil(oh / py) *
// ceil(ow / px), (py, px) = (sh, sw) when TRANSPOSED else (1, 1); folded past 65,535.
// Bindings: as conv2d_fwd (0 x · 1 wp · 2 bias · 3 y · 4 p).

override TP: u32 = 8u;
override TC: u32 = 8u;
override BK: u32 = 16u;
// #include "lib/conv2d_fwd_io.wgsl"

var<workgroup> As: array<f32, BK * 4u * TP>; // [BK][BM]
var<workgroup> Bs: array<vec4f, BK * TC>; // [BK][BN / 4]

// A pixel of the phase plane (ry, rx): its image, output row and column, and whether it exists.
struct Pix { n: u32, oy: u32, ox: u32, ok: bool }

fn pixel(m: u32, ry: u32, rx: u32, nqy: u32, nqx: u32) -> Pix {
  let plane = nqy * nqx;
  let n = m / plane;
  let q = m - n * plane;
  let qy = q / nqx;
  let qx = q - qy * nqx;
  let py = select(1u, p.sh, TRANSPOSED);
  let px = select(1u, p.sw, TRANSPOSED);
  let oy = ry + py * qy;
  let ox = rx + px * qx;
  return Pix(n, oy, ox, n < p.n && oy < p.oh && ox < p.ow);
}

// Whether tap row ky reaches row phase ry (always, for the direct convolution). Uniform per workgroup.
fn rowHits(ry: u32, ky: u32) -> bool {
  return !TRANSPOSED || (i32(ry) + p.ph - i32(ky * p.dh)) % i32(p.sh) == 0;
}

@compute @workgroup_size(TP * TC)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let WG = TP * TC;
  let BM = 4u * TP;
  let BN = 4u * TC;
  let py = select(1u, p.sh, TRANSPOSED);
  let px = select(1u, p.sw, TRANSPOSED);
  let nqy = (p.oh + py - 1u) / py;
  let nqx = (p.ow + px - 1u) / px;
  let mt = (p.n * nqy * nqx + BM - 1u) / BM;
  let ct = (p.cout + BN - 1u) / BN;
  let t = wid.y * nwg.x + wid.x;
  // Uniform per workgroup: every invocation leaves together (the barriers below stay in uniform control flow).
  if (t >= py * px * mt * ct) { return; }
  let ctile = t % ct;
  let mtile = (t / ct) % mt;
  let phase = t / (ct * mt);
  let ry = phase / px;
  let rx = phase % px;

  // The pixel this invocation stages (fixed: WG is a multiple of BM) and its first K row.
  let sr = lid % BM;
  let sk = lid / BM;
  let kstep = WG / BM;
  let sp = pixel(mtile * BM + sr, ry, rx, nqy, nqx);
  let xn = p.x_off + sp.n * p.x_ns;
  let qx = select(sp.ox, sp.ox / p.sw, TRANSPOSED);
  let hw = p.h * p.w;
  let kk = p.kh * p.kw;
  let ncol4 = (p.cout + 3u) / 4u;
  let c4base = ctile * TC;

  let tp = lid / TC;
  let tc = lid % TC;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var ky = 0u; ky < p.kh; ky++) {
    if (!rowHits(ry, ky)) { continue; }
    let iy = select(-1, tapRow(sp.oy, ky), sp.ok);
    for (var kx = 0u; kx < p.kw; kx++) {
      if (!tapHits(rx, kx)) { continue; }
      let ix = tapCol(qx, rx, kx);
      let ok = iy >= 0 && inside(ix);
      let xi = xn + u32(max(iy, 0)) * p.w + clampx(ix);
      let tap = ky * p.kw + kx;
      for (var ci0 = 0u; ci0 < p.cin; ci0 += BK) {
        for (var k = sk; k < BK; k += kstep) {
          let ci = ci0 + k;
          var v = 0.0;
          if (ok && ci < p.cin) { v = x[xi + ci * hw]; }
          As[k * BM + sr] = v;
        }
        for (var e = lid; e < BK * TC; e += WG) {
          let k = e / TC;
          let c4 = c4base + e % TC;
          let ci = ci0 + k;
          var w = vec4f(0.0);
          if (ci < p.cin && c4 < ncol4) { w = wp[((p.w_ci0 + ci) * kk + tap) * p.w_ld4 + p.w_co4 + c4]; }
          Bs[e] = w;
        }
        workgroupBarrier();
        let kn = min(BK, p.cin - ci0);
        for (var k = 0u; k < kn; k++) {
          let ai = k * BM + 4u * tp;
          let b = Bs[k * TC + tc];
          c0 += As[ai] * b;
          c1 += As[ai + 1u] * b;
          c2 += As[ai + 2u] * b;
          c3 += As[ai + 3u] * b;
        }
        workgroupBarrier();
      }
    }
  }
  let co = ctile * BN + 4u * tc;
  let m0 = mtile * BM + 4u * tp;
  storePix(pixel(m0, ry, rx, nqy, nqx), co, c0);
  storePix(pixel(m0 + 1u, ry, rx, nqy, nqx), co, c1);
  storePix(pixel(m0 + 2u, ry, rx, nqy, nqx), co, c2);
  storePix(pixel(m0 + 3u, ry, rx, nqy, nqx), co, c3);
}

fn storePix(q: Pix, co: u32, v: vec4f) {
  if (q.ok) { store4(q.n, co, q.oy, q.ox, v); }
}
