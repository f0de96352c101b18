import type { Tensor } from '../tensor.js';
import { notImplemented } from './todo.js';

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

/** 2-D convolution (F.conv2d): x [N, Cin, H, W], weight [Cout, Cin, kH, kW], bias [Cout] | null -> [N, Cout, OH, OW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: Conv2dOptions): Tensor {
  return notImplemented('conv2d');
}

/** Transposed 2-D convolution (F.conv_transpose2d): x [N, Cin, H, W], weight [Cin, Cout, kH, kW] -> [N, Cout, OH, OW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvTranspose2dOptions): Tensor {
  return notImplemented('convTranspose2d');
}
