// maxpool2d_bwd_k2s2 — maxpool2d_bwd (same contract and params: gx[q, iy, ix] = sum of gy[q, oy, ox] over the
// windows whose saved argmax idx[q, oy, ox] is iy * W + ix) for the U-Net's 2x2 stride-2 pooling without padding
// or dilation (floor or ceil mode): windows do not overlap, so each input element gets at most one gradient and
// the result is gy at the argmax, 0 elsewhere (the same floats as the gather).
// The input plane is tiled by 2x2 cells (ty, tx) < (ceil(H / 2), ceil(W / 2)); one invocation per cell of the
// planes in the dispatch reads its window's idx and gy once (when the cell is a window: ty < OH, tx < OW) and
// writes the cell's in-bounds elements (cells past the last window, in floor mode, write zeros). The generic
// kernel did a per-element division chain and up to KH x KW index loads for one element.
// Layout: NCHW-contiguous planes q: gx [planes, H, W], gy and idx [planes, OH, OW]; `total` = planes * H * W of
// this block; xo (gx) and yo (gy, idx) are the residual element offsets of the block's first plane in its windows.
// 1-D grid over planes * ceil(H / 2) * ceil(W / 2) cells, folded past 65,535 workgroups.
// Bindings: 0 idx (read, i32) · 1 gy (read) · 2 gx (write) · 3 p (uniform). kh..dw are 2, 2, 2, 2, 0, 0, 1, 1.

override WG: u32 = 64u;
// #include "lib/maxpool2d_bwd_io.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * WG + lid;
  let th = (p.h + 1u) / 2u;
  let tw = (p.w + 1u) / 2u;
  let hw = p.h * p.w;
  let planes = p.total / hw;
  if (t >= planes * th * tw) { return; }
  let q = t / (th * tw);
  let r = t - q * th * tw;
  let ty = r / tw;
  let tx = r - ty * tw;
  var want = -1;
  var v = 0.0;
  if (ty < p.oh && tx < p.ow) {
    let o = p.yo + q * p.oh * p.ow + ty * p.ow + tx;
    want = idx[o];
    v = gy[o];
  }
  let iy = 2u * ty;
  let ix = 2u * tx;
  let row = p.xo + q * hw + iy * p.w + ix;
  let e = i32(iy * p.w + ix);
  let right = ix + 1u < p.w;
  gx[row] = select(0.0, v, want == e);
  if (right) { gx[row + 1u] = select(0.0, v, want == e + 1); }
  if (iy + 1u < p.h) {
    gx[row + p.w] = select(0.0, v, want == e + i32(p.w));
    if (right) { gx[row + p.w + 1u] = select(0.0, v, want == e + i32(p.w) + 1); }
  }
}
