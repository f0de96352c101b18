// Layers without parameters: activations, pooling, resampling, dropout. They still are modules, so a
// Sequential numbers them as PyTorch does.
import { ArgumentError } from '../core/errors.js';
import { checkBoolean, checkNumber, checkOneOf, checkOptions, show } from '../core/options.js';
import { gelu, leakyRelu, relu, sigmoid, silu, tanh, type GeluOptions } from '../tensor/ops/elementwise.js';
import type { Pair } from '../tensor/ops/conv.js';
import { dropout, interpolate } from '../tensor/ops/movement.js';
import { avgPool2d, maxPool2d } from '../tensor/ops/pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPair } from './conv.js';
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
    checkNumber('LeakyReLU', 'negative_slope', negativeSlope);
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

/** GELU (torch.nn.GELU): x * Phi(x), or its tanh approximation with { approximate: 'tanh' }; any shape. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts?: GeluOptions) {
    super();
    const { approximate = 'none' } = checkOptions('GELU', opts, { approximate: true });
    this.approximate = checkOneOf('GELU', 'approximate', approximate, ['none', 'tanh'] as const);
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x * sigmoid(x) (torch.nn.SiLU), any shape. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
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

/** Checks a pooling layer's kernel size, stride, padding (PyTorch's rule: at most half the kernel) and ceilMode. */
function checkPoolWindow(op: string, kernelSize: Pair, stride: Pair | undefined, padding: Pair, ceilMode: boolean): void {
  const k = checkPair(op, 'kernel_size', kernelSize);
  if (stride !== undefined) checkPair(op, 'stride', stride);
  const p = checkPair(op, 'padding', padding, 0);
  checkBoolean(op, 'ceilMode', ceilMode);
  // A window must never lie wholly in the padding.
  if (p[0] > Math.floor(k[0] / 2) || p[1] > Math.floor(k[1] / 2)) {
    throw new ArgumentError(op, `padding (${p.join(', ')}) must be at most half of the kernel size (${k.join(', ')})`);
  }
}

/** Max pooling: x [N, C, H, W] -> [N, C, OH, OW]. */
export class MaxPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;

  constructor(kernelSize: Pair, opts?: MaxPool2dOptions) {
    super();
    const op = 'MaxPool2d';
    const { stride, padding = 0, dilation = 1, ceilMode = false } = checkOptions(op, opts, { stride: true, padding: true, dilation: true, ceilMode: true });
    checkPoolWindow(op, kernelSize, stride, padding, ceilMode);
    checkPair(op, 'dilation', dilation);
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

export interface AvgPool2dOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Whether zero padding counts in the divisor (default true). */
  countIncludePad?: boolean;
  /** A nonzero integer divisor for every window (default: none). */
  divisorOverride?: number;
}

/** Average pooling (torch.nn.AvgPool2d): x [N, C, H, W] -> [N, C, OH, OW]. */
export class AvgPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | undefined;

  constructor(kernelSize: Pair, opts?: AvgPool2dOptions) {
    super();
    const op = 'AvgPool2d';
    const { stride, padding = 0, ceilMode = false, countIncludePad = true, divisorOverride } = checkOptions(op, opts, {
      stride: true, padding: true, ceilMode: true, countIncludePad: true, divisorOverride: true,
    });
    checkPoolWindow(op, kernelSize, stride, padding, ceilMode);
    checkBoolean(op, 'countIncludePad', countIncludePad);
    if (divisorOverride !== undefined) {
      checkNumber(op, 'divisor_override', divisorOverride, { integer: true });
      if (divisorOverride === 0) throw new ArgumentError(op, 'divisor_override must not be 0');
    }
    this.kernelSize = kernelSize;
    this.stride = stride ?? kernelSize;
    this.padding = padding;
    this.ceilMode = ceilMode;
    this.countIncludePad = countIncludePad;
    this.divisorOverride = divisorOverride;
  }

  forward(x: Tensor): Tensor {
    const { kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride } = this;
    return avgPool2d(x, { kernelSize, stride, padding, ceilMode, countIncludePad, ...(divisorOverride === undefined ? {} : { divisorOverride }) });
  }

  protected override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}`;
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

  /** `new Upsample(64)` / `new Upsample([h, w])` give the output size, as torch's positional `size`. */
  constructor(opts: UpsampleOptions | number | readonly [number, number] = {}) {
    super();
    const op = 'Upsample';
    const o = typeof opts === 'number' || Array.isArray(opts) ? { size: opts as number | readonly [number, number] } : (opts as UpsampleOptions);
    const { size, scaleFactor, mode = 'nearest', alignCorners } = checkOptions(op, o, { size: true, scaleFactor: true, mode: true, alignCorners: true });
    if ((size === undefined) === (scaleFactor === undefined)) throw new ArgumentError(op, 'give exactly one of size and scaleFactor');
    const each = (name: string, v: unknown, check: (x: unknown) => void) => {
      if (typeof v === 'number') check(v);
      else if (Array.isArray(v) && v.length === 2) v.forEach(check);
      else throw new ArgumentError(op, `${name} must be a number or a pair, got ${show(v)}`);
    };
    if (size !== undefined) each('size', size, (x) => checkNumber(op, 'size', x, { integer: true, min: 1 }));
    if (scaleFactor !== undefined) each('scaleFactor', scaleFactor, (x) => checkNumber(op, 'scaleFactor', x, { min: 0, minExclusive: true }));
    checkOneOf(op, 'mode', mode, ['nearest', 'bilinear'] as const);
    if (alignCorners !== undefined) checkBoolean(op, 'alignCorners', alignCorners);
    if (alignCorners !== undefined && mode === 'nearest') throw new ArgumentError(op, 'alignCorners only applies to bilinear mode');
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
