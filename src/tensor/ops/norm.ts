// Group normalisation (torch.nn.functional.group_norm), instance normalisation (group_norm with one group per
// channel: F.instance_norm without running statistics) and layer normalisation (F.layer_norm). Each normalised group
// of elements (a (sample, group) of group_norm, a row of layer_norm) is one channel of a batch-statistics batchNorm of
// x viewed as [1, groups, numel / groups, 1] (how PyTorch first implemented group_norm), so they run on the
// batch-norm kernels, their binding-window splitting and backward; the affine part is a broadcast mul/add.
import { ArgumentError, ShapeError } from '../../core/errors.js';
import { checkNumber } from '../../core/options.js';
import { fmt, sameShape, type Shape } from '../shape.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { batchNorm } from './batch_norm.js';
import { add, mul } from './elementwise.js';
import { reshape } from './shape_ops.js';

/**
 * x normalised over `groups` equal contiguous runs of its elements (mean and biased variance of each), then scaled
 * by weight and shifted by bias (each reshaped to `affineShape`, which broadcasts against x) when given.
 */
function normalizeRuns(x: Tensor, groups: number, eps: number, weight: Tensor | null, bias: Tensor | null, affineShape: Shape): Tensor {
  return tidy(() => {
    const per = x.numel / groups;
    // A run of one element is its own mean: y = 0 (PyTorch), where the batch statistics would refuse a lone value.
    const y = per === 1 ? mul(x, 0) : reshape(batchNorm(reshape(x, [1, groups, per, 1]), null, null, null, null, { training: true, eps }), x.shape);
    const scaled = weight ? mul(y, reshape(weight, affineShape)) : y;
    return bias ? add(scaled, reshape(bias, affineShape)) : scaled;
  });
}

/** Throws a ShapeError(op) unless the weight / bias given have shape `want`. */
function checkAffine(op: string, x: Tensor, want: Shape, weight: Tensor | null, bias: Tensor | null): void {
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && !sameShape(t.shape, want)) throw new ShapeError(op, `${name} ${fmt(t.shape)} must be ${fmt(want)} for x ${fmt(x.shape)}`, [t.shape, x.shape]);
  }
}

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
  checkAffine(op, x, [C], weight, bias);
  return normalizeRuns(x, N * numGroups, eps, weight, bias, [1, C, ...x.shape.slice(2).map(() => 1)]);
}

/** Instance normalisation of x [N, C, ...]: each (sample, channel) plane on its own statistics; groupNorm with C groups. */
export function instanceNorm(x: Tensor, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  if (x.shape.length < 3) throw new ShapeError('instanceNorm', `x ${fmt(x.shape)} must be [N, C, H, ...]`, [x.shape]);
  return groupNorm(x, x.shape[1]!, weight, bias, eps);
}

/** A layer norm's normalized shape as a list: a size or a non-empty list of sizes (ArgumentError(op) otherwise). */
export function normalizedShapeOf(op: string, name: string, v: number | readonly number[]): number[] {
  if (typeof v !== 'number' && !Array.isArray(v)) throw new ArgumentError(op, `${name} must be a size or a list of sizes, got ${JSON.stringify(v)}`);
  const ns = typeof v === 'number' ? [v] : [...(v as readonly number[])];
  if (ns.length === 0) throw new ArgumentError(op, `${name} must have at least one size`);
  ns.forEach((d, i) => checkNumber(op, `${name}[${i}]`, d, { integer: true, min: 1 }));
  return ns;
}

/**
 * F.layer_norm: x [..., *normalizedShape] normalised over its last normalizedShape.length dims (mean and biased
 * variance of each such row), then scaled by weight and shifted by bias, both of shape normalizedShape, when given.
 * normalizedShape is a size or a list of sizes (PyTorch's int or list).
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  const ns = normalizedShapeOf(op, 'normalizedShape', normalizedShape);
  if (ns.length > x.ndim || !sameShape(x.shape.slice(x.ndim - ns.length), ns)) {
    throw new ShapeError(op, `x ${fmt(x.shape)} does not end in normalizedShape ${fmt(ns)}`, [x.shape, ns]);
  }
  checkNumber(op, 'eps', eps, { min: 0, minExclusive: true });
  checkAffine(op, x, ns, weight, bias);
  const per = ns.reduce((a, b) => a * b, 1);
  return normalizeRuns(x, x.numel / per, eps, weight, bias, ns);
}
