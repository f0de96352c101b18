// conv2d_bwd_weight — the weight-gradient contraction of a 2-D convolution, as a GEMM over pixels split into slices:
//   part[s, a_base + a, b_base + b, ky, kx] = sum over rows r in slice s (r = n*gh + oy, r < n*gh) and ox < gw of
//     g[n, a, oy, ox] * x[n, b, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw]   (x is zero outside [0, xh) x [0, xw)).
// conv2d: g = dy [N, Cout, OH, OW], x = the input, part = partial dW [Cout, Cin, kh, kw];
// conv_transpose2d: g = its input x [N, Cin, H, W], x = dy, part = partial dW [Cin, Cout, kh, kw] (same contraction,
// roles swapped). conv_partial_sum then adds the slices in fixed order: deterministic, no atomics.
// Summation: rows in order, ox in order within a row, into 0 (the CPU reference does the same).
// Layout: g at g_off + n*g_ns + a*gh*gw + oy*gw + ox, x at x_off + n*x_ns + b*xh*xw + iy*xw + ix (offsets: residuals
// of aligned windows of channel blocks / batch blocks); part row-major [nslices][a_tot][b_tot][kh*kw], this run's
// channels at a_base, b_base.
// One invocation: one slice, one tap, 8 g channels x 4 x channels = 32 accumulators (8 vec4); per pixel 8 g loads and
// 4 x loads feed 32 multiply-adds. The pixel range that hits x is computed once per tap (no per-pixel masks).
// Grid: 1-D over nslices * ceil(a/8) * kh*kw * ceil(b/4) invocations (x-channel block fastest), folded past 65,535.
// Bindings: 0 g · 1 x (read) · 2 part (write) · 3 p (uniform Params). Channel tails are clamped for loads, not written.

override WG: u32 = 64u;

// #include "lib/conv2d_bwd_weight_io.wgsl"

// Writes the 4 x-channel values of g channel `a` (if it is inside the block).
fn store(s: u32, a: u32, b0: u32, tap: u32, v: vec4f) {
  if (a >= p.a) { return; }
  let kk = p.kh * p.kw;
  let base = ((s * p.a_tot + p.a_base + a) * p.b_tot + p.b_base) * kk + tap;
  for (var d = 0u; d < 4u; d++) {
    if (b0 + d < p.b) { part[base + (b0 + d) * kk] = v[d]; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let kk = p.kh * p.kw;
  let nbb = (p.b + 3u) / 4u;
  let nab = (p.a + 7u) / 8u;
  if (i >= p.nslices * nab * kk * nbb) { return; }
  let bb = i % nbb;
  var t = i / nbb;
  let tap = t % kk;
  t = t / kk;
  let ab = t % nab;
  let s = t / nab;
  let ky = tap / p.kw;
  let kx = tap % p.kw;
  let a0 = ab * 8u;
  let b0 = bb * 4u;

  // Channel plane offsets, clamped into the block (clamped lanes compute garbage that store() drops).
  let ghw = p.gh * p.gw;
  let xhw = p.xh * p.xw;
  let am = p.a - 1u;
  let bm = p.b - 1u;
  let g0 = min(a0, am) * ghw;
  let g1 = min(a0 + 1u, am) * ghw;
  let g2 = min(a0 + 2u, am) * ghw;
  let g3 = min(a0 + 3u, am) * ghw;
  let g4 = min(a0 + 4u, am) * ghw;
  let g5 = min(a0 + 5u, am) * ghw;
  let g6 = min(a0 + 6u, am) * ghw;
  let g7 = min(a0 + 7u, am) * ghw;
  let x0 = min(b0, bm) * xhw;
  let x1 = min(b0 + 1u, bm) * xhw;
  let x2 = min(b0 + 2u, bm) * xhw;
  let x3 = min(b0 + 3u, bm) * xhw;

  // Columns ox whose input column ix = ox*sw - c falls in [0, xw).
  let sw = i32(p.sw);
  let c = p.pw - i32(kx * p.dw);
  let lo = select(0, (c + sw - 1) / sw, c > 0);
  let top = i32(p.xw) - 1 + c;
  let hi = select(0, min(i32(p.gw), top / sw + 1), top >= 0);

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  let r0 = s * p.rows;
  let r1 = min(p.n * p.gh, r0 + p.rows);
  for (var r = r0; r < r1; r++) {
    let nn = r / p.gh;
    let oy = r % p.gh;
    let iy = i32(oy * p.sh) - p.ph + i32(ky * p.dh);
    if (iy < 0 || iy >= i32(p.xh)) { continue; }
    let gr = p.g_off + nn * p.g_ns + oy * p.gw;
    let xr = i32(p.x_off + nn * p.x_ns + u32(iy) * p.xw) - c;
    for (var ox = lo; ox < hi; ox++) {
      let xi = u32(xr + ox * sw);
      let xv = vec4f(x[xi + x0], x[xi + x1], x[xi + x2], x[xi + x3]);
      let gi = gr + u32(ox);
      acc0 += g[gi + g0] * xv;
      acc1 += g[gi + g1] * xv;
      acc2 += g[gi + g2] * xv;
      acc3 += g[gi + g3] * xv;
      acc4 += g[gi + g4] * xv;
      acc5 += g[gi + g5] * xv;
      acc6 += g[gi + g6] * xv;
      acc7 += g[gi + g7] * xv;
    }
  }
  store(s, a0, b0, tap, acc0);
  store(s, a0 + 1u, b0, tap, acc1);
  store(s, a0 + 2u, b0, tap, acc2);
  store(s, a0 + 3u, b0, tap, acc3);
  store(s, a0 + 4u, b0, tap, acc4);
  store(s, a0 + 5u, b0, tap, acc5);
  store(s, a0 + 6u, b0, tap, acc6);
  store(s, a0 + 7u, b0, tap, acc7);
}
