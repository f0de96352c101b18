// lib/maxpool2d_bwd_io.wgsl — the contract that maxpool2d_bwd and its 2x2 stride-2 variant maxpool2d_bwd_k2s2 share:
// Params (the pooling geometry and the block's window offsets) and bindings 0 idx (read, i32) · 1 gy (read)
// · 2 gx (write) · 3 p (uniform), documented in each kernel's header.

// #include "lib/maxpool2d_params.wgsl"

@group(0) @binding(0) var<storage, read> idx: array<i32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
