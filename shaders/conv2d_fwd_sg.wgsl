// conv2d_fwd_sg — conv2d_fwd (same contract, params, bindings and TRANSPOSED meaning) with the weights shared through
// the subgroup: conv2d_fwd_sg, and conv_transpose2d_fwd_sg with TRANSPOSED.
//   y[n, co, oy, ox] = base + sum over ci < cin and the taps (ky, kx) that reach an input of x[n, ci, iy, ix] * wp[ci, ky, kx, co]
//   direct: iy = oy*sh - ph + ky*dh, ix = ox*sw - pw + kx*dw; x is zero outside [0, h) x [0, w) (padding);
//   TRANSPOSED: oy = iy*sh - ph + ky*dh, ox = ix*sw - pw + kx*dw for an integer iy in [0, h), ix in [0, w);
//   base = y itself (ACCUMULATE: a later input-channel block of a split run), else bias[b_co0 + co] (HAS_BIAS), else 0.
// Layout as conv2d_fwd: x at x_off + n*x_ns + ci*h*w + iy*w + ix, y at y_off + n*y_ns + co*oh*ow + oy*ow + ox, packed
// weights wp[((w_ci0 + ci)*kh*kw + ky*kw + kx) * w_ld4 + w_co4 + co/4] (vec4 over output channels, padded by >= 4).
// Why: on lavapipe (Mesa 25.0.7) every storage load is a per-lane scalar loop even when all lanes read the same
// address, so conv2d_fwd's 2 weight vec4 per input channel cost as much as 8 distinct loads. Here lane l of the
// subgroup loads the weights of input channel ci0 + l%8 (one vec4 per 4 output channels) and the subgroup shares
// them with subgroupBroadcast(w, j), j = 0..7: weights cost one load per lane per 8 input channels.
// One invocation: 2 outputs (1 when !PX2) of one row x cpl = 16 output channels (8 when !CO16, 4 when also !CO8): 32 accumulators
// as 8 vec4; the 2 outputs are consecutive (direct) or consecutive in one column phase rx = ox mod sw (TRANSPOSED, as
// in conv2d_fwd: ox = rx + sw*(q0 + j), inputs consecutive). Loops: taps outside (row and phase checks uniform, column
// masks and indices once per tap), input channels inside in blocks of 8 (then one block for the cin % 8 tail, its
// missing channels zeroed): per block each lane loads 2 x 8 x values and cpl/4 weight vec4, and each accumulator takes
// the block's 8 products summed first, so it is written once per block (measured: 25% faster than one write per
// channel, which spills). Summation order therefore differs from the CPU reference (as for any reordered float sum).
// Grid: one workgroup of WG lanes = one (n, channel block, output row, phase, run of WG*px columns, px = 2, or 1 when
// !PX2), so the lanes of a
// subgroup never straddle channel blocks, rows or phases and every branch before a broadcast is uniform; 1-D over
// n * ceil(cout/cpl) * oh * phases * ceil(ceil(ow/phases)/(px*WG)) workgroups (phases = sw when TRANSPOSED, else 1),
// folded past 65,535. Lanes past ow compute and store nothing.
// Bindings: 0 x · 1 wp · 2 bias (read; any f32 buffer when !HAS_BIAS) · 3 y (read_write) · 4 p (uniform Params).
// Assumes the subgroup size is >= 8 and WG is a multiple of it or at most it (WG = the adapter's subgroup size),
// every index fits u32 (bindings are <= 128 MiB) and cin, kh, kw >= 1.
enable subgroups;

override WG: u32 = 8u;
// #include "lib/conv2d_fwd_io.wgsl"

// Output channels per invocation: 16 (CO16), else 8 (CO8), else 4. CO8 keeps conv2d_fwd's meaning for launches
// recorded with it (<= 4 channels when false).
override CO16: bool = true;
override CO8: bool = true;
// 2 outputs per invocation, or 1 (rows of at most WG outputs per phase: with 2, half the lanes of a row would idle).
override PX2: bool = true;

