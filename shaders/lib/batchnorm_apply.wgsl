// lib/batchnorm_apply.wgsl — the batch-norm apply z = (x - mean) * scale + shift, scale = invstd * weight (invstd
// alone without a weight), shift = bias (no addition at all without a bias, so y = -0.0 stays -0.0).
// One expression for every kernel that computes z: the forward (batchnorm2d_fwd, _vec4) and the backward ones that
// recompute z for the ReLU mask of batchNormRelu (batchnorm2d_bwd_dx, batchnorm2d_bwd_reduce, and their _vec4), so
// the backward's z is the forward's to the bit. The vec4 form is the scalar one per lane.

fn bn_apply(x: f32, mean: f32, scale: f32, shift: f32, has_shift: bool) -> f32 {
  var z = (x - mean) * scale;
  if (has_shift) { z += shift; }
  return z;
}

fn bn_apply4(x: vec4f, mean: f32, scale: f32, shift: f32, has_shift: bool) -> vec4f {
  var z = (x - mean) * scale;
  if (has_shift) { z += shift; }
  return z;
}
