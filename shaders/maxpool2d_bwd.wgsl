// maxpool2d_bwd — gx[q, iy, ix] = sum of gy[q, oy, ox] over the windows (oy, ox) whose saved argmax
// idx[q, oy, ox] is iy * W + ix: a gather from the saved indices (no atomics; overlapping windows included).
// The windows that can contain (iy, ix) are oy = (iy + ph - kh * dh) / sh for kh < KH where that divides
// exactly (same for ox); they are visited in ascending (oy, ox) order, the order in which PyTorch's CPU
// scatter adds them, so the sums are the same floats.
// Layout: NCHW-contiguous planes q: gx [planes, H, W], gy and idx [planes, OH, OW].
// One invocation per input element of the `total` = planes-in-dispatch * H * W; a large tensor runs in blocks of
// planes bound as windows at aligned offsets: xo (gx) and yo (gy, idx) are the residual element offsets of the
// block's first plane. 1-D grid folded past 65,535 workgroups.
// Bindings: 0 idx (read, i32) · 1 gy (read) · 2 gx (write) · 3 p (uniform).

override WG: u32 = 64u;
// #include "lib/maxpool2d_bwd_io.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.total) { return; }
  let hw = p.h * p.w;
  let q = i / hw;
  let r = i - q * hw;
  let iy = r / p.w;
  let ix = r - iy * p.w;
  let want = i32(r);
  let oplane = p.yo + q * p.oh * p.ow;
  var acc = 0.0;
  // kh descending visits oy ascending.
  for (var a = i32(p.kh) - 1; a >= 0; a--) {
    let ty = i32(iy + p.ph) - a * i32(p.dh);
    if (ty < 0 || ty % i32(p.sh) != 0) { continue; }
    let oy = u32(ty) / p.sh;
    if (oy >= p.oh) { break; }
    for (var b = i32(p.kw) - 1; b >= 0; b--) {
      let tx = i32(ix + p.pw) - b * i32(p.dw);
      if (tx < 0 || tx % i32(p.sw) != 0) { continue; }
      let ox = u32(tx) / p.sw;
      if (ox >= p.ow) { break; }
      let o = oplane + oy * p.ow + ox;
      if (idx[o] == want) { acc += gy[o]; }
    }
  }
  gx[p.xo + i] = acc;
}
