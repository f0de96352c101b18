// lib/class_target.wgsl — the class of a raw class-target element, for every kernel that reads class targets
// (bound as u32: an i32 tensor, or an f32 tensor holding integers).

fn class_target(raw: u32, as_f32: bool) -> i32 {
  if (as_f32) { return i32(bitcast<f32>(raw)); }
  return bitcast<i32>(raw);
}
