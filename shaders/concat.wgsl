// concat — copies `rows` blocks of `len` elements between two strided layouts:
//   dst[doff + o * dstride + j] = src[soff + o * sstride + j],   o < rows, j < len,  n = rows * len.
// torch.cat forward: src = one input (sstride = len), dst = the output (dstride = the output's row, doff = the
// input's place in that row); backward: the reverse, a slice of gy back to one input. soff/doff are the residual
// offsets left when the op binds an aligned window below the first element (tensors over the binding limit).
// One invocation per element (o, j); 1-D grid folded past 65,535 workgroups.
// Bindings: 0 src (read) · 1 dst (write) · 2 p (uniform Params).
// Assumes the op sized the windows: every index lies inside its binding.

override WG: u32 = 256u;

struct Params {
  n: u32, len: u32, soff: u32, sstride: u32, doff: u32, dstride: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let o = i / p.len;
  let j = i - o * p.len;
  dst[p.doff + o * p.dstride + j] = src[p.soff + o * p.sstride + j];
}
