// adam_update — one torch.optim.Adam / AdamW step (PyTorch 1.13 _single_tensor_adam / _adamw), in place, per element:
//   g = sign * grad (sign = -1 when maximize)
//   DECOUPLED (AdamW): param *= 1 - lr * weight_decay;  else: g += weight_decay * param (when weight_decay != 0)
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
//   AMSGRAD: vmax = max(vmax, v), v^ = vmax; else v^ = v
//   param -= step_size * m / (sqrt(v^) / bc2_sqrt + eps),  step_size = lr / (1 - beta1^step), bc2_sqrt =
//   sqrt(1 - beta2^step) (both computed in float64 on the host, step counting from 1).
// Flat: one invocation per element i < n; all buffers are windows of one range (the op splits parameters over the
// binding limit). Without AMSGRAD vmax is a dummy and never touched.
// Grid: ceil(n / WG) workgroups, 1-D folded.
// Bindings: 0 grad (read) · 1 param · 2 m · 3 v · 4 vmax (read_write) · 5 p (uniform).

override WG: u32 = 64u;
override DECOUPLED: bool = false;
override AMSGRAD: bool = false;

struct Params {
  n: u32, beta1: f32, one_minus_beta1: f32, beta2: f32, one_minus_beta2: f32, eps: f32, weight_decay: f32,
  decay: f32, sign: f32, step_size: f32, bc2_sqrt: f32,
}

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> vmax: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  var x = param[i];
  var g = p.sign * grad[i];
  if (DECOUPLED) {
    x *= p.decay;
  } else if (p.weight_decay != 0.0) {
    g += p.weight_decay * x;
  }
  let mi = p.beta1 * m[i] + p.one_minus_beta1 * g;
  let vi = p.beta2 * v[i] + p.one_minus_beta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  var vh = vi;
  if (AMSGRAD) {
    vh = max(vmax[i], vi);
    vmax[i] = vh;
  }
  param[i] = x - p.step_size * (mi / (sqrt(vh) / p.bc2_sqrt + p.eps));
}
