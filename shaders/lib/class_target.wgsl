// lib/class_target.wgsl — the class of a raw class-target element, for every kernel that reads class targets
// (bound as u32: an i32 tensor, or an f32 tensor that should hold integers).

// The class of an f32 target that is no integer (1.5, NaN, +-Inf) or lies outside the i32 range: -2^31, which is never
// a class and never an ignore index (the ops refuse ignoreIndex -2^31), so every kernel treats it as out of range.
const CLASS_INVALID: i32 = -2147483647 - 1;

fn class_target(raw: u32, as_f32: bool) -> i32 {
  if (as_f32) {
    // NaN and Inf by their bits (a compiler may assume float compares never see them).
    if ((raw & 0x7f800000u) == 0x7f800000u) { return CLASS_INVALID; }
    let f = bitcast<f32>(raw);
    if (f != trunc(f) || abs(f) >= 2147483648.0) { return CLASS_INVALID; }
    return i32(f);
  }
  return bitcast<i32>(raw);
}
