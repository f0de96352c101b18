// lib/matmul_common.wgsl — what the matmul kernels share: their Params (the contract of shaders/matmul.wgsl), and for
// the 4x4-block kernels the block of an invocation.

struct Params { m: u32, n: u32, k: u32, ta: u32, tb: u32, batch: u32, sa: u32, sb: u32, oa: u32, ob: u32, oc: u32, acc: u32 }

/** Invocation i's 4x4 block of [m, n] outputs: (batch, first row, first col); x is past the batch when i is past the blocks. */
fn block4(i: u32, m: u32, n: u32) -> vec3u {
  let bm = (m + 3u) / 4u;
  let bn = (n + 3u) / 4u;
  return vec3u(i / (bm * bn), ((i / bn) % bm) * 4u, (i % bn) * 4u);
}
