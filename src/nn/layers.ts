// Layers without parameters: activations, pooling, resampling, dropout. They still are modules, so a
// Sequential numbers them as PyTorch does.
import { ArgumentError } from '../core/errors.js';
import { leakyRelu, relu, sigmoid, tanh } from '../tensor/ops/elementwise.js';
import type { Pair } from '../tensor/ops/conv.js';
import { dropout, interpolate } from '../tensor/ops/movement.js';
import { maxPool2d } from '../tensor/ops/pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** max(x, 0), any shape. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x > 0, negativeSlope * x otherwise (default 0.01). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  protected override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** 1 / (1 + e^-x), any shape. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh(x), any shape. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Returns its input (the same handle). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export interface MaxPool2dOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** Max pooling: x [N, C, H, W] -> [N, C, OH, OW]. */
export class MaxPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;

  constructor(kernelSize: Pair, { stride, padding = 0, dilation = 1, ceilMode = false }: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = stride ?? kernelSize;
    this.padding = padding;
    this.dilation = dilation;
    this.ceilMode = ceilMode;
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  protected override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}, dilation=${this.dilation}, ceil_mode=${this.ceilMode ? 'True' : 'False'}`;
  }
}

export interface UpsampleOptions {
  /** Output size (one of size / scaleFactor). */
  size?: number | readonly [number, number];
  scaleFactor?: number | readonly [number, number];
  /** Default 'nearest'. */
  mode?: 'nearest' | 'bilinear';
  /** Bilinear only (default false). */
  alignCorners?: boolean;
}

/** Resampling (torch.nn.Upsample): x [N, C, H, W] -> [N, C, OH, OW]. */
export class Upsample extends Module {
  readonly size?: number | readonly [number, number];
  readonly scaleFactor?: number | readonly [number, number];
  readonly mode: 'nearest' | 'bilinear';
  readonly alignCorners?: boolean;

  constructor({ size, scaleFactor, mode = 'nearest', alignCorners }: UpsampleOptions = {}) {
    super();
    if ((size === undefined) === (scaleFactor === undefined)) throw new ArgumentError('Upsample', 'give exactly one of size and scaleFactor');
    if (alignCorners !== undefined && mode === 'nearest') throw new ArgumentError('Upsample', 'alignCorners only applies to bilinear mode');
    this.size = size;
    this.scaleFactor = scaleFactor;
    this.mode = mode;
    this.alignCorners = alignCorners;
  }

  forward(x: Tensor): Tensor {
    return interpolate(x, { size: this.size, scaleFactor: this.scaleFactor, mode: this.mode, alignCorners: this.alignCorners });
  }

  protected override extraRepr(): string {
    return this.size !== undefined ? `size=${this.size}, mode='${this.mode}'` : `scale_factor=${this.scaleFactor}, mode='${this.mode}'`;
  }
}

function checkP(layer: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(layer, `dropout probability has to be between 0 and 1, but got ${p}`);
}

/** Zeroes elements with probability p in training and scales the rest by 1/(1-p); identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkP('Dropout', p);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Zeroes whole channels of x [N, C, H, W] with probability p in training (scaling by 1/(1-p)); identity in eval. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkP('Dropout2d', p);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, { channels: true });
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
