import { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../core/errors.js';
import { checkBoolean, checkOptions, show } from '../core/options.js';
import { getDefaultDevice } from '../tensor/context.js';
import { conv2d, convTranspose2d, type Pair } from '../tensor/ops/conv.js';
import { calculateFanInAndFanOut, checkFits, kaimingUniform_, uniform_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

const tuple = (p: readonly number[]) => `(${p.join(', ')})`;

function checkPositive(layer: string, what: string, v: readonly number[], min = 1): void {
  if (!v.every((d) => Number.isInteger(d) && d >= min)) throw new ArgumentError(layer, `${what} must be integers >= ${min}, got ${tuple(v)}`);
}

/** A number or a pair of integers >= min, as [h, w]; ArgumentError naming the layer and the value otherwise. */
export function checkPair(layer: string, what: string, v: unknown, min = 1): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number') ? [v[0] as number, v[1] as number] : null;
  if (!p) throw new ArgumentError(layer, `${what} must be a number or a pair, got ${show(v)}`);
  checkPositive(layer, what, p, min);
  return p as [number, number];
}

/** A fresh, uninitialised parameter (the initialiser writes it); LimitError before allocating one over maxBufferSize. */
export function newParameter(op: string, what: string, shape: number[]): Parameter {
  const dev = getDefaultDevice();
  checkFits(op, what, shape, dev);
  const t = Tensor.empty(shape, 'f32', dev);
  const p = new Parameter(t);
  t.dispose();
  return p;
}

/** PyTorch's default reset_parameters of conv and linear layers: kaiming_uniform_(a = sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function resetConv(weight: Parameter, bias: Parameter | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

export interface Conv2dOptions {
  stride?: Pair;
  /** An int, a pair, 'same' (stride 1 only) or 'valid' (= 0). Default 0. */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  /** Learnable bias (default true). */
  bias?: boolean;
}

/** 2-D convolution layer: x [N, Cin, H, W] -> [N, Cout, OH, OW]; weight [Cout, Cin, kH, kW], bias [Cout]. */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts?: Conv2dOptions) {
    super();
    const op = 'Conv2d';
    const { stride = 1, padding = 0, dilation = 1, bias = true } = checkOptions(op, opts, { stride: true, padding: true, dilation: true, bias: true });
    checkPositive(op, 'in/out channels', [inChannels, outChannels]);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = checkPair(op, 'kernel_size', kernelSize);
    this.stride = checkPair(op, 'stride', stride);
    this.padding = typeof padding === 'string' ? padding : checkPair(op, 'padding', padding, 0);
    this.dilation = checkPair(op, 'dilation', dilation);
    checkBoolean(op, 'bias', bias);
    if (this.padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new ArgumentError(op, "padding='same' is not supported for strided convolutions");
    }
    if (typeof this.padding === 'string' && this.padding !== 'same' && this.padding !== 'valid') throw new ArgumentError(op, `padding '${this.padding}' is not 'same' or 'valid'`);
    this.weight = newParameter(op, 'weight', [outChannels, inChannels, ...this.kernelSize]);
    this.bias = bias ? newParameter(op, 'bias', [outChannels]) : null;
    resetConv(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  protected override extraRepr(): string {
    const p = typeof this.padding === 'string' ? `'${this.padding}'` : tuple(this.padding);
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`;
    if (p !== '(0, 0)') s += `, padding=${p}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${tuple(this.dilation)}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  bias?: boolean;
}

/**
 * Transposed 2-D convolution layer: x [N, Cin, H, W] -> [N, Cout, (H-1)*s - 2p + d*(k-1) + op + 1, ...];
 * weight [Cin, Cout, kH, kW] (PyTorch's layout; fan_in for the init is Cout*kH*kW), bias [Cout].
 */
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    opts?: ConvTranspose2dOptions,
  ) {
    super();
    const op = 'ConvTranspose2d';
    const { stride = 1, padding = 0, outputPadding = 0, dilation = 1, bias = true } = checkOptions(op, opts, {
      stride: true,
      padding: true,
      outputPadding: true,
      dilation: true,
      bias: true,
    });
    checkPositive(op, 'in/out channels', [inChannels, outChannels]);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = checkPair(op, 'kernel_size', kernelSize);
    this.stride = checkPair(op, 'stride', stride);
    this.padding = checkPair(op, 'padding', padding, 0);
    this.outputPadding = checkPair(op, 'output_padding', outputPadding, 0);
    this.dilation = checkPair(op, 'dilation', dilation);
    checkBoolean(op, 'bias', bias);
    if (this.outputPadding.some((o, i) => o >= this.stride[i]! && o >= this.dilation[i]!)) {
      throw new ArgumentError('ConvTranspose2d', `output_padding ${tuple(this.outputPadding)} must be smaller than stride ${tuple(this.stride)} or dilation ${tuple(this.dilation)}`);
    }
    this.weight = newParameter(op, 'weight', [inChannels, outChannels, ...this.kernelSize]);
    this.bias = bias ? newParameter(op, 'bias', [outChannels]) : null;
    resetConv(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
    });
  }

  protected override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`;
    if (this.padding.some((d) => d !== 0)) s += `, padding=${tuple(this.padding)}`;
    if (this.outputPadding.some((d) => d !== 0)) s += `, output_padding=${tuple(this.outputPadding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${tuple(this.dilation)}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}
