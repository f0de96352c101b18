// lib/pad_params.wgsl — the uniform Params of pad and pad_vec4 (launch range, residual offsets, and the output dims /
// input dims / pads-before / input strides of 6 merged dims; documented in pad.wgsl's header), and coords6.

struct Params {
  n: u32, o0: u32, yoff: u32, xbase: i32, value: f32,
  y1: u32, y2: u32, y3: u32, y4: u32, y5: u32,
  x0: u32, x1: u32, x2: u32, x3: u32, x4: u32, x5: u32,
  b0: i32, b1: i32, b2: i32, b3: i32, b4: i32, b5: i32,
  xs0: u32, xs1: u32, xs2: u32, xs3: u32, xs4: u32, xs5: u32,
}

// #include "lib/coords6.wgsl"
