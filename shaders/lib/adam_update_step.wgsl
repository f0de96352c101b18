// lib/adam_update_step.wgsl — what adam_update and adam_update_vec4 share: their overrides, Params and uniform binding
// (5 p; the contract of shaders/adam_update.wgsl) and the step itself on 4 lanes (the scalar kernel runs it on one
// value splat to 4; the unused lanes are dead code after inlining). vmax: the old maximum (unused without AMSGRAD).

override WG: u32 = 64u;
override DECOUPLED: bool = false;
override AMSGRAD: bool = false;

struct Params {
  n: u32, beta1: f32, one_minus_beta1: f32, beta2: f32, one_minus_beta2: f32, eps: f32, weight_decay: f32,
  decay: f32, sign: f32, step_size: f32, bc2_sqrt: f32,
}

@group(0) @binding(5) var<uniform> p: Params;

// The new parameter, moments and maximum.
struct AdamStep { param: vec4f, m: vec4f, v: vec4f, vmax: vec4f }

fn adam_step(param: vec4f, grad: vec4f, m: vec4f, v: vec4f, vmax: vec4f) -> AdamStep {
  var x = param;
  var g = p.sign * grad;
  if (DECOUPLED) {
    x *= p.decay;
  } else if (p.weight_decay != 0.0) {
    g += p.weight_decay * x;
  }
  let mi = p.beta1 * m + p.one_minus_beta1 * g;
  let vi = p.beta2 * v + p.one_minus_beta2 * g * g;
  var vh = vi;
  if (AMSGRAD) { vh = max(vmax, vi); }
  return AdamStep(x - p.step_size * (mi / (sqrt(vh) / p.bc2_sqrt + p.eps)), mi, vi, vh);
}
