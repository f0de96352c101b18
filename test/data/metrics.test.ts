// Dice, IoU and pixel error on hand-made label maps, against values worked out by hand.
import { describe, expect, test } from 'vitest';
import { ArgumentError } from '../../src/index.js';
import { addConfusion, confusion, dice, iou, pixelError } from '../../src/seg/metrics.js';

describe('overlap metrics', () => {
  // 4 x 4 maps, class 1 = a 2 x 2 square in the truth; the prediction shifts it by one column.
  const truth = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0];
  const pred = [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0];
  test('a shifted square: class 1 tp 2, fp 2, fn 2; class 0 tp 10, fp 2, fn 2', () => {
    const c = confusion(pred, truth, 2);
    expect([...c.tp, ...c.fp, ...c.fn]).toEqual([10, 2, 2, 2, 2, 2]);
    expect(dice(c)).toEqual([20 / 24, 4 / 8]);
    expect(iou(c)).toEqual([10 / 14, 2 / 6]);
    expect(pixelError(c)).toBe(4 / 16);
  });
  test('an absent class scores 1 (both empty), a missed one 0; pooling adds counts', () => {
    const c = confusion([0, 0, 0, 0], [0, 0, 0, 0], 3);
    expect(dice(c)).toEqual([1, 1, 1]);
    const m = confusion([0, 0, 0, 0], [0, 2, 2, 0], 3);
    expect(dice(m)).toEqual([4 / 6, 1, 0]);
    const both = addConfusion(c, m);
    expect([both.pixels, both.errors, ...both.tp]).toEqual([8, 2, 6, 0, 0]);
  });
  test('labels outside the classes are errors naming the pixel and value', () => {
    expect(() => confusion([0, 2], [0, 1], 2)).toThrow(ArgumentError);
    expect(() => confusion([0, 2], [0, 1], 2)).toThrow('confusion: prediction pixel 1 has label 2, outside [0, 2)');
    expect(() => confusion([0], [0, 1], 2)).toThrow(/1 pixels, the truth 2/);
  });
});