// a_q: channels 4q..4q+3 of the block at pixel 0, b_q: at pixel 1.
struct Acc {
  a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f,
  b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f,
}

// One pixel's x over 8 input channels, and one weight quad of 8 input channels (one vec4 per channel).
struct X8 { v0: f32, v1: f32, v2: f32, v3: f32, v4: f32, v5: f32, v6: f32, v7: f32 }
struct W8 { c0: vec4f, c1: vec4f, c2: vec4f, c3: vec4f, c4: vec4f, c5: vec4f, c6: vec4f, c7: vec4f }

fn xv(i: u32, m: bool) -> f32 {
  return select(0.0, x[i], m);
}

// x at i + k*hw for channels k < nv (0 past them; the index stays on channel nv - 1, inside the binding).
fn xs8(i: u32, m: bool, hw: u32, nv: u32) -> X8 {
  return X8(xv(i, m), xv(i + min(1u, nv - 1u) * hw, m && 1u < nv), xv(i + min(2u, nv - 1u) * hw, m && 2u < nv),
            xv(i + min(3u, nv - 1u) * hw, m && 3u < nv), xv(i + min(4u, nv - 1u) * hw, m && 4u < nv),
            xv(i + min(5u, nv - 1u) * hw, m && 5u < nv), xv(i + min(6u, nv - 1u) * hw, m && 6u < nv),
            xv(i + min(7u, nv - 1u) * hw, m && 7u < nv));
}

// Lane j's weight quad, for every j < 8: the subgroup's 8 input channels.
fn bcast8(w: vec4f) -> W8 {
  return W8(subgroupBroadcast(w, 0u), subgroupBroadcast(w, 1u), subgroupBroadcast(w, 2u), subgroupBroadcast(w, 3u),
            subgroupBroadcast(w, 4u), subgroupBroadcast(w, 5u), subgroupBroadcast(w, 6u), subgroupBroadcast(w, 7u));
}

// The 8 input channels' contribution to one quad of one pixel, summed before it meets the accumulator: each
// accumulator is written once per block (a loop-carried write costs a blend, and often a spill, on lavapipe).
fn dot8(u: X8, c: W8) -> vec4f {
  return u.v0 * c.c0 + u.v1 * c.c1 + u.v2 * c.c2 + u.v3 * c.c3 + u.v4 * c.c4 + u.v5 * c.c5 + u.v6 * c.c6 + u.v7 * c.c7;
}

