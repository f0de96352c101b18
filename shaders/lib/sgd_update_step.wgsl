// lib/sgd_update_step.wgsl — what sgd_update and sgd_update_vec4 share: their overrides, Params and uniform binding
// (3 p; the contract of shaders/sgd_update.wgsl) and the step itself on 4 lanes (the scalar kernel runs it on one
// value splat to 4; the unused lanes are dead code after inlining). b: the momentum buffer's old value (unused when
// FIRST or !MOMENTUM).

override WG: u32 = 64u;
override MOMENTUM: bool = false;
override NESTEROV: bool = false;
override FIRST: bool = false;

struct Params { n: u32, lr: f32, momentum: f32, one_minus_dampening: f32, weight_decay: f32, sign: f32 }

@group(0) @binding(3) var<uniform> p: Params;

// The new parameter and momentum buffer values.
struct SgdStep { param: vec4f, buf: vec4f }

fn sgd_step(x: vec4f, grad: vec4f, b: vec4f) -> SgdStep {
  var d = p.sign * grad;
  if (p.weight_decay != 0.0) { d += p.weight_decay * x; }
  var nb = b;
  if (MOMENTUM) {
    if (FIRST) { nb = d; } else { nb = p.momentum * b + p.one_minus_dampening * d; }
    if (NESTEROV) { d += p.momentum * nb; } else { d = nb; }
  }
  return SgdStep(x - p.lr * d, nb);
}
