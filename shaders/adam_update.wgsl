// adam_update — one torch.optim.Adam / AdamW step (PyTorch 1.13 _single_tensor_adam / _adamw), in place, per element:
//   g = sign * grad (sign = -1 when maximize)
//   DECOUPLED (AdamW): param *= 1 - lr * weight_decay;  else: g += weight_decay * param (when weight_decay != 0)
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
//   AMSGRAD: vmax = max(vmax, v), v^ = vmax; else v^ = v
//   param -= step_size * m / (sqrt(v^) / bc2_sqrt + eps),  step_size = lr / (1 - beta1^step), bc2_sqrt =
//   sqrt(1 - beta2^step) (both computed in float64 on the host, step counting from 1).
// Flat: one invocation per element i < n (adam_update_vec4: per 4 elements, n a multiple of 4); all buffers are
// windows of one range (the op splits parameters over the binding limit). Without AMSGRAD vmax is a dummy and never
// touched.
// Grid: ceil(n / WG) workgroups, 1-D folded.
// Bindings: 0 grad (read) · 1 param · 2 m · 3 v · 4 vmax (read_write) · 5 p (uniform).

// #include "lib/adam_update_step.wgsl"

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> vmax: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  var vm = 0.0;
  if (AMSGRAD) { vm = vmax[i]; }
  let s = adam_step(vec4f(param[i]), vec4f(grad[i]), vec4f(m[i]), vec4f(v[i]), vec4f(vm));
  m[i] = s.m.x;
  v[i] = s.v.x;
  if (AMSGRAD) { vmax[i] = s.vmax.x; }
  param[i] = s.param.x;
}
