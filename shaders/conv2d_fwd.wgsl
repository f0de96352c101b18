// conv2d_fwd — direct or (TRANSPOSED) transposed 2-D convolution as a gather, NCHW: conv2d forward and the input
// gradient of conv_transpose2d, or conv_transpose2d forward and the input gradient of conv2d (conv_transpose2d_fwd).
//   y[n, co, oy, ox] = base + sum over ci < cin and the taps (ky, kx) that reach an input of x[n, ci, iy, ix] * wp[ci, ky, kx, co]
//   direct: iy = oy*sh - ph + ky*dh, ix = ox*sw - pw + kx*dw; x is zero outside [0, h) x [0, w) (padding);
//   TRANSPOSED: oy = iy*sh - ph + ky*dh, ox = ix*sw - pw + kx*dw for an integer iy in [0, h), ix in [0, w);
//   base = y itself (ACCUMULATE: a later input-channel block of a split run), else bias[b_co0 + co] (HAS_BIAS), else 0.
// Only the begin pads ph, pw enter and the output size oh x ow is given, so 'same' (odd total), asymmetric padding and
// output_padding need nothing more. Summation: ky, kx, ci in order into 0, then + base (the CPU reference does the same).
// Layout: x at x_off + n*x_ns + ci*h*w + iy*w + ix and y at y_off + n*y_ns + co*oh*ow + oy*ow + ox, where x_off / y_off
// are the residuals of windows bound from an aligned offset below the block (binding-size splits). Weights come
// packed by conv_weight_pack: wp[((w_ci0 + ci)*kh*kw + ky*kw + kx) * w_ld4 + w_co4 + co/4] is a vec4 over 4 output
// channels, zero-padded by at least 4 channels so a block's 8 channels can always be read.
// Phases (TRANSPOSED): an invocation takes 4 outputs of one row with the same column phase rx = ox mod sw
// (ox = rx + sw*(q0 + j), j < 4), so whether a tap hits an input is the same for all 4 (no wasted multiply-adds for
// stride > 1) and their inputs are 4 consecutive x elements (ix = q0 + j + (rx + pw - kx*dw)/sw). Direct: one phase,
// 4 consecutive outputs, inputs sw apart.
// One invocation: cpb = 8 output channels (4 when !CO8) x 4 outputs of one row, 32 accumulators (8 vec4). Loops: taps
// outside (row check, column masks and indices once per tap), input channels inside, where 4 masked x loads and 2 vec4
// weight loads feed 32 multiply-adds.
// Grid: 1-D over n * ceil(cout/cpb) * oh * phases * ceil(ceil(ow/phases)/4) invocations (column block fastest, then
// phase; phases = sw when TRANSPOSED, else 1), folded past 65,535 workgroups. Outputs past ow are not written.
// Bindings: 0 x · 1 wp · 2 bias (read; any f32 buffer when !HAS_BIAS) · 3 y (read_write) · 4 p (uniform Params).
// Assumes every index fits u32 (bindings are <= 128 MiB) and cin, kh, kw >= 1.

override WG: u32 = 64u;
// #include "lib/conv2d_fwd_io.wgsl"

// 8 output channels per invocation, or 4 (for launches with at most 4: half the work, same code otherwise).
override CO8: bool = true;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let phases = select(1u, p.sw, TRANSPOSED);
  let nq = (p.ow + phases - 1u) / phases;
  let nxb = (nq + 3u) / 4u;
  let cpb = select(4u, 8u, CO8);
  let ncb = (p.cout + cpb - 1u) / cpb;
  if (i >= p.n * ncb * p.oh * phases * nxb) { return; }
  let xb = i % nxb;
  var t = i / nxb;
  let rx = t % phases;
  t = t / phases;
  let oy = t % p.oh;
  t = t / p.oh;
  let cb = t % ncb;
  let n = t / ncb;

  let q0 = xb * 4u;
  let hw = p.h * p.w;
  let kk = p.kh * p.kw;
  // Input columns of the invocation's 4 outputs: consecutive (TRANSPOSED, one phase) or sw apart (direct).
  let s = select(i32(p.sw), 1, TRANSPOSED);
  let xn = p.x_off + n * p.x_ns;
  let wcol = p.w_co4 + (cpb / 4u) * cb;

  // a_j: channels 0-3 of the block at output j, b_j: channels 4-7.
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var b0 = vec4f(0.0);
  var b1 = vec4f(0.0);
  var b2 = vec4f(0.0);
  var b3 = vec4f(0.0);
  // Taps outside, input channels inside: the masks and indices of a tap are computed once.
  let wstep = kk * p.w_ld4;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = tapRow(oy, ky);
    if (iy < 0) { continue; }
    let row = xn + u32(iy) * p.w;
    for (var kx = 0u; kx < p.kw; kx++) {
      if (!tapHits(rx, kx)) { continue; }
      let ix = tapCol(q0, rx, kx);
      let m0 = inside(ix);
      let m1 = inside(ix + s);
      let m2 = inside(ix + 2 * s);
      let m3 = inside(ix + 3 * s);
      let i0 = row + clampx(ix);
      let i1 = row + clampx(ix + s);
      let i2 = row + clampx(ix + 2 * s);
      let i3 = row + clampx(ix + 3 * s);
      var wi = (p.w_ci0 * kk + ky * p.kw + kx) * p.w_ld4 + wcol;
      var xo = 0u;
      for (var ci = 0u; ci < p.cin; ci++) {
        let v0 = select(0.0, x[i0 + xo], m0);
        let v1 = select(0.0, x[i1 + xo], m1);
        let v2 = select(0.0, x[i2 + xo], m2);
        let v3 = select(0.0, x[i3 + xo], m3);
        let wl = wp[wi];
        a0 += v0 * wl;
        a1 += v1 * wl;
        a2 += v2 * wl;
        a3 += v3 * wl;
        if (CO8) {
          let wh = wp[wi + 1u];
          b0 += v0 * wh;
          b1 += v1 * wh;
          b2 += v2 * wh;
          b3 += v3 * wh;
        }
        xo += hw;
        wi += wstep;
      }
    }
  }
  // Output columns: 4 consecutive (direct) or sw apart in phase rx (TRANSPOSED).
  let ox0 = select(q0, rx + p.sw * q0, TRANSPOSED);
  let os = select(1u, p.sw, TRANSPOSED);
  let co = cb * cpb;
  store4(n, co, oy, ox0, a0);
  store4(n, co, oy, ox0 + os, a1);
  store4(n, co, oy, ox0 + 2u * os, a2);
  store4(n, co, oy, ox0 + 3u * os, a3);
  if (CO8) {
    store4(n, co + 4u, oy, ox0, b0);
    store4(n, co + 4u, oy, ox0 + os, b1);
    store4(n, co + 4u, oy, ox0 + 2u * os, b2);
    store4(n, co + 4u, oy, ox0 + 3u * os, b3);
  }
}
