// lib/maxpool2d_bwd_io.wgsl — the contract that maxpool2d_bwd and its 2x2 stride-2 variant maxpool2d_bwd_k2s2 share:
// Params (the pooling geometry and the block's window offsets) and bindings 0 idx (read, i32) · 1 gy (read)
// · 2 gx (write) · 3 p (uniform), documented in each kernel's header.

struct Params {
  total: u32, h: u32, w: u32, oh: u32, ow: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, dh: u32, dw: u32,
  xo: u32, yo: u32,
}

@group(0) @binding(0) var<storage, read> idx: array<i32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
