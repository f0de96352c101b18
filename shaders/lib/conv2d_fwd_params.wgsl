// lib/conv2d_fwd_params.wgsl — the forward convolution kernels' flags and uniform Params (the contract of
// conv2d_fwd, documented in each kernel's header), shared by lib/conv2d_fwd_io.wgsl (the kernels with scalar x / y
// bindings) and conv2d_fwd_k2s2.wgsl (which binds x and y as vec4).

override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
// The transposed convolution (conv_transpose2d_fwd, conv_transpose2d_fwd_sg).
override TRANSPOSED: bool = false;

struct Params {
  n: u32, cin: u32, h: u32, w: u32, cout: u32, oh: u32, ow: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, ph: i32, pw: i32, dh: u32, dw: u32,
  x_off: u32, x_ns: u32, y_off: u32, y_ns: u32, w_ci0: u32, w_co4: u32, w_ld4: u32, b_co0: u32,
}
