// softmax_plane_dot — the row sums of the softmax backward over planes, for rows too long for one binding:
// visiting the planes d of a chunk of np pixels one at a time, acc = sum_d g * y (softmax) or sum_d g (LOG):
//   first plane (first = 1): acc = g * y (or g);   else: acc += g * y (or g).
// One invocation per pixel k < np; y[off + k] and g[off + k] are the pixel's values in the plane (one shape, the
// same window). Grid: ceil(np / WG) workgroups, 1-D folded.
// Bindings: 0 y · 1 g (read) · 2 acc (read_write) · 3 p (uniform).

override WG: u32 = 64u;
override LOG: bool = false;

struct Params { np: u32, off: u32, first: u32 }

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WG + lid;
  if (k >= p.np) { return; }
  var v = g[p.off + k];
  if (!LOG) { v *= y[p.off + k]; }
  if (p.first != 0u) { acc[k] = v; } else { acc[k] += v; }
}
