// lib/conv2d_bwd_weight_io.wgsl — the contract the weight-gradient kernels conv2d_bwd_weight, conv2d_bwd_weight_sg and
// conv2d_bwd_weight_tiled share (documented in shaders/conv2d_bwd_weight.wgsl): Params (lib/conv2d_bwd_weight_params.wgsl)
// and bindings 0 g · 1 x (read) · 2 part (write) · 3 p (uniform Params). Only the split of the work differs.

// #include "lib/conv2d_bwd_weight_params.wgsl"

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
