// softmax_fwd — softmax (LOG = false) or log_softmax (LOG = true) along one dim of x viewed as [outer, D, inner]:
//   m = max_d x[o, d, i],  s = sum_d exp(x[o, d, i] - m)  (subtracting the max: no overflow),
//   y[o, d, i] = exp(x[o, d, i] - m) / s   or   y[o, d, i] = x[o, d, i] - m - log(s).
// One invocation per row r = o * inner + i; this launch covers the global rows [row0, row0 + rows). A row reads its
// D values at stride inner, three times (max, sum, write). Global element e = (o * D + d) * inner + i; x and y have
// the same shape and are bound as the same window, which starts at global element `base` (0 when bound whole), so
// the op can split tensors over the binding limit. Grid: ceil(rows / WG) workgroups, 1-D (folded past 65,535).
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform). Assumes the window covers every element of its rows.

override WG: u32 = 64u;
override LOG: bool = false;

struct Params { rows: u32, row0: u32, D: u32, inner: u32, base: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let local = (wid.y * nwg.x + wid.x) * WG + lid;
  if (local >= p.rows) { return; }
  let r = p.row0 + local;
  let o = r / p.inner;
  let i = r - o * p.inner;
  let start = o * p.D * p.inner + i - p.base;
  var m = -0x1.fffffep+127f;
  for (var d = 0u; d < p.D; d++) { m = max(m, x[start + d * p.inner]); }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { s += exp(x[start + d * p.inner] - m); }
  if (LOG) {
    let shift = m + log(s);
    for (var d = 0u; d < p.D; d++) { y[start + d * p.inner] = x[start + d * p.inner] - shift; }
  } else {
    let inv = 1.0 / s;
    for (var d = 0u; d < p.D; d++) { y[start + d * p.inner] = exp(x[start + d * p.inner] - m) * inv; }
  }
}
