// sgd_update — one torch.optim.SGD step (PyTorch 1.13 _single_tensor_sgd), in place, per element:
//   d = sign * grad (sign = -1 when maximize);  d += weight_decay * param  (when weight_decay != 0)
//   MOMENTUM: buf = FIRST ? d : momentum * buf + (1 - dampening) * d;  d = NESTEROV ? d + momentum * buf : buf
//   param -= lr * d
// Flat: one invocation per element i < n (sgd_update_vec4: per 4 elements, n a multiple of 4); param, grad and buf
// are windows of one range (the op splits parameters over the binding limit). Without MOMENTUM buf is a dummy and
// never touched.
// Grid: ceil(n / WG) workgroups, 1-D folded. Bindings: 0 grad (read) · 1 param · 2 buf (read_write) · 3 p (uniform).

// #include "lib/sgd_update_step.wgsl"

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  var b = 0.0;
  if (MOMENTUM && !FIRST) { b = buf[i]; }
  let s = sgd_step(vec4f(param[i]), vec4f(grad[i]), vec4f(b));
  if (MOMENTUM) { buf[i] = s.buf.x; }
  param[i] = s.param.x;
}
