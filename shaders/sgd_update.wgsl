// sgd_update — one torch.optim.SGD step (PyTorch 1.13 _single_tensor_sgd), in place, per element:
//   d = sign * grad (sign = -1 when maximize);  d += weight_decay * param  (when weight_decay != 0)
//   MOMENTUM: buf = FIRST ? d : momentum * buf + (1 - dampening) * d;  d = NESTEROV ? d + momentum * buf : buf
//   param -= lr * d
// Flat: one invocation per element i < n; param, grad and buf are windows of one range (the op splits parameters
// over the binding limit). Without MOMENTUM buf is a dummy and never touched.
// Grid: ceil(n / WG) workgroups, 1-D folded. Bindings: 0 grad (read) · 1 param · 2 buf (read_write) · 3 p (uniform).

override WG: u32 = 64u;
override MOMENTUM: bool = false;
override NESTEROV: bool = false;
override FIRST: bool = false;

struct Params { n: u32, lr: f32, momentum: f32, one_minus_dampening: f32, weight_decay: f32, sign: f32 }

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let x = param[i];
  var d = p.sign * grad[i];
  if (p.weight_decay != 0.0) { d += p.weight_decay * x; }
  if (MOMENTUM) {
    var b: f32;
    if (FIRST) { b = d; } else { b = p.momentum * buf[i] + p.one_minus_dampening * d; }
    buf[i] = b;
    if (NESTEROV) { d += p.momentum * b; } else { d = b; }
  }
  param[i] = x - p.lr * d;
}
