// softmax_plane_apply — softmax (LOG = false) or log_softmax (LOG = true) of one plane of a chunk of np pixels from
// the chunk's statistics st = [m (np), s (np), ...] (softmax_plane_stats, all planes visited):
//   y = exp(x - m) / s   or   y = x - m - log(s)
// One invocation per pixel k < np; x[off + k] and y[off + k] are the pixel's values in the plane (x and y have one
// shape and are bound as the same window of the plane). Grid: ceil(np / WG) workgroups, 1-D folded.
// Bindings: 0 x · 1 st (read) · 2 y (write) · 3 p (uniform).

override WG: u32 = 64u;
override LOG: bool = false;

struct Params { np: u32, off: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> st: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WG + lid;
  if (k >= p.np) { return; }
  let m = st[k];
  let s = st[p.np + k];
  let v = x[p.off + k];
  if (LOG) { y[p.off + k] = v - (m + log(s)); } else { y[p.off + k] = exp(v - m) / s; }
}
