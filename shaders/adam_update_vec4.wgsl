// adam_update_vec4 — adam_update (same contract, params and bindings: see shaders/adam_update.wgsl) with one
// invocation per 4 consecutive elements, every load and store a vec4 (on lavapipe each storage access is a per-lane
// loop, so a vec4 costs about what one scalar does). Needs n a multiple of 4 (the op takes it for such parameters).
// Grid: ceil(n / 4 / WG) workgroups, 1-D folded. Bindings as adam_update, read as vec4.

// #include "lib/adam_update_step.wgsl"

@group(0) @binding(0) var<storage, read> grad: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> m: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> vmax: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n / 4u) { return; }
  var vm = vec4f(0.0);
  if (AMSGRAD) { vm = vmax[i]; }
  let s = adam_step(param[i], grad[i], m[i], v[i], vm);
  m[i] = s.m;
  v[i] = s.v;
  if (AMSGRAD) { vmax[i] = s.vmax; }
  param[i] = s.param;
}
