import type { Tensor } from '../tensor.js';
import type { Pair } from './conv.js';
import { notImplemented } from './todo.js';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** F.max_pool2d: x [N, C, H, W] -> [N, C, OH, OW]. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  return notImplemented('maxPool2d');
}

/** F.max_pool2d(return_indices=True): values and flat argmax indices per (n, c) plane (i32, as PyTorch's int64). */
export function maxPool2dWithIndices(x: Tensor, opts: MaxPool2dOptions): { values: Tensor; indices: Tensor } {
  return notImplemented('maxPool2dWithIndices');
}
