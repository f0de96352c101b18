// torch.nn.Linear.
import { checkBoolean, checkNumber, checkOptions } from '../core/options.js';
import { linear } from '../tensor/ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { newParameter, resetConv } from './conv.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

export interface LinearOptions {
  /** Learnable bias (default true). */
  bias?: boolean;
}

/** y = x Wᵀ + b for x [..., in] -> [..., out]; weight [out, in], bias [out], PyTorch's default init. */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts?: LinearOptions) {
    super();
    const op = 'Linear';
    const { bias = true } = checkOptions(op, opts, { bias: true });
    checkNumber(op, 'in_features', inFeatures, { integer: true, min: 1 });
    checkNumber(op, 'out_features', outFeatures, { integer: true, min: 1 });
    checkBoolean(op, 'bias', bias);
    this.weight = newParameter(op, 'weight', [outFeatures, inFeatures]);
    this.bias = bias ? newParameter(op, 'bias', [outFeatures]) : null;
    resetConv(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}