// One block of nv <= 8 input channels from ci: lane l loads the weights of channel ci + l%8 (lanes past nv load
// zeros), x loads at i0 / i1 (pixel 0 / 1, this tap) of channel ci.
fn block(acc: ptr<function, Acc>, i0: u32, i1: u32, m0: bool, m1: bool, hw: u32, wi: u32, wstep: u32, l8: u32, nv: u32,
         o1: u32, o2: u32, o3: u32) {
  let wl = wi + min(l8, nv - 1u) * wstep;
  let ok = l8 < nv;
  let u0 = xs8(i0, m0, hw, nv);
  var u1: X8;
  if (PX2) { u1 = xs8(i1, m1, hw, nv); }
  let c0 = bcast8(select(vec4f(0.0), wp[wl], ok));
  (*acc).a0 += dot8(u0, c0);
  if (PX2) { (*acc).b0 += dot8(u1, c0); }
  if (CO8 || CO16) {
    let c1 = bcast8(select(vec4f(0.0), wp[wl + o1], ok));
    (*acc).a1 += dot8(u0, c1);
    if (PX2) { (*acc).b1 += dot8(u1, c1); }
  }
  if (CO16) {
    let c2 = bcast8(select(vec4f(0.0), wp[wl + o2], ok));
    (*acc).a2 += dot8(u0, c2);
    let c3 = bcast8(select(vec4f(0.0), wp[wl + o3], ok));
    (*acc).a3 += dot8(u0, c3);
    if (PX2) {
      (*acc).b2 += dot8(u1, c2);
      (*acc).b3 += dot8(u1, c3);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let wi = wid.y * nwg.x + wid.x;
  let phases = select(1u, p.sw, TRANSPOSED);
  let nq = (p.ow + phases - 1u) / phases;
  let px = select(1u, 2u, PX2);
  let nxw = (nq + px * WG - 1u) / (px * WG);
  let cpl = select(select(4u, 8u, CO8), 16u, CO16);
  let ncb = (p.cout + cpl - 1u) / cpl;
  // Uniform across the workgroup: returning here keeps every later broadcast in uniform control flow.
  if (wi >= p.n * ncb * p.oh * phases * nxw) { return; }
  let xw = wi % nxw;
  var t = wi / nxw;
  let rx = t % phases;
  t = t / phases;
  let oy = t % p.oh;
  t = t / p.oh;
  let cb = t % ncb;
  let n = t / ncb;

  let q0 = (xw * WG + lid) * px;
  let hw = p.h * p.w;
  let kk = p.kh * p.kw;
  // Input columns of the 2 outputs: consecutive (TRANSPOSED, one phase) or sw apart (direct).
  let s = select(i32(p.sw), 1, TRANSPOSED);
  let xn = p.x_off + n * p.x_ns;
  let co0 = cb * cpl;
  let wcol = p.w_co4 + co0 / 4u;
  // Vec4 offsets of the block's channel quads; quads past the channels re-read quad 0 (in bounds, never stored).
  let o1 = select(0u, 1u, co0 + 4u < p.cout);
  let o2 = select(0u, 2u, co0 + 8u < p.cout);
  let o3 = select(0u, 3u, co0 + 12u < p.cout);
  // This lane's input channel within a block of 8 (lanes 8.. of a wider subgroup repeat lanes 0..7).
  let l8 = sid & 7u;

  var acc: Acc;
  let wstep = kk * p.w_ld4;
  let nfull = p.cin & ~7u;
  let rem = p.cin - nfull;
  // Taps outside (a tap either reaches this row / phase or not, for the whole workgroup), input channels inside.
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = tapRow(oy, ky);
    if (iy < 0) { continue; }
    let row = xn + u32(iy) * p.w;
    for (var kx = 0u; kx < p.kw; kx++) {
      if (!tapHits(rx, kx)) { continue; }
      let ix = tapCol(q0, rx, kx);
      let m0 = inside(ix);
      let m1 = inside(ix + s);
      let i0 = row + clampx(ix);
      let i1 = row + clampx(ix + s);
      let wtap = (p.w_ci0 * kk + ky * p.kw + kx) * p.w_ld4 + wcol;
      // Full blocks of 8 input channels, then one block for the cin % 8 tail.
      var ci0 = 0u;
      for (; ci0 < nfull; ci0 += 8u) {
        block(&acc, i0 + ci0 * hw, i1 + ci0 * hw, m0, m1, hw, wtap + ci0 * wstep, wstep, l8, 8u, o1, o2, o3);
      }
      if (rem > 0u) {
        block(&acc, i0 + ci0 * hw, i1 + ci0 * hw, m0, m1, hw, wtap + ci0 * wstep, wstep, l8, rem, o1, o2, o3);
      }
    }
  }
  // Output columns: consecutive (direct) or sw apart in phase rx (TRANSPOSED).
  let ox0 = select(q0, rx + p.sw * q0, TRANSPOSED);
  let ox1 = ox0 + select(1u, p.sw, TRANSPOSED);
  store4(n, co0, oy, ox0, acc.a0);
  if (CO8 || CO16) { store4(n, co0 + 4u, oy, ox0, acc.a1); }
  if (CO16) {
    store4(n, co0 + 8u, oy, ox0, acc.a2);
    store4(n, co0 + 12u, oy, ox0, acc.a3);
  }
  if (!PX2) { return; }
  store4(n, co0, oy, ox1, acc.b0);
  if (CO8 || CO16) { store4(n, co0 + 4u, oy, ox1, acc.b1); }
  if (CO16) {
    store4(n, co0 + 8u, oy, ox1, acc.b2);
    store4(n, co0 + 12u, oy, ox1, acc.b3);
  }
}
