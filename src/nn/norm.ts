// GroupNorm, InstanceNorm2d and LayerNorm layers (torch.nn.GroupNorm / InstanceNorm2d / LayerNorm), on the composite
// ops of ../tensor/ops/norm.ts. All normalise on the input's own statistics in training and eval alike.
import { ArgumentError } from '../core/errors.js';
import { checkBoolean, checkNumber, checkOptions } from '../core/options.js';
import { groupNorm, instanceNorm, layerNorm, normalizedShapeOf } from '../tensor/ops/norm.js';
import type { Tensor } from '../tensor/tensor.js';
import { newParameter } from './conv.js';
import { constant_ } from './init.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

/** A parameter of `shape` ([n] for a number) filled with v (norm layers' weight 1 / bias 0). */
function filled(op: string, what: string, shape: number | number[], v: number): Parameter {
  const p = newParameter(op, what, typeof shape === 'number' ? [shape] : shape);
  constant_(p, v);
  return p;
}

export interface GroupNormOptions {
  eps?: number;
  /** Learnable per-channel weight (init 1) and bias (init 0) (default true). */
  affine?: boolean;
}

/** Group normalisation of x [N, C, ...] over numGroups groups of channels; weight / bias [C]. */
export class GroupNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;

  constructor(readonly numGroups: number, readonly numChannels: number, opts?: GroupNormOptions) {
    super();
    const op = 'GroupNorm';
    const { eps = 1e-5, affine = true } = checkOptions(op, opts, { eps: true, affine: true });
    checkNumber(op, 'num_groups', numGroups, { integer: true, min: 1 });
    checkNumber(op, 'num_channels', numChannels, { integer: true, min: 1 });
    if (numChannels % numGroups) throw new ArgumentError(op, `num_channels ${numChannels} must be divisible by num_groups ${numGroups}`);
    checkNumber(op, 'eps', eps, { min: 0, minExclusive: true });
    checkBoolean(op, 'affine', affine);
    this.eps = eps;
    this.weight = affine ? filled(op, 'weight', numChannels, 1) : null;
    this.bias = affine ? filled(op, 'bias', numChannels, 0) : null;
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight ? 'True' : 'False'}`;
  }
}

export interface InstanceNorm2dOptions {
  eps?: number;
  /** Learnable per-channel weight and bias (default false, as PyTorch; nnU-Net uses true). */
  affine?: boolean;
  /** Only false (PyTorch's default) is supported: no running statistics. */
  trackRunningStats?: boolean;
}

/** Instance normalisation of x [N, C, H, W]: every (sample, channel) plane on its own mean and biased variance. */
export class InstanceNorm2d extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;

  constructor(readonly numFeatures: number, opts?: InstanceNorm2dOptions) {
    super();
    const op = 'InstanceNorm2d';
    const { eps = 1e-5, affine = false, trackRunningStats = false } = checkOptions(op, opts, { eps: true, affine: true, trackRunningStats: true });
    checkNumber(op, 'num_features', numFeatures, { integer: true, min: 1 });
    checkNumber(op, 'eps', eps, { min: 0, minExclusive: true });
    checkBoolean(op, 'affine', affine);
    if (trackRunningStats !== false) throw new ArgumentError(op, 'trackRunningStats: only false is supported (no running statistics)');
    this.eps = eps;
    this.weight = affine ? filled(op, 'weight', numFeatures, 1) : null;
    this.bias = affine ? filled(op, 'bias', numFeatures, 0) : null;
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4) throw new ArgumentError('InstanceNorm2d', `expected a 4-D input [N, C, H, W], got [${x.shape.join(', ')}]`);
    return instanceNorm(x, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, affine=${this.weight ? 'True' : 'False'}`;
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** Learnable weight (init 1) and bias (init 0) of shape normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

/** Layer normalisation of x [..., *normalizedShape] over its last normalizedShape.length dims; weight / bias normalizedShape. */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: readonly number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], opts?: LayerNormOptions) {
    super();
    const op = 'LayerNorm';
    const { eps = 1e-5, elementwiseAffine = true } = checkOptions(op, opts, { eps: true, elementwiseAffine: true });
    const ns = normalizedShapeOf(op, 'normalized_shape', normalizedShape);
    checkNumber(op, 'eps', eps, { min: 0, minExclusive: true });
    checkBoolean(op, 'elementwiseAffine', elementwiseAffine);
    this.normalizedShape = ns;
    this.eps = eps;
    this.weight = elementwiseAffine ? filled(op, 'weight', ns, 1) : null;
    this.bias = elementwiseAffine ? filled(op, 'bias', ns, 0) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `(${this.normalizedShape.join(', ')}${this.normalizedShape.length === 1 ? ',' : ''}), eps=${this.eps}, elementwise_affine=${this.weight ? 'True' : 'False'}`;
  }
}
