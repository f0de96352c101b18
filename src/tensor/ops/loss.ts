import type { Tensor } from '../tensor.js';
import { notImplemented } from './todo.js';

export type Reduction = 'mean' | 'sum' | 'none';

/** Softmax over `dim` (channels, dim 1, for segmentation). */
export function softmax(x: Tensor, dim = 1): Tensor {
  return notImplemented('softmax');
}

export function logSoftmax(x: Tensor, dim = 1): Tensor {
  return notImplemented('logSoftmax');
}

/** F.binary_cross_entropy_with_logits; posWeight broadcasts over the channel dim as in PyTorch. */
export function bceWithLogits(logits: Tensor, target: Tensor, opts: { reduction?: Reduction; posWeight?: Tensor | null; weight?: Tensor | null } = {}): Tensor {
  return notImplemented('bceWithLogits');
}

/** F.cross_entropy: logits [N, C, H, W] (or [N, C]), target class indices [N, H, W] (i32, or f32 holding integers). */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {},
): Tensor {
  return notImplemented('crossEntropy');
}

/** Soft Dice loss per class: 1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth), averaged over classes. */
export function diceLoss(probs: Tensor, target: Tensor, opts: { smooth?: number; reduction?: Reduction } = {}): Tensor {
  return notImplemented('diceLoss');
}
