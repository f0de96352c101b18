// softmax_bwd — the gradient of softmax (LOG = false) or log_softmax (LOG = true) from its output y and the
// upstream gradient g, along one dim viewed as [outer, D, inner]:
//   softmax:     gx = y * (g - sum_d g * y)
//   log_softmax: gx = g - exp(y) * sum_d g
// One invocation per row r = o * inner + i over the global rows [row0, row0 + rows); global element
// e = (o * D + d) * inner + i; y, g and gx have one shape and are bound as the same window starting at global
// element `base`. Grid: ceil(rows / WG) workgroups, 1-D (folded past 65,535).
// Bindings: 0 y (read) · 1 g (read) · 2 gx (write) · 3 p (uniform).

override WG: u32 = 64u;
override LOG: bool = false;

struct Params { rows: u32, row0: u32, D: u32, inner: u32, base: u32 }

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let local = (wid.y * nwg.x + wid.x) * WG + lid;
  if (local >= p.rows) { return; }
  let r = p.row0 + local;
  let o = r / p.inner;
  let i = r - o * p.inner;
  let start = o * p.D * p.inner + i - p.base;
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) {
    let k = start + d * p.inner;
    if (LOG) { s += g[k]; } else { s += g[k] * y[k]; }
  }
  for (var d = 0u; d < p.D; d++) {
    let k = start + d * p.inner;
    if (LOG) { gx[k] = g[k] - exp(y[k]) * s; } else { gx[k] = y[k] * (g[k] - s); }
  }
}
