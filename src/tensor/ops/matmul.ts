import { matmul as matmulKernel } from '../../kernels/matmul.js';
import { record } from '../autograd.js';
import { ShapeError } from '../../core/errors.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch } from './util.js';

/** op(a) · op(b) for 2-D tensors, op = transpose when ta / tb; no autograd. */
function matmulRaw(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  const dev = deviceOf('matmul', a, b);
  const [m, k] = ta ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = tb ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2) throw new ShapeError('matmul', `a ${fmt(a.shape)} and b ${fmt(b.shape)}: inner dims ${k} and ${k2} differ`, [a.shape, b.shape]);
  const c = empty(dev, [m, n]);
  // Operands over the binding limit are refused by the runtime (LimitError) before anything is encoded.
  return disposeOnThrow([c], () => {
    launch(matmulKernel, { a, b }, { c }, { m, n, k, ta: +ta, tb: +tb });
    return c;
  });
}

/** a [M, K] · b [K, N] -> [M, N]. Saves a, b. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  for (const t of [a, b]) {
    checkDType('matmul', t, 'f32');
    if (t.ndim !== 2) throw new ShapeError('matmul', `expects 2-D tensors, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`, [a.shape, b.shape]);
  }
  const c = matmulRaw(a, b, false, false);
  return record('matmul', [a, b], c, [a, b], (gy, [sa, sb], needs) => [
    needs[0] ? matmulRaw(gy, sb!, false, true) : null,
    needs[1] ? matmulRaw(sa!, gy, true, false) : null,
  ]);
}
