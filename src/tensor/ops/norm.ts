// Group normalisation (torch.nn.functional.group_norm) and instance normalisation (group_norm with one group per
// channel: F.instance_norm without running statistics). Each (sample, group) is one channel of a batch-statistics
// batchNorm of x viewed as [1, N * groups, C / groups * rest, 1] (how PyTorch first implemented group_norm), so they
// run on the batch-norm kernels, their binding-window splitting and backward; the affine part is a broadcast mul/add.
import { ArgumentError, ShapeError } from '../../core/errors.js';
import { checkNumber } from '../../core/options.js';
import { fmt } from '../shape.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { batchNorm } from './batch_norm.js';
import { add, mul } from './elementwise.js';
import { reshape } from './shape_ops.js';

/**
 * x [N, C, ...] normalised over each group of C / numGroups channels and all trailing dims (biased variance, as
 * PyTorch), then scaled by weight [C] and shifted by bias [C] when given: y = (x - mean) / sqrt(var + eps) * w + b.
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  if (x.shape.length < 2) throw new ShapeError(op, `x ${fmt(x.shape)} must be [N, C, ...]`, [x.shape]);
  const [N, C] = x.shape as [number, number];
  checkNumber(op, 'numGroups', numGroups, { integer: true, min: 1 });
  if (C % numGroups) throw new ArgumentError(op, `${C} channels do not split into ${numGroups} groups`);
  checkNumber(op, 'eps', eps, { min: 0, minExclusive: true });
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && (t.shape.length !== 1 || t.shape[0] !== C)) throw new ShapeError(op, `${name} ${fmt(t.shape)} must be [${C}] for x ${fmt(x.shape)}`, [t.shape, x.shape]);
  }
  return tidy(() => {
    const xg = reshape(x, [1, N * numGroups, x.numel / (N * numGroups), 1]);
    const y = reshape(batchNorm(xg, null, null, null, null, { training: true, eps }), x.shape);
    const per = [1, C, ...x.shape.slice(2).map(() => 1)];
    const scaled = weight ? mul(y, reshape(weight, per)) : y;
    return bias ? add(scaled, reshape(bias, per)) : scaled;
  });
}

/** Instance normalisation of x [N, C, ...]: each (sample, channel) plane on its own statistics; groupNorm with C groups. */
export function instanceNorm(x: Tensor, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  if (x.shape.length < 3) throw new ShapeError('instanceNorm', `x ${fmt(x.shape)} must be [N, C, H, ...]`, [x.shape]);
  return groupNorm(x, x.shape[1]!, weight, bias, eps);
}
