// dropout — y = x * m, m = (keep ? scale : 0) per mask unit, keep = (hash(hash(u) ^ key) >> 8) >= threshold,
//   u = (start + i) / group: the element (group = 1, F.dropout) or the whole [n, c] plane (group = H*W...,
//   F.dropout2d). key = hash(per-call seed) comes from the op's seeded generator, threshold = round(p * 2^24),
//   scale = 1/(1-p) (0 when p = 1). A counter-based hash, so the CPU reference draws the same mask, and
//   backward regenerates it: gx = dropout(gy) with the same key. x * 0 keeps NaN as NaN (PyTorch multiplies).
// hash: Chris Wellons' lowbias32 (a bijection on u32 with low bias). start = the launch's first element when
// the op splits a tensor over the binding limit into windows.
// One invocation per element; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params).

override WG: u32 = 256u;

struct Params {
  n: u32, start: u32, group: u32, key: u32, threshold: u32, scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn hash(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let u = (p.start + i) / p.group;
  let keep = (hash(hash(u) ^ p.key) >> 8u) >= p.threshold;
  y[i] = x[i] * select(0.0, p.scale, keep);
}
