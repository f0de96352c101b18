// conv2d_fwd_k2s2 — conv2d_fwd's contract (same params, bindings and TRANSPOSED meaning) for 2x2 taps at stride 2,
// no padding, dilation 1: conv2d_fwd_k2s2, and conv_transpose2d_fwd_k2s2 with TRANSPOSED (the U-Net's up-conv). Each
// input pixel meets one tap of one output pixel (the taps do not overlap), so the convolution is a GEMM over channels
// per pixel with an index remap:
//   TRANSPOSED: y[n, co, 2*iy + ky, 2*ix + kx] = base + sum over ci < cin of x[n, ci, iy, ix] * wp[ci, ky, kx, co]
//   direct:     y[n, co, oy, ox] = base + sum over ci < cin, ky, kx < 2 of x[n, ci, 2*oy + ky, 2*ox + kx] * wp[ci, ky, kx, co]
//   base = y itself (ACCUMULATE: a later input-channel block of a split run), else bias[b_co0 + co] (HAS_BIAS), else 0.
// Layout as conv2d_fwd (x at x_off + n*x_ns + ci*h*w + iy*w + ix, y at y_off + n*y_ns + co*oh*ow + oy*ow + ox, packed
// weights wp[((w_ci0 + ci)*4 + ky*2 + kx) * w_ld4 + w_co4 + co/4]), with x and y bound as vec4.
// Why: the general kernels (conv2d_fwd_sg) load x by element, 2 pixels per lane, and store by element; on lavapipe
// every storage load or store is a per-lane scalar loop, so here x is loaded as vec4 (4 columns of a row), outputs are
// stored as vec4, and the weights are shared through the subgroup as in winograd_gemm (lib/subgroup_quad.wgsl): lane
// l loads the weight quads of the l-th of a block of 8 reduction terms, one load per lane per block.
//   TRANSPOSED: a block is 8 input channels; one x vec4 per channel feeds 4 taps x CO channels.
//   direct: a block is 2 input channels x 4 taps (lane l: channel ci0 + l/4, tap l%4: rows ci0*4 + l of the packed
//   weights, contiguous); each channel's 4 x vec4 (rows 2*row and 2*row + 1, 8 columns each) give its 4 taps' values
//   of 4 output pixels (even and odd columns). Each block is then one 8-term product per channel quad, as in
//   winograd_gemm. (Blocks of 8 channels, with the 4 taps as 4 products of their own, had half the x reuse per
//   accumulator at the same register use: kernel lab, same launches, 1.4-1.7x slower.)
// One invocation: 4 consecutive columns of one row of the small grid (the input's when TRANSPOSED: 2 x 8 outputs per
// channel; the output's when direct) x CO output channels: TRANSPOSED 4 taps x CO/4 quads x 4 = 4*CO vec4
// accumulators (CO 4 or 8), direct CO vec4 accumulators (CO 4 to 32). TRANSPOSED: input channels in blocks of 8,
// then one for the cin % 8 tail (its missing channels zeroed); direct: in pairs, then the last channel alone when cin
// is odd (its partner's values zero); summation order therefore differs from the CPU reference.
// Grid: one workgroup of WG lanes = one block of CO output channels x a run of WG column quads of the small grid
// (n, row, quad; lanes may straddle rows and items: the weights depend on the channel block only), 1-D over
// ceil(cout/CO) * ceil(n*rows*cols/4/WG) with the channel block fastest (neighbouring workgroups read the same x),
// folded past 65,535. Lanes past the last quad compute on it and store nothing; channel quads past cout re-read
// quad 0 (in bounds) and store nothing.
// Bindings: 0 x · 1 wp · 2 bias (read; any f32 buffer when !HAS_BIAS) · 3 y (read_write) · 4 p (uniform Params).
// Assumes (the launcher checks): kh = kw = sh = sw = 2, ph = pw = 0, dh = dw = 1; TRANSPOSED: oh = 2h, ow = 2w;
// direct: oh = floor(h/2), ow = floor(w/2); w and ow multiples of 4, x_off, x_ns, y_off, y_ns multiples of 4; the
// subgroup size is >= 8 and WG is a multiple of it or at most it (WG = the adapter's subgroup size); cin >= 1.
// #include "lib/subgroup_quad.wgsl"

