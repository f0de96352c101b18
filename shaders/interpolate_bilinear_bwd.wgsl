// interpolate_bilinear_bwd — the adjoint of interpolate_bilinear as a gather (no atomics):
//   gx[q, iy, ix] = sum_oy wh(oy, iy) * sum_ox ww(ox, ix) * gy[q, oy, ox],
//   w(o, i) = (i0(o) == i ? l0(o) : 0) + (i1(o) == i ? l1(o) : 0) with i0, i1, l0, l1 exactly as the forward's
//   (at the last input both taps may hit i). The outputs that can read input i have src(o) in [i-1, i+1): the loop
//   scans that window (inverted in f32 and widened by a margin) and weighs every candidate with the forward's
//   own taps, so rounding of the window cannot drop a contribution. align_corners with one output (s = 0): every
//   output reads input 0, the window is all outputs.
// A launch covers n = planes * IH * IW input gradients of consecutive planes q (split over the binding limit;
// goff/xoff are the residual offsets of the aligned windows).
// One invocation per input element; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 gy (read) · 1 gx (write) · 2 p (uniform Params).

override WG: u32 = 256u;

struct Params {
  n: u32, ih: u32, iw: u32, oh: u32, ow: u32, goff: u32, xoff: u32, sh: f32, sw: f32, align: u32,
}

@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read_write> gx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// #include "lib/bilinear_tap.wgsl"

// The weight of input i in output o along one axis (the forward's taps).
fn weight(o: u32, i: u32, s: f32, n_in: u32) -> f32 {
  let t = bilinear_tap(o, s, n_in, p.align == 1u);
  return select(0.0, 1.0 - t.l1, t.i0 == i) + select(0.0, t.l1, t.i1 == i);
}

// [lo, hi) of the outputs that may read input i (a superset).
fn window(i: u32, n_out: u32, s: f32) -> vec2u {
  if (s <= 0.0) { return vec2u(0u, n_out); }
  var lo: f32;
  var hi: f32;
  if (p.align == 1u) {
    lo = (f32(i) - 1.0) / s;
    hi = (f32(i) + 1.0) / s;
  } else {
    lo = (f32(i) - 0.5) / s - 0.5;
    hi = (f32(i) + 1.5) / s - 0.5;
  }
  return vec2u(u32(max(floor(lo) - 1.0, 0.0)), u32(clamp(ceil(hi) + 1.0, 0.0, f32(n_out))));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let ix = i % p.iw;
  let t = i / p.iw;
  let iy = t % p.ih;
  let q = t / p.ih;
  let wy = window(iy, p.oh, p.sh);
  let wx = window(ix, p.ow, p.sw);
  let base = p.goff + q * p.oh * p.ow;
  var acc = 0.0;
  for (var oy = wy.x; oy < wy.y; oy++) {
    let a = weight(oy, iy, p.sh, p.ih);
    if (a == 0.0) { continue; }
    var row = 0.0;
    for (var ox = wx.x; ox < wx.y; ox++) {
      let b = weight(ox, ix, p.sw, p.iw);
      if (b != 0.0) { row += b * gy[base + oy * p.ow + ox]; }
    }
    acc += a * row;
  }
  gx[p.xoff + i] = acc;
}
