// lib/conv2d_bwd_weight_params.wgsl — the weight-gradient kernels' uniform Params (the contract of conv2d_bwd_weight,
// documented in shaders/conv2d_bwd_weight.wgsl) and their binding 3, shared by lib/conv2d_bwd_weight_io.wgsl (the
// kernels with scalar bindings), conv2d_bwd_weight_k2s2.wgsl (which binds g, x and part as vec4) and
// conv2d_bwd_weight_few.wgsl (g and x as vec4).

struct Params {
  n: u32, a: u32, gh: u32, gw: u32, b: u32, xh: u32, xw: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, ph: i32, pw: i32, dh: u32, dw: u32,
  g_off: u32, g_ns: u32, x_off: u32, x_ns: u32,
  rows: u32, nslices: u32, a_base: u32, b_base: u32, a_tot: u32, b_tot: u32,
}

@group(0) @binding(3) var<uniform> p: Params;
