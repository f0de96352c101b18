// lib/activation.wgsl — GELU (exact erf form and the tanh approximation, as torch.nn.functional.gelu) and SiLU
// (x * sigmoid(x), F.silu), with their derivatives, for the unary table rows of src/kernels/elementwise.ts.
// WGSL has no erf: erfc_pos is the Chebyshev-fitted erfc of Numerical Recipes (erfcc), whose *relative* error is
// under 1.2e-7 for every z >= 0, so the normal CDF keeps its relative accuracy in the far left tail too (where
// 1 + erf(x) would cancel). The tanh form likewise writes 1 +- tanh(u) as sigmoids (no cancellation, no overflow).

/** erfc(z) for z >= 0 (relative error < 1.2e-7). */
fn erfc_pos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let q = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(q - z * z);
}

/** The standard normal CDF, 0.5 * erfc(-x / sqrt(2)). */
fn normal_cdf(x: f32) -> f32 {
  let c = 0.5 * erfc_pos(abs(x) * 0.70710678118654752);
  return select(c, 1.0 - c, x >= 0.0);
}

fn gelu_erf(x: f32) -> f32 {
  return x * normal_cdf(x);
}

/** d/dx x * cdf(x) = cdf(x) + x * pdf(x). */
fn gelu_erf_grad(x: f32) -> f32 {
  return normal_cdf(x) + x * 0.39894228040143268 * exp(-0.5 * x * x);
}

/**
 * (1 + tanh(u), 1 - tanh(u)) for GELU's u = sqrt(2 / pi) (x + 0.044715 x^3), as 2 sigmoid(2u) and 2 sigmoid(-2u)
 * from one exp(-2|u|): no cancellation where tanh(u) is near -1 or 1, and no exp overflow for any x.
 */
fn gelu_tanh_pm(x: f32) -> vec2f {
  let u = 0.79788456080286536 * (x + 0.044715 * x * x * x);
  let e = exp(-2.0 * abs(u));
  let big = 2.0 / (1.0 + e);
  let small = 2.0 * e / (1.0 + e);
  return select(vec2f(small, big), vec2f(big, small), u >= 0.0);
}

fn gelu_tanh(x: f32) -> f32 {
  return 0.5 * x * gelu_tanh_pm(x).x;
}

/** PyTorch's gelu_backward (tanh): 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2). */
fn gelu_tanh_grad(x: f32) -> f32 {
  let pm = gelu_tanh_pm(x);
  return 0.5 * pm.x + 0.5 * x * (pm.x * pm.y) * 0.79788456080286536 * (1.0 + 3.0 * 0.044715 * x * x);
}

/** 1 / (1 + e^-x) without exp of a large positive number. */
fn sigmoid_stable(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn silu(x: f32) -> f32 {
  return x * sigmoid_stable(x);
}

/** d/dx x * s(x) = s * (1 + x * (1 - s)). */
fn silu_grad(x: f32) -> f32 {
  let s = sigmoid_stable(x);
  return s * (1.0 + x * (1.0 - s));
}
