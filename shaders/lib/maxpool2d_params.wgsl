// lib/maxpool2d_params.wgsl — the Params of every max-pooling kernel (maxpool2d_fwd, maxpool2d_fwd_k2s2,
// maxpool2d_bwd, maxpool2d_bwd_k2s2; src/kernels/pool.ts MAXPOOL2D_PARAMS): the block's element count, the pooling
// geometry, and the block's residual window offsets xo (x / gx) and yo (y, idx / gy).

struct Params {
  total: u32, h: u32, w: u32, oh: u32, ow: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, dh: u32, dw: u32,
  xo: u32, yo: u32,
}
