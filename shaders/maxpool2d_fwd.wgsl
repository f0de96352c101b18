// maxpool2d_fwd — y[q, oy, ox] = max over kh < KH, kw < KW of x[q, oy * sh - ph + kh * dh, ox * sw - pw + kw * dw],
// idx[q, oy, ox] = ih * W + iw of that max: the flat index within plane q (PyTorch's convention; i32 here).
// q is an (n, c) plane of the NCHW-contiguous x [planes, H, W] and y, idx [planes, OH, OW].
// Padding never wins (it is skipped, as -inf). Scan order kh then kw; the first in-bounds element starts the
// max, and a later one replaces it only when strictly greater (ties keep the first) or NaN (tested on the
// bits, so it survives fast-math): PyTorch's CPU rule, so an all -inf window points at its first element.
// One invocation per output element of the `total` = planes-in-dispatch * OH * OW outputs; a large tensor runs
// in blocks of planes bound as windows that start at aligned offsets: xo and yo are the residual element
// offsets of the block's first plane in the x and y / idx windows. 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 idx (write, i32; not touched when !INDICES) · 3 p (uniform).
// A window with no in-bounds element (only when the dilation skips over a tiny input) gives -inf and index -1
// (PyTorch: -inf and an index outside the plane); the backward then routes nothing from it.

override WG: u32 = 64u;
override INDICES: bool = true;

// #include "lib/maxpool2d_params.wgsl"

// #include "lib/nan.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> idx: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;


@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.total) { return; }
  let ohw = p.oh * p.ow;
  let q = i / ohw;
  let r = i - q * ohw;
  let oy = r / p.ow;
  let ox = r - oy * p.ow;
  let h = i32(p.h);
  let w = i32(p.w);
  let iy0 = i32(oy * p.sh) - i32(p.ph);
  let ix0 = i32(ox * p.sw) - i32(p.pw);
  let plane = p.xo + q * p.h * p.w;
  var m = 0.0;
  var mi = -1;
  for (var a = 0u; a < p.kh; a++) {
    let iy = iy0 + i32(a * p.dh);
    if (iy < 0) { continue; }
    if (iy >= h) { break; }
    for (var b = 0u; b < p.kw; b++) {
      let ix = ix0 + i32(b * p.dw);
      if (ix < 0) { continue; }
      if (ix >= w) { break; }
      let j = iy * w + ix;
      let v = x[plane + u32(j)];
      if (mi < 0 || v > m || is_nan(v)) {
        m = v;
        mi = j;
      }
    }
  }
  if (mi < 0) {
    // -inf from a runtime value: WGSL rejects an infinite constant expression.
    var ninf = 0xff800000u;
    m = bitcast<f32>(ninf);
  }
  y[p.yo + i] = m;
  if (INDICES) { idx[p.yo + i] = mi; }
}
