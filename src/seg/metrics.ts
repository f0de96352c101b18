// Overlap metrics of label maps (class index per pixel): per-class confusion counts, and from them Dice, IoU and
// pixel error, as the ISBI challenge and nnU-Net / MONAI report them. Pure functions on host arrays.
import { ArgumentError } from '../core/errors.js';

/** Per class c: true positives, false positives, false negatives of `pred` against `truth` (both class indices). */
export interface Confusion {
  readonly classes: number;
  readonly tp: Float64Array;
  readonly fp: Float64Array;
  readonly fn: Float64Array;
  /** Pixels counted (equal in both maps). */
  readonly pixels: number;
  /** Pixels where pred != truth. */
  readonly errors: number;
}

/** Confusion counts over `classes` classes; labels outside [0, classes) are an ArgumentError naming the value. */
export function confusion(pred: ArrayLike<number>, truth: ArrayLike<number>, classes: number): Confusion {
  if (pred.length !== truth.length) throw new ArgumentError('confusion', `prediction has ${pred.length} pixels, the truth ${truth.length}`);
  const tp = new Float64Array(classes);
  const fp = new Float64Array(classes);
  const fn = new Float64Array(classes);
  let errors = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = pred[i]!;
    const t = truth[i]!;
    for (const [v, what] of [[p, 'prediction'], [t, 'truth']] as const) {
      if (!(Number.isInteger(v) && v >= 0 && v < classes)) throw new ArgumentError('confusion', `${what} pixel ${i} has label ${v}, outside [0, ${classes})`);
    }
    if (p === t) tp[t]++;
    else {
      fp[p]++;
      fn[t]++;
      errors++;
    }
  }
  return { classes, tp, fp, fn, pixels: truth.length, errors };
}

/** Adds confusion counts (to pool a whole validation set). */
export function addConfusion(a: Confusion, b: Confusion): Confusion {
  if (a.classes !== b.classes) throw new ArgumentError('addConfusion', `${a.classes} classes and ${b.classes}`);
  const add = (x: Float64Array, y: Float64Array) => x.map((v, i) => v + y[i]!);
  return { classes: a.classes, tp: add(a.tp, b.tp), fp: add(a.fp, b.fp), fn: add(a.fn, b.fn), pixels: a.pixels + b.pixels, errors: a.errors + b.errors };
}

/** Dice per class, 2 tp / (2 tp + fp + fn); 1 where the class is absent from both (nothing to find, nothing found). */
export function dice(c: Confusion): number[] {
  return Array.from(c.tp, (tp, k) => {
    const d = 2 * tp + c.fp[k]! + c.fn[k]!;
    return d === 0 ? 1 : (2 * tp) / d;
  });
}

/** IoU (Jaccard) per class, tp / (tp + fp + fn); 1 where the class is absent from both. */
export function iou(c: Confusion): number[] {
  return Array.from(c.tp, (tp, k) => {
    const d = tp + c.fp[k]! + c.fn[k]!;
    return d === 0 ? 1 : tp / d;
  });
}

/** Fraction of pixels labelled wrongly (the ISBI 2012 pixel error). */
export function pixelError(c: Confusion): number {
  return c.pixels === 0 ? 0 : c.errors / c.pixels;
}
