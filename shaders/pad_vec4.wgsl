// pad_vec4 — pad (same contract, params and meaning: constant padding over up to 6 merged dims, negative pads crop)
// with 4 consecutive outputs of the innermost dim per invocation, stored as one vec4:
//   y[yoff + i + j] = x[xbase + sum_k e_k * xs_k] (e_5 + j in place of e_5) if inside, else value, j < 4.
// Why: pad's cost on lavapipe is per element: the 5 divisions of coords6 and a per-lane store loop. Here one
// decode and one vec4 store serve 4 outputs; dims 0-4 are checked once, dim 5 per output (x loads stay scalar: a
// crop's rows start anywhere).
// One invocation per 4 outputs; 1-D grid over n / 4 folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write, vec4) · 2 p (uniform Params).
// Assumes (the launcher checks): y5 (so n) and yoff are multiples of 4.

override WG: u32 = 256u;

// #include "lib/pad_params.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = 4u * ((wid.y * nwg.x + wid.x) * WG + lid);
  if (i >= p.n) { return; }
  let c = coords6(i, p.y1, p.y2, p.y3, p.y4, p.y5);
  let e0 = i32(c[0] + p.o0) - p.b0;
  let e1 = i32(c[1]) - p.b1;
  let e2 = i32(c[2]) - p.b2;
  let e3 = i32(c[3]) - p.b3;
  let e4 = i32(c[4]) - p.b4;
  let e5 = i32(c[5]) - p.b5;
  // A negative e wraps to a large u32, so one unsigned compare checks both ends.
  let row = u32(e0) < p.x0 && u32(e1) < p.x1 && u32(e2) < p.x2 && u32(e3) < p.x3 && u32(e4) < p.x4;
  var v = vec4f(p.value);
  if (row) {
    let k = p.xbase + e0 * i32(p.xs0) + e1 * i32(p.xs1) + e2 * i32(p.xs2) + e3 * i32(p.xs3) + e4 * i32(p.xs4);
    for (var j = 0; j < 4; j++) {
      let ej = e5 + j;
      if (u32(ej) < p.x5) { v[j] = x[u32(k + ej * i32(p.xs5))]; }
    }
  }
  y[(p.yoff + i) / 4u] = v;
}
