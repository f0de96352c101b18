// interpolate_nearest_bwd — the adjoint of interpolate_nearest as a gather (no atomics):
//   gx[xoff + q*IH*IW + iy*IW + ix] = sum over (oy, ox) with sy(oy) == iy and sx(ox) == ix of gy[goff + q*OH*OW + oy*OW + ox],
//   sy/sx exactly as in the forward (min(floor(f32(o) * s), I - 1)). The output rows that can read iy lie in
//   [iy/sh, (iy+1)/sh) (all the rest for the last row); the loop scans that window widened by a margin and
//   keeps the rows whose forward index really is iy, so f32 rounding of the window cannot drop or add one.
//   Sums run over oy then ox, ascending: the same order as the reference's scatter, so results are bit-exact.
// A launch covers n = planes * IH * IW input gradients of consecutive planes q (split over the binding limit).
// One invocation per input element; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 gy (read) · 1 gx (write) · 2 p (uniform Params).

override WG: u32 = 256u;

struct Params {
  n: u32, ih: u32, iw: u32, oh: u32, ow: u32, goff: u32, xoff: u32, sh: f32, sw: f32,
}

@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read_write> gx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn src_index(o: u32, s: f32, n_in: u32) -> u32 {
  return min(u32(floor(f32(o) * s)), n_in - 1u);
}

// [lo, hi) of the outputs that may read input i (a superset; callers recheck with src_index).
fn window(i: u32, n_in: u32, n_out: u32, s: f32) -> vec2u {
  let lo = u32(max(floor(f32(i) / s) - 1.0, 0.0));
  var hi = u32(min(ceil(f32(i + 1u) / s) + 1.0, f32(n_out)));
  if (i == n_in - 1u) { hi = n_out; }
  return vec2u(lo, hi);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let ix = i % p.iw;
  let t = i / p.iw;
  let iy = t % p.ih;
  let q = t / p.ih;
  let wy = window(iy, p.ih, p.oh, p.sh);
  let wx = window(ix, p.iw, p.ow, p.sw);
  let base = p.goff + q * p.oh * p.ow;
  var acc = 0.0;
  for (var oy = wy.x; oy < wy.y; oy++) {
    if (src_index(oy, p.sh, p.ih) != iy) { continue; }
    for (var ox = wx.x; ox < wx.y; ox++) {
      if (src_index(ox, p.sw, p.iw) == ix) { acc += gy[base + oy * p.ow + ox]; }
    }
  }
  gx[p.xoff + i] = acc;
}
