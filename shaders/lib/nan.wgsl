// lib/nan.wgsl — NaN that propagates as in PyTorch, on any compiler. WGSL lets implementations assume no NaN, and
// max / min of a NaN are unspecified (lavapipe returns the other operand), so NaN is tested by its bit pattern
// and chosen explicitly: relu(NaN) = NaN (its gradient passes g, as PyTorch's threshold_backward), max / min with a
// NaN operand = NaN (torch.maximum, torch.max, max_pool2d).

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn is_nan4(v: vec4f) -> vec4<bool> {
  return (bitcast<vec4u>(v) & vec4u(0x7fffffffu)) > vec4u(0x7f800000u);
}

/** Where relu keeps its input (and its gradient passes): v > 0, or v is NaN. */
fn relu_keeps(v: f32) -> bool {
  return v > 0.0 || is_nan(v);
}

fn relu_keeps4(v: vec4f) -> vec4<bool> {
  return (v > vec4f(0.0)) | is_nan4(v);
}

/** max(a, b), NaN when either is. */
fn max_nan(a: f32, b: f32) -> f32 {
  return select(select(max(a, b), b, is_nan(b)), a, is_nan(a));
}

/** min(a, b), NaN when either is. */
fn min_nan(a: f32, b: f32) -> f32 {
  return select(select(min(a, b), b, is_nan(b)), a, is_nan(a));
}
