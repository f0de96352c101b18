// Scores of a predicted label map against the truth: per class Dice, IoU and HD95, and the pixel error, as the
// `evaluate` command prints them and a trainer's validation reports them. Pure functions on host arrays.
import { ArgumentError } from '../core/errors.js';
import { hd95 } from './hausdorff.js';
import { confusion, dice, iou, pixelError, type Confusion } from './metrics.js';

/** One class's scores. hd95 in pixels: 0 when the class is absent from both maps, Infinity when from one only. */
export interface ClassScores {
  readonly dice: number;
  readonly iou: number;
  readonly hd95: number;
}

/** Scores of one label map: the pixel error and, per class index, Dice, IoU and HD95. */
export interface MaskScores {
  readonly pixelError: number;
  readonly classes: readonly ClassScores[];
}

/** Scores of pred against truth (class indices [height][width]), with the confusion counts they come from. */
export function evaluateMasks(pred: ArrayLike<number>, truth: ArrayLike<number>, width: number, height: number, classes: number): MaskScores & { readonly confusion: Confusion } {
  if (pred.length !== width * height || truth.length !== width * height) {
    throw new ArgumentError('evaluateMasks', `prediction has ${pred.length} pixels and the truth ${truth.length}, ${height} x ${width} needs ${width * height}`);
  }
  const c = confusion(pred, truth, classes);
  const d = dice(c);
  const j = iou(c);
  const perClass = Array.from({ length: classes }, (_, k) => {
    const a = Uint8Array.from(pred, (v) => (v === k ? 1 : 0));
    const b = Uint8Array.from(truth, (v) => (v === k ? 1 : 0));
    return { dice: d[k]!, iou: j[k]!, hd95: hd95(a, b, width, height) };
  });
  return { pixelError: pixelError(c), classes: perClass, confusion: c };
}

/** Mean over images of each score (NaN values skipped, as MONAI's reductions; an infinite HD95 makes its mean infinite). */
export function meanScores(list: readonly MaskScores[]): MaskScores {
  if (!list.length) throw new ArgumentError('meanScores', 'no scores to average');
  const mean = (xs: number[]) => {
    const ok = xs.filter((x) => !Number.isNaN(x));
    return ok.length ? ok.reduce((s, x) => s + x, 0) / ok.length : NaN;
  };
  const K = list[0]!.classes.length;
  if (list.some((s) => s.classes.length !== K)) throw new ArgumentError('meanScores', 'scores of different class counts');
  return {
    pixelError: mean(list.map((s) => s.pixelError)),
    classes: Array.from({ length: K }, (_, k) => ({
      dice: mean(list.map((s) => s.classes[k]!.dice)),
      iou: mean(list.map((s) => s.classes[k]!.iou)),
      hd95: mean(list.map((s) => s.classes[k]!.hd95)),
    })),
  };
}
