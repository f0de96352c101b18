// avgpool2d_bwd — gx[q, iy, ix] = sum over the outputs (oy, ox) whose window holds (iy, ix) of gy[q, oy, ox] / divisor
// (lib/avgpool2d_window.wgsl): a gather per input element, in (oy, ox) order, the order in which PyTorch's CPU
// backward scatters gy / divisor into each element. Windows holding row iy: oy in
// [ceil((iy + ph - KH + 1) / sh), floor((iy + ph) / sh)], cut to [0, OH) (columns likewise); an element no window
// reaches gets 0. q is an (n, c) plane of gx [planes, H, W] and gy [planes, OH, OW], NCHW-contiguous.
// One invocation per input element of the `total` = planes-in-dispatch * H * W; xo is the residual offset of the
// block in the gx window, yo in the gy window. 1-D grid folded past 65,535 workgroups.
// Bindings: 0 gy (read) · 1 gx (write) · 2 p (uniform Params, declared in lib/avgpool2d_window.wgsl).

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read_write> gx: array<f32>;
// #include "lib/avgpool2d_window.wgsl"

/** The outputs [lo, hi] along one axis whose windows (kernel k, stride s, padding pd) hold input index v; lo > hi: none. */
fn covering(v: u32, k: u32, s: u32, pd: u32, n_out: u32) -> vec2i {
  let first = i32(v + pd) - i32(k) + 1;
  let lo = select(0, (first + i32(s) - 1) / i32(s), first > 0);
  let hi = min(i32((v + pd) / s), i32(n_out) - 1);
  return vec2i(lo, hi);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.total) { return; }
  let at = plane_coords(i, p.h, p.w);
  let rows = covering(at.y, p.kh, p.sh, p.ph, p.oh);
  let cols = covering(at.z, p.kw, p.sw, p.pw, p.ow);
  let plane = p.yo + at.x * p.oh * p.ow;
  var s = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    for (var ox = cols.x; ox <= cols.y; ox++) {
      let o = u32(oy) * p.ow + u32(ox);
      s += gy[plane + o] / avg_divisor(avg_window(u32(oy), u32(ox)));
    }
  }
  gx[p.xo + i] = s;
}
