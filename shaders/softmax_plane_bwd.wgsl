// softmax_plane_bwd — the softmax (LOG = false) / log_softmax (LOG = true) gradient of one plane of a chunk of np
// pixels from the chunk's row sums acc (softmax_plane_dot, all planes visited):
//   softmax: gx = y * (g - acc);   log_softmax: gx = g - exp(y) * acc
// One invocation per pixel k < np; y, g, gx[off + k] are the pixel's values in the plane (one shape, the same
// window). Grid: ceil(np / WG) workgroups, 1-D folded. Bindings: 0 y · 1 g · 2 acc (read) · 3 gx (write) · 4 p.

override WG: u32 = 64u;
override LOG: bool = false;

struct Params { np: u32, off: u32 }

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> acc: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WG + lid;
  if (k >= p.np) { return; }
  let yv = y[p.off + k];
  let gv = g[p.off + k];
  if (LOG) { gx[p.off + k] = gv - exp(yv) * acc[k]; } else { gx[p.off + k] = yv * (gv - acc[k]); }
}
