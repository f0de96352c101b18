// interpolate_bilinear — F.interpolate(mode='bilinear') on NCHW planes, PyTorch's rule:
//   src(o) = s * o                                 (align == 1: align_corners=True, s = (I-1)/(O-1), 0 if O == 1)
//   src(o) = max(s * (o + 0.5) - 0.5, 0)           (align == 0, s = 1/scale_factor when given, else I/O)
//   i0 = min(trunc(src), I-1), i1 = i0 + (i0 < I-1), l1 = clamp(src - i0, 0, 1), l0 = 1 - l1 (per axis; the op
//   passes s = 1 when O == I, PyTorch's copy case), and
//   y = lh0 * (lw0 * x[i0h, i0w] + lw1 * x[i0h, i1w]) + lh1 * (lw0 * x[i1h, i0w] + lw1 * x[i1h, i1w]).
// A launch covers n = planes * OH * OW outputs of consecutive planes q (N*C planes split over the binding
// limit; xoff/yoff are the residual offsets of the aligned windows).
// One invocation per output element; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params).

override WG: u32 = 256u;

struct Params {
  n: u32, ih: u32, iw: u32, oh: u32, ow: u32, xoff: u32, yoff: u32, sh: f32, sw: f32, align: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// #include "lib/bilinear_tap.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let ox = i % p.ow;
  let t = i / p.ow;
  let oy = t % p.oh;
  let q = t / p.oh;
  let h = bilinear_tap(oy, p.sh, p.ih, p.align == 1u);
  let w = bilinear_tap(ox, p.sw, p.iw, p.align == 1u);
  let base = p.xoff + q * p.ih * p.iw;
  let r0 = base + h.i0 * p.iw;
  let r1 = base + h.i1 * p.iw;
  let lw0 = 1.0 - w.l1;
  let top = lw0 * x[r0 + w.i0] + w.l1 * x[r0 + w.i1];
  let bot = lw0 * x[r1 + w.i0] + w.l1 * x[r1 + w.i1];
  y[p.yoff + i] = (1.0 - h.l1) * top + h.l1 * bot;
}
