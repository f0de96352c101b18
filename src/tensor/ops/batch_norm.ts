import type { Tensor } from '../tensor.js';
import { notImplemented } from './todo.js';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * F.batch_norm over [N, C, H, W] (or [N, C]). Training: batch statistics (biased variance) normalise, and
 * runningMean / runningVar (when given) are updated in place with momentum, runningVar from the unbiased variance.
 * Evaluation: the running statistics normalise.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts?: BatchNormOptions,
): Tensor {
  return notImplemented('batchNorm');
}
