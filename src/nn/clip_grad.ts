import { getDefaultDevice, noGrad } from '../tensor/context.js';
import { full } from '../tensor/creation.js';
import { ArgumentError } from '../core/errors.js';
import { abs, add, div, maximum, minimum, mul, pow, sqrt } from '../tensor/ops/elementwise.js';
import { max, sum } from '../tensor/ops/reduce.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { copyInto } from './assign.js';

/**
 * torch.nn.utils.clip_grad_norm_: scales every grad in place by min(1, maxNorm / (total + 1e-6)), where
 * total is the normType-norm of all grads together (Infinity: the largest |g|). Returns total as a
 * one-element tensor (yours to dispose); everything stays on the device, nothing is read back.
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (!(normType > 0)) throw new ArgumentError('clipGradNorm_', `normType must be positive (or Infinity), got ${normType}`);
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g && !g.disposed);
  if (!grads.length) return full([], 0, { device: params[0]?.device ?? getDefaultDevice() });
  return noGrad(() => {
    const total = tidy(() => {
      if (normType === Infinity) return grads.map((g) => max(abs(g))).reduce((a, b) => maximum(a, b));
      const part = (g: Tensor) => (normType === 2 ? sum(mul(g, g)) : normType === 1 ? sum(abs(g)) : sum(pow(abs(g), normType)));
      const s = grads.map(part).reduce((a, b) => add(a, b));
      return normType === 2 ? sqrt(s) : normType === 1 ? s : pow(s, 1 / normType);
    });
    tidy(() => {
      const coef = minimum(div(maxNorm, add(total, 1e-6)), 1);
      for (const g of grads) copyInto(g, mul(g, coef), 'clipGradNorm_');
    });
    return total;
  });
}
