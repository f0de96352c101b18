// Initialisers (torch.nn.init), in place, drawing from the seeded global generator (manualSeed) on the host:
// the same values on every device. Draw order is row-major over the tensor, so a seed fixes the weights.
// On the meta device they do nothing (no host array, no draws: an 8 G-parameter U-Net builds at once), so the
// generator is left where it was; a tensor over the device's maxBufferSize is refused before any host array.
import type { Backend } from '../kernels/backend.js';
import { MetaBackend } from '../kernels/runtime/meta_backend.js';
import { BYTES_PER_ELEMENT } from '../core/dtype.js';
import { ArgumentError, LimitError } from '../core/errors.js';
import { rngFor } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { uploadInto } from './assign.js';

/**
 * LimitError(op) when a tensor `what` of `shape` would not fit one buffer of `device` (maxBufferSize), for
 * layers to call before allocating their parameters: `Conv2d: maxBufferSize is ... ; weight [..] does not fit one buffer`.
 */
export function checkFits(op: string, what: string, shape: readonly number[], device: Backend): void {
  const bytes = shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT;
  const max = device.limits.maxBufferBytes;
  if (bytes > max) throw new LimitError(op, 'maxBufferSize', bytes, max, `${what} ${fmt(shape)} does not fit one buffer`);
}

/** Whether `t` is a shapes-only tensor of the meta device (nothing to fill). */
export const isMeta = (t: Tensor): boolean => t.device instanceof MetaBackend;

/** torch.nn.init._calculate_fan_in_and_fan_out: fan_in = size(1) * receptive field, fan_out = size(0) * receptive field. */
export function calculateFanInAndFanOut(shape: readonly number[]): [fanIn: number, fanOut: number] {
  if (shape.length < 2) throw new ArgumentError('init', `fan in and fan out need a tensor of at least 2 dims, got ${fmt(shape)}`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** torch.nn.init.calculate_gain (param: leaky_relu's negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return 1;
  }
}

// `gen` is called only when there is something to fill (so a meta tensor draws nothing).
function fill(op: string, t: Tensor, gen: () => (i: number) => number): Tensor {
  checkFits(op, 'a tensor', t.shape, t.device);
  if (isMeta(t)) return t;
  const g = gen();
  const data = new Float64Array(t.numel);
  for (let i = 0; i < data.length; i++) data[i] = g(i);
  uploadInto(t, data, op);
  return t;
}

function uniformAs(op: string, t: Tensor, a: number, b: number): Tensor {
  return fill(op, t, () => {
    const rng = rngFor();
    return () => a + (b - a) * rng.uniform();
  });
}

function normalAs(op: string, t: Tensor, mean: number, std: number): Tensor {
  return fill(op, t, () => {
    const rng = rngFor();
    return () => mean + std * rng.normal();
  });
}

/** U(a, b) in place. */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return uniformAs('uniform_', t, a, b);
}

/** N(mean, std^2) in place. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return normalAs('normal_', t, mean, std);
}

/** `value` everywhere, in place. */
export function constant_(t: Tensor, value: number): Tensor {
  return fill('constant_', t, () => () => value);
}

export const zeros_ = (t: Tensor): Tensor => fill('zeros_', t, () => () => 0);
export const ones_ = (t: Tensor): Tensor => fill('ones_', t, () => () => 1);

export interface KaimingOptions {
  /** Negative slope of the leaky_relu that follows (torch's `a`); layers use sqrt(5). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t.shape);
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  if (fan === 0) return 0;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/** torch.nn.init.kaiming_uniform_: U(-b, b) with b = gain * sqrt(3 / fan). With a = sqrt(5) that is 1/sqrt(fan_in). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniformAs('kaimingUniform_', t, -bound, bound);
}

/** torch.nn.init.kaiming_normal_: N(0, (gain / sqrt(fan))^2). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normalAs('kaimingNormal_', t, 0, kaimingStd(t, opts));
}

/** torch.nn.init.xavier_uniform_: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniformAs('xavierUniform_', t, -bound, bound);
}