override WG: u32 = 8u;
// Output channels per invocation: 4 or 8 (TRANSPOSED), 4, 8, 16 or 32 (direct).
override CO: u32 = 8u;
// #include "lib/conv2d_fwd_params.wgsl"

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

// Channel k < 8 of a block of nv at vec4 index i (channel stride hw4): zero past nv (the index stays on channel
// nv - 1, inside the binding).
fn xk(i: u32, k: u32, hw4: u32, nv: u32) -> vec4f {
  return select(vec4f(0.0), x[i + min(k, nv - 1u) * hw4], k < nv);
}

fn xs8(i: u32, hw4: u32, nv: u32) -> V8 {
  return V8(xk(i, 0u, hw4, nv), xk(i, 1u, hw4, nv), xk(i, 2u, hw4, nv), xk(i, 3u, hw4, nv),
            xk(i, 4u, hw4, nv), xk(i, 5u, hw4, nv), xk(i, 6u, hw4, nv), xk(i, 7u, hw4, nv));
}

// The 4 taps of one channel for the direct kernel's 4 output pixels: rows 2*row (taps 0, 1) and 2*row + 1 (taps 2,
// 3), 8 columns each (x at vec4 index i, row stride w4), split into even (kx = 0) and odd (kx = 1) columns.
struct T4 { t0: vec4f, t1: vec4f, t2: vec4f, t3: vec4f }
fn taps4(i: u32, w4: u32) -> T4 {
  let a0 = x[i]; let b0 = x[i + 1u]; let a1 = x[i + w4]; let b1 = x[i + w4 + 1u];
  return T4(vec4f(a0.xz, b0.xz), vec4f(a0.yw, b0.yw), vec4f(a1.xz, b1.xz), vec4f(a1.yw, b1.yw));
}

