// avgpool2d_fwd — y[q, oy, ox] = sum over the window's in-bounds x[q, iy, ix] / divisor (lib/avgpool2d_window.wgsl),
// the window rows iy in [oy * sh - ph, oy * sh - ph + KH) and columns ix in [ox * sw - pw, ox * sw - pw + KW);
// padding adds nothing. q is an (n, c) plane of the NCHW-contiguous x [planes, H, W] and y [planes, OH, OW].
// A window with no in-bounds element gives 0 (PyTorch). The sum runs in f32, rows then columns (PyTorch's order).
// One invocation per output element of the `total` = planes-in-dispatch * OH * OW outputs; a large tensor runs in
// blocks of planes bound as windows that start at aligned offsets: xo and yo are the residual element offsets of
// the block's first plane in the x and y windows. 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params, declared in lib/avgpool2d_window.wgsl).

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
// #include "lib/avgpool2d_window.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.total) { return; }
  let at = plane_coords(i, p.oh, p.ow);
  let win = avg_window(at.y, at.z);
  let c = avg_inside(win);
  if (c.x >= c.z || c.y >= c.w) {
    y[p.yo + i] = 0.0;
    return;
  }
  let plane = p.xo + at.x * p.h * p.w;
  var s = 0.0;
  for (var iy = c.x; iy < c.z; iy++) {
    let row = plane + u32(iy) * p.w;
    for (var ix = c.y; ix < c.w; ix++) {
      s += x[row + u32(ix)];
    }
  }
  y[p.yo + i] = s / avg_divisor(win);
}
