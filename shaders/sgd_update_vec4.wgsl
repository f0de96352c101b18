// sgd_update_vec4 — sgd_update (same contract, params and bindings: see shaders/sgd_update.wgsl) with one invocation
// per 4 consecutive elements, every load and store a vec4 (on lavapipe each storage access is a per-lane loop, so a
// vec4 costs about what one scalar does). Needs n a multiple of 4 (the op takes it for such parameters).
// Grid: ceil(n / 4 / WG) workgroups, 1-D folded. Bindings as sgd_update, read as vec4.

// #include "lib/sgd_update_step.wgsl"

@group(0) @binding(0) var<storage, read> grad: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> buf: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n / 4u) { return; }
  var b = vec4f(0.0);
  if (MOMENTUM && !FIRST) { b = buf[i]; }
  let s = sgd_step(param[i], grad[i], b);
  if (MOMENTUM) { buf[i] = s.buf; }
  param[i] = s.param;
}
