import { record } from '../autograd.js';
import { ShapeError } from '../../core/errors.js';
import { fmt, numel, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** A view of x with another shape of the same size; shares storage, no kernel. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  if (numel(shape) !== x.numel) throw new ShapeError('reshape', `cannot view ${fmt(x.shape)} as ${fmt(shape)}`, [x.shape, shape]);
  const y = new Tensor(x.shareRef('reshape'), shape, x.dtype);
  return record('reshape', [x], y, [], (gy) => [reshape(gy, x.shape)]);
}
