// lib/batchnorm_chunks.wgsl — the work split that the per-channel reductions batchnorm2d_stats and
// batchnorm2d_bwd_reduce (and their _vec4) share: their Params, which (box channel, chunk) an invocation sums, and
// the walk over the chunk's elements. Over the box of a dispatch (see batchnorm2d_stats), channel cl's sequence
// m = n * HW + j sits at element xo + cl * hw + (m / hw) * chw + m % hw; the _vec4 kernels walk it in vec4 units
// (hw / 4, chw / 4, (xo + cl * hw) / 4, all exact there).

struct Params { nwork: u32, nk: u32, chunk: u32, mtot: u32, hw: u32, chw: u32, c0: u32, ktot: u32, kbase: u32, xo: u32 }

// Invocation wk's box channel cl and chunk k (nk chunks a channel), and the chunk's positions [m0, m1).
struct Chunk { cl: u32, k: u32, m0: u32, m1: u32 }

fn chunk_of(wk: u32, nk: u32, chunk: u32, mtot: u32) -> Chunk {
  let cl = wk / nk;
  let k = wk - cl * nk;
  let m0 = k * chunk;
  return Chunk(cl, k, m0, min(mtot, m0 + chunk));
}

// Element e of position m and its column j in the plane (hw elements a plane, chw between items; e0 = element of
// the channel's m = 0). The kernels step (e, j) along m without a division per element (inline: a struct-valued
// step function measured slower on lavapipe).
struct Walk { e: u32, j: u32 }

fn walk_at(m: u32, hw: u32, chw: u32, e0: u32) -> Walk {
  let n0 = m / hw;
  let j = m - n0 * hw;
  return Walk(e0 + n0 * chw + j, j);
}
