// conv2d / convTranspose2d: options (PyTorch's names and rules), the launch geometry shared by every kernel family.
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { ArgumentError, LimitError, ShapeError } from '../../core/errors.js';
import { checkOptions, type OptionKeys } from '../../core/options.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkDType, deviceOf } from './util.js';

export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  /** An int, a pair, 'same' (stride 1 only) or 'valid' (= 0). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  /** Only 1 is supported (a clear error otherwise). */
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
}

const CONV_KEYS: OptionKeys<Conv2dOptions> = { stride: true, padding: true, dilation: true, groups: true };
const CONV_T_KEYS: OptionKeys<ConvTranspose2dOptions> = { stride: true, padding: true, outputPadding: true, dilation: true, groups: true };

/** conv2d's options, their keys checked (an unknown or snake_case key is an ArgumentError naming it). */
export const convOptions = (op: string, opts: Conv2dOptions | undefined): Conv2dOptions => checkOptions(op, opts, CONV_KEYS);
/** convTranspose2d's options, their keys checked. */
export const convTOptions = (op: string, opts: ConvTranspose2dOptions | undefined): ConvTranspose2dOptions => checkOptions(op, opts, CONV_T_KEYS);

// ---------------------------------------------------------------------------------------------------------------
// Geometry shared by the kernels: a direct conv (conv2d_fwd) or its transpose (conv_transpose2d_fwd) from x [n, cin,
// h, w] to y [n, cout, oh, ow] with begin pads ph, pw. Both directions are exact adjoints of each other for the same
// (k, s, p, d) when the sizes are swapped, which is what the input gradients use.
export interface Geo {
  n: number; cin: number; h: number; w: number; cout: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}

/** The taps of a convolution: kernel size, stride, dilation. */
export type Taps = { kh: number; kw: number; sh: number; sw: number; dh: number; dw: number };

/** Most elements of a split-K partial-sum buffer (the weight-gradient slices and slots). */
export const PART_CAP = 1 << 23;

// ---------------------------------------------------------------------------------------------------------------
// Option parsing and shape checks (PyTorch's rules and names).

export function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  const p: readonly number[] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every((e) => Number.isInteger(e) && e >= min)) {
    throw new ArgumentError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0]!, p[1]!];
}

export function checkGroups(op: string, groups: number | undefined): void {
  if (groups === undefined || groups === 1) return;
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(op, `groups must be a positive integer, got ${groups}`);
  throw new ArgumentError(op, `groups > 1 is not supported (got groups=${groups})`);
}

export function checkInputs(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined): void {
  deviceOf(op, x, weight, bias);
  for (const t of [x, weight, bias]) if (t) checkDType(op, t, 'f32');
  if (x.ndim !== 4) throw new ShapeError(op, `x ${fmt(x.shape)} must be 4-D [N, C, H, W] (weight ${fmt(weight.shape)})`, [x.shape, weight.shape]);
  if (weight.ndim !== 4) throw new ShapeError(op, `weight ${fmt(weight.shape)} must be 4-D (x ${fmt(x.shape)})`, [x.shape, weight.shape]);
  // Every kernel family binds the weight whole, and the direct kernels its packed copy (output channels padded to a
  // multiple of 4, plus 4): refused up front, before any allocation, where either would exceed one binding.
  const [a, b, kh, kw] = weight.shape as [number, number, number, number];
  const packed = Math.max(a * kh * kw * (4 * Math.ceil(b / 4) + 4), b * kh * kw * (4 * Math.ceil(a / 4) + 4));
  const max = weight.device.limits.maxBindingBytes;
  if (packed * BYTES_PER_ELEMENT > max) {
    throw new LimitError(op, 'maxStorageBufferBindingSize', packed * BYTES_PER_ELEMENT, max, `weight ${fmt(weight.shape)} (packed: ${packed} elements) does not fit one binding; weights are not split`);
  }
}

export const plural = (c: number) => (c === 1 ? 'channel' : 'channels');

