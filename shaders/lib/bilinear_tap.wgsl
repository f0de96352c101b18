// lib/bilinear_tap.wgsl — PyTorch's bilinear source taps along one axis, for interpolate_bilinear and its adjoint
// interpolate_bilinear_bwd (which must weigh every output with the forward's own taps, to the bit):
//   src(o) = s * o (align: align_corners=True), else max(s * (o + 0.5) - 0.5, 0);
//   i0 = min(trunc(src), n_in - 1), i1 = i0 + (i0 < n_in - 1), l1 = clamp(src - i0, 0, 1); l0 = 1 - l1.

struct BilinearTap { i0: u32, i1: u32, l1: f32 }

fn bilinear_tap(o: u32, s: f32, n_in: u32, align: bool) -> BilinearTap {
  var src: f32;
  if (align) { src = s * f32(o); } else { src = max(s * (f32(o) + 0.5) - 0.5, 0.0); }
  let i0 = min(u32(src), n_in - 1u);
  let i1 = i0 + select(0u, 1u, i0 < n_in - 1u);
  return BilinearTap(i0, i1, clamp(src - f32(i0), 0.0, 1.0));
}
