// permute — y[yoff + i] = x[xoff + sum_k c_k * s_k], (c0..c5) the coords of i in the output dims (d1..d5; d0 is
// implied) and s_k the input stride of the input dim that output dim k comes from (torch.permute / transpose as a
// copy). xoff / yoff are the residual offsets of windowed bindings (split.ts). One invocation per output element;
// 1-D grid folded past 65,535. Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params).

override WG: u32 = 256u;

struct Params {
  n: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
  s0: u32, s1: u32, s2: u32, s3: u32, s4: u32, s5: u32,
  xoff: u32, yoff: u32,
}

// #include "lib/coords6.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let c = coords6(i, p.d1, p.d2, p.d3, p.d4, p.d5);
  y[p.yoff + i] = x[p.xoff + c[0] * p.s0 + c[1] * p.s1 + c[2] * p.s2 + c[3] * p.s3 + c[4] * p.s4 + c[5] * p.s5];
}
