import { getDefaultDevice, noGrad } from '../tensor/context.js';
import { full } from '../tensor/creation.js';
import { ArgumentError } from '../core/errors.js';
import { checkNumber } from '../core/options.js';
import { abs, add, div, maximum, minimum, mul, pow, sqrt, sub } from '../tensor/ops/elementwise.js';
import { max, sum } from '../tensor/ops/reduce.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { copyInto } from './assign.js';

/**
 * torch.nn.utils.clip_grad_norm_: scales every grad in place by min(1, maxNorm / (total + 1e-6)), where
 * total is the normType-norm of all grads together (Infinity or 'inf': the largest |g|). Returns total as a
 * one-element tensor (yours to dispose); everything stays on the device, nothing is read back. As torch
 * 1.13 with error_if_nonfinite=False: a NaN total makes every grad NaN, an infinite one scales them by 0.
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType: number | 'inf' = 2): Tensor {
  checkNumber('clipGradNorm_', 'maxNorm', maxNorm, { min: 0, finite: false });
  if (normType === 'inf') normType = Infinity;
  if (!(typeof normType === 'number' && normType > 0)) throw new ArgumentError('clipGradNorm_', `normType must be positive (or Infinity), got ${normType}`);
  const p = normType;
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g && !g.disposed);
  if (!grads.length) return full([], 0, { device: params[0]?.device ?? getDefaultDevice() });
  return noGrad(() => {
    const total = tidy(() => {
      if (p === Infinity) return grads.map((g) => max(abs(g))).reduce((a, b) => maximum(a, b));
      const part = (g: Tensor) => (p === 2 ? sum(mul(g, g)) : p === 1 ? sum(abs(g)) : sum(pow(abs(g), p)));
      const s = grads.map(part).reduce((a, b) => add(a, b));
      return p === 2 ? sqrt(s) : p === 1 ? s : pow(s, 1 / p);
    });
    tidy(() => {
      // torch.clamp(c, max=1) keeps NaN; min() on a GPU may drop it, so NaN is carried by arithmetic:
      // c - c is 0 for a finite c and NaN for a NaN one (an infinite total gives c = 0, as in torch).
      // With maxNorm = Infinity, c is Infinity for any finite total: then total - total carries the NaN
      // (torch: inf / inf = NaN for an infinite total too).
      const c = div(maxNorm, add(total, 1e-6));
      const coef = maxNorm === Infinity ? add(1, sub(total, total)) : add(minimum(c, 1), sub(c, c));
      for (const g of grads) copyInto(g, mul(g, coef), 'clipGradNorm_');
    });
    return total;
  });
}
