// What AttentionUNet and NestedUNet share: their references concatenate without padding, so H and W must be
// multiples of 2^depth; and their children are fields named by index (Conv3, conv1_2), looked up by name.
import { ArgumentError, ShapeError } from '../../core/errors.js';
import { checkNumber } from '../../core/options.js';
import type { Module } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';

/** `size` (an input H or W) if it is a positive multiple of 2^depth, else ArgumentError(op). */
export function multipleSize(op: string, depth: number, size: number): number {
  const m = 2 ** depth;
  if (!Number.isInteger(size) || size < m || size % m) throw new ArgumentError(op, `input size ${size} must be a positive multiple of 2^depth = ${m}`);
  return size;
}

/** ShapeError(op) unless x is [N, C, H, W] with H and W multiples of 2^depth. */
export function checkMultipleInput(op: string, depth: number, x: Tensor): void {
  const m = 2 ** depth;
  if (x.shape.length !== 4 || x.shape[2]! % m || x.shape[3]! % m) {
    throw new ShapeError(op, `x ${ShapeError.fmt(x.shape)} must be [N, C, H, W] with H and W multiples of 2^depth = ${m}`, [x.shape]);
  }
}

/** The child module in field `name`. */
export const child = <T extends Module>(m: Module, name: string): T => (m as unknown as Record<string, T>)[name]!;

/** ArgumentError(op) unless every value is a positive integer (channel counts, widths, depths). */
export function checkCounts(op: string, counts: Record<string, number>): void {
  for (const [k, v] of Object.entries(counts)) checkNumber(op, k, v, { integer: true, min: 1 });
}
