import type { Tensor } from '../tensor.js';
import { notImplemented } from './todo.js';

/** torch.cat along `dim` (any dim; channel concat is the hot one). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return notImplemented('cat');
}

/** F.pad, constant mode: pads = [left, right, top, bottom, ...] from the last dim backwards; negative crops. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  return notImplemented('pad');
}

export interface InterpolateOptions {
  size?: number | readonly [number, number];
  scaleFactor?: number | readonly [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

/** F.interpolate for [N, C, H, W]: nearest, or bilinear with align_corners true/false. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  return notImplemented('interpolate');
}

/** F.dropout (and dropout2d when `channels`): zeroes with probability p and scales by 1/(1-p) in training. */
export function dropout(x: Tensor, p = 0.5, training = true, opts: { channels?: boolean; seed?: number } = {}): Tensor {
  return notImplemented('dropout');
}