// One direct block: channels at vec4 index i and i + hw4 (the second only when `two`; else its values are zeros).
fn dblock(acc: ptr<function, array<vec4f, 32>>, i: u32, hw4: u32, w4: u32, wl: u32, ok: bool, o: array<u32, 8>, two: bool) {
  let c0 = taps4(i, w4);
  var c1 = T4(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  if (two) { c1 = taps4(i + hw4, w4); }
  tap(acc, 0u, wl, ok, o, V8(c0.t0, c0.t1, c0.t2, c0.t3, c1.t0, c1.t1, c1.t2, c1.t3));
}

// The base of output channel co (absolute) at vec4 index o: y (ACCUMULATE), its bias (HAS_BIAS), or 0.
fn base(o: u32, co: u32) -> vec4f {
  if (ACCUMULATE) { return y[o]; }
  if (HAS_BIAS) { return vec4f(bias[p.b_co0 + co]); }
  return vec4f(0.0);
}

// The block's CO/4 quads of one tap added to acc[a0 ..]: lane weights at wp[wt + quad offset] (zeros on lanes past
// the block, !ok); a quad past cout re-reads quad 0 (o1..o7). Written out, not looped: with constant indices the
// accumulators stay in registers (an indexed private array lives in memory on lavapipe).
fn tap(acc: ptr<function, array<vec4f, 32>>, a0: u32, wt: u32, ok: bool, o: array<u32, 8>, u: V8) {
  quad(acc, a0, select(vec4f(0.0), wp[wt], ok), u);
  if (CO >= 8u) { quad(acc, a0 + 4u, select(vec4f(0.0), wp[wt + o[1]], ok), u); }
  if (CO >= 16u) {
    quad(acc, a0 + 8u, select(vec4f(0.0), wp[wt + o[2]], ok), u);
    quad(acc, a0 + 12u, select(vec4f(0.0), wp[wt + o[3]], ok), u);
  }
  if (CO >= 32u) {
    quad(acc, a0 + 16u, select(vec4f(0.0), wp[wt + o[4]], ok), u);
    quad(acc, a0 + 20u, select(vec4f(0.0), wp[wt + o[5]], ok), u);
    quad(acc, a0 + 24u, select(vec4f(0.0), wp[wt + o[6]], ok), u);
    quad(acc, a0 + 28u, select(vec4f(0.0), wp[wt + o[7]], ok), u);
  }
}

// Output channel co0 + c of the transposed kernel: rows 2*row + ky, columns 8*jq .. 8*jq + 7 (taps (ky, 0) and
// (ky, 1) interleaved), at vec4 index o of row 2*row.
fn storeT(acc: ptr<function, array<vec4f, 32>>, c: u32, co: u32, o: u32, ow4: u32) {
  if (co >= p.cout) { return; }
  let t0 = (*acc)[c];
  let t1 = (*acc)[CO + c];
  let t2 = (*acc)[2u * CO + c];
  let t3 = (*acc)[3u * CO + c];
  y[o] = vec4f(t0.x, t1.x, t0.y, t1.y) + base(o, co);
  y[o + 1u] = vec4f(t0.z, t1.z, t0.w, t1.w) + base(o + 1u, co);
  y[o + ow4] = vec4f(t2.x, t3.x, t2.y, t3.y) + base(o + ow4, co);
  y[o + ow4 + 1u] = vec4f(t2.z, t3.z, t2.w, t3.w) + base(o + ow4 + 1u, co);
}

// Output channel co of the direct kernel (accumulator c) at vec4 index o.
fn storeD(acc: ptr<function, array<vec4f, 32>>, c: u32, co: u32, o: u32) {
  if (co < p.cout) { y[o] = (*acc)[c] + base(o, co); }
}

fn store1(acc: ptr<function, array<vec4f, 32>>, c: u32, co0: u32, o: u32, ohw4: u32, ow4: u32) {
  if (TRANSPOSED) { storeT(acc, c, co0 + c, o + c * ohw4, ow4); } else { storeD(acc, c, co0 + c, o + c * ohw4); }
}

// Four channels co0 + c0 .. co0 + c0 + 3 of either kernel, at vec4 index o of channel co0 (channel stride ohw4).
fn store4(acc: ptr<function, array<vec4f, 32>>, c0: u32, co0: u32, o: u32, ohw4: u32, ow4: u32) {
  store1(acc, c0, co0, o, ohw4, ow4);
  store1(acc, c0 + 1u, co0, o, ohw4, ow4);
  store1(acc, c0 + 2u, co0, o, ohw4, ow4);
  store1(acc, c0 + 3u, co0, o, ohw4, ow4);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let wi = wid.y * nwg.x + wid.x;
  // The small grid: the input's (TRANSPOSED) or the output's, in quads of 4 columns.
  let rows = select(p.oh, p.h, TRANSPOSED);
  let qpr = select(p.ow, p.w, TRANSPOSED) / 4u;
  let nquads = p.n * rows * qpr;
  let ncb = (p.cout + CO - 1u) / CO;
  // Uniform across the workgroup: returning here keeps every later broadcast in uniform control flow.
  if (wi >= ncb * ((nquads + WG - 1u) / WG)) { return; }
  let cb = wi % ncb;
  let g0 = (wi / ncb) * WG + lid;
  let g = min(g0, nquads - 1u);
  let jq = g % qpr;
  let row = (g / qpr) % rows;
  let n = g / (qpr * rows);

  let co0 = cb * CO;
  let hw4 = p.h * p.w / 4u;
  let w4 = p.w / 4u;
  // This lane's input channel within a block of 8 (lanes 8.. of a wider subgroup repeat lanes 0..7).
  let l8 = sid & 7u;
  let wcol = p.w_co4 + co0 / 4u;
  // x of this invocation's first column at channel 0: row `row` (TRANSPOSED) or row 2*row (direct), column 4*jq or 8*jq.
  let xi = (p.x_off + n * p.x_ns) / 4u + select(2u * row * w4 + 2u * jq, row * w4 + jq, TRANSPOSED);

  // Offsets of the block's channel quads in the packed weights; quads past cout re-read quad 0.
  var o: array<u32, 8>;
  o[1] = select(0u, 1u, co0 + 4u < p.cout); o[2] = select(0u, 2u, co0 + 8u < p.cout);
  o[3] = select(0u, 3u, co0 + 12u < p.cout); o[4] = select(0u, 4u, co0 + 16u < p.cout);
  o[5] = select(0u, 5u, co0 + 20u < p.cout); o[6] = select(0u, 6u, co0 + 24u < p.cout);
  o[7] = select(0u, 7u, co0 + 28u < p.cout);

  var acc: array<vec4f, 32>;
  if (TRANSPOSED) {
    for (var ci0 = 0u; ci0 < p.cin; ci0 += 8u) {
      let nv = min(8u, p.cin - ci0);
      let ok = l8 < nv;
      let wl = (p.w_ci0 + ci0 + min(l8, nv - 1u)) * 4u * p.w_ld4 + wcol;
      let xb = xi + ci0 * hw4;
      // One x quad per channel feeds the 4 taps: acc[t*CO + c] holds tap t, channel c.
      let u = xs8(xb, hw4, nv);
      tap(&acc, 0u, wl, ok, o, u);
      tap(&acc, CO, wl + p.w_ld4, ok, o, u);
      tap(&acc, 2u * CO, wl + 2u * p.w_ld4, ok, o, u);
      tap(&acc, 3u * CO, wl + 3u * p.w_ld4, ok, o, u);
    }
  } else {
    // Blocks of 2 input channels x 4 taps (see the header).
    let pairs = p.cin & ~1u;
    for (var ci0 = 0u; ci0 < pairs; ci0 += 2u) {
      let wl = ((p.w_ci0 + ci0) * 4u + l8) * p.w_ld4 + wcol;
      dblock(&acc, xi + ci0 * hw4, hw4, w4, wl, true, o, true);
    }
    if (pairs < p.cin) {
      // The last channel alone: lanes 4..7 re-read its rows with zero weights, its missing partner's values are zeros.
      let wl = ((p.w_ci0 + pairs) * 4u + (l8 & 3u)) * p.w_ld4 + wcol;
      dblock(&acc, xi + pairs * hw4, hw4, w4, wl, l8 < 4u, o, false);
    }
  }
  if (g0 >= nquads) { return; }
  let ohw4 = p.oh * p.ow / 4u;
  let ow4 = p.ow / 4u;
  // Channel co0's first vec4: row 2*row, column 8*jq (transposed), or row `row`, column 4*jq (direct).
  let oy = (p.y_off + n * p.y_ns) / 4u + co0 * ohw4 + select(row * ow4 + jq, 2u * row * ow4 + 2u * jq, TRANSPOSED);
  store4(&acc, 0u, co0, oy, ohw4, ow4);
  if (CO >= 8u) { store4(&acc, 4u, co0, oy, ohw4, ow4); }
  if (CO >= 16u) {
    store4(&acc, 8u, co0, oy, ohw4, ow4);
    store4(&acc, 12u, co0, oy, ohw4, ow4);
  }
  if (CO >= 32u) {
    store4(&acc, 16u, co0, oy, ohw4, ow4);
    store4(&acc, 20u, co0, oy, ohw4, ow4);
    store4(&acc, 24u, co0, oy, ohw4, ow4);
    store4(&acc, 28u, co0, oy, ohw4, ow4);
  }
}
