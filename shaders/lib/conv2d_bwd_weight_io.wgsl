// lib/conv2d_bwd_weight_io.wgsl — the contract the weight-gradient kernels conv2d_bwd_weight, conv2d_bwd_weight_sg and
// conv2d_bwd_weight_tiled share (documented in shaders/conv2d_bwd_weight.wgsl): Params and bindings
// 0 g · 1 x (read) · 2 part (write) · 3 p (uniform Params). Only the split of the work differs.

struct Params {
  n: u32, a: u32, gh: u32, gw: u32, b: u32, xh: u32, xw: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, ph: i32, pw: i32, dh: u32, dw: u32,
  g_off: u32, g_ns: u32, x_off: u32, x_ns: u32,
  rows: u32, nslices: u32, a_base: u32, b_base: u32, a_tot: u32, b_tot: u32,
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
