// Invalid class targets (issue 12): a class label out of [0, C) (and not ignoreIndex), or an f32 target that is not
// an integer, makes the loss NaN on every device (kernels and CPU references alike), and the device records it: the
// next readback or sync() throws an ArgumentError naming the op and the bad value, without a readback per step.
import { describe, expect, test } from 'vitest';
import { ArgumentError, F, stats, tensor, type Device, type Tensor } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';

const { skip, dev, devices } = await gpuSuite();

const T = (d: Device, data: ArrayLike<number>, shape: number[], requiresGrad = false) => tensor(Float32Array.from(data), shape, { device: d, requiresGrad });
const I32 = (d: Device, data: ArrayLike<number>, shape: number[]) => tensor(Int32Array.from(data), shape, { device: d });
const arr = async (t: Tensor) => Array.from(await t.toArray());
const LOGITS = [1, 2, 3, 4, 5, 6, 0.5, -1, 2, 0, 0, 0];
const ALL = devices(cpu64, cpu32).map((d) => [d.description, d] as const);

/** Awaits p and expects an ArgumentError whose message matches every pattern. */
async function rejects(p: Promise<unknown>, ...patterns: (string | RegExp)[]): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, 'no error thrown').toBeInstanceOf(ArgumentError);
  for (const pat of patterns) expect((err as Error).message).toMatch(pat);
}

describe('crossEntropy: an invalid target is NaN in the loss and an error at the next read', () => {
  test.each(ALL)('%s: non-integer f32 targets (they were truncated)', async (_n, d) => {
    const x = T(d, LOGITS, [4, 3]);
    const y = F.crossEntropy(x, T(d, [0, 1.5, 2, -100], [4]), { reduction: 'none' });
    await rejects(d.sync(), 'crossEntropy: target holds 1.5, not an integer class in [0, 3) nor ignoreIndex -100 (1 bad target; the loss is NaN)');
    const v = await arr(y);
    expect(v[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 1, 5);
    expect(v[1]).toBeNaN();
    expect(v[2]).toBeCloseTo(Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2)) - 2, 5);
    expect(v[3]).toBe(0);
    // mean and sum are NaN, and the read itself throws (the error is reported once).
    const m = F.crossEntropy(x, T(d, [0, 1, 2.25, 1], [4]));
    await rejects(arr(m), 'crossEntropy: target holds 2.25');
    expect((await arr(m))[0]).toBeNaN();
    const nanT = F.crossEntropy(x, T(d, [0, NaN, 1, 1], [4]), { reduction: 'sum' });
    await rejects(arr(nanT), 'crossEntropy: target holds NaN');
    expect((await arr(nanT))[0]).toBeNaN();
  });

  test.each(ALL)('%s: class labels out of [0, C), i32 and f32; ignoreIndex and valid labels raise nothing', async (_n, d) => {
    const x = T(d, LOGITS, [4, 3]);
    const y = F.crossEntropy(x, I32(d, [0, 3, 1, 7], [4]), { reduction: 'none' });
    await rejects(arr(y), 'crossEntropy: target holds 7, not a class in [0, 3) nor ignoreIndex -100 (2 bad targets; the loss is NaN)');
    const v = await arr(y);
    expect([Number.isNaN(v[0]!), Number.isNaN(v[1]!), Number.isNaN(v[2]!), Number.isNaN(v[3]!)]).toEqual([false, true, false, true]);
    await rejects(arr(F.crossEntropy(x, I32(d, [0, -1, 1, 2], [4]), { ignoreIndex: 1 })), 'crossEntropy: target holds -1, not a class in [0, 3) nor ignoreIndex 1');
    await rejects(arr(F.crossEntropy(x, T(d, [0, 3, 1, 2], [4]))), 'crossEntropy: target holds 3, not an integer class in [0, 3)');
    // Valid: classes, the ignore index (also as f32), integral f32 labels.
    expect(Number.isFinite((await arr(F.crossEntropy(x, I32(d, [0, -100, 2, 1], [4]))))[0]!)).toBe(true);
    expect(Number.isFinite((await arr(F.crossEntropy(x, T(d, [2, -100, 0, 1], [4]))))[0]!)).toBe(true);
    expect(Number.isFinite((await arr(F.crossEntropy(x, I32(d, [5, 5, 0, 1], [4]), { ignoreIndex: 5 })))[0]!)).toBe(true);
    await d.sync();
  });

  test.each(ALL)('%s: [N, C, H, W] logits, backward NaN at the bad pixel only', async (_n, d) => {
    const x = T(d, Array.from({ length: 2 * 3 * 2 }, (_, i) => Math.sin(i)), [2, 3, 2], true);
    const y = F.crossEntropy(x, T(d, [0, 0.5, 2, 1], [2, 2]), { reduction: 'sum' });
    y.backward();
    await rejects(d.sync(), 'crossEntropy: target holds 0.5');
    expect((await arr(y))[0]).toBeNaN();
    const g = await arr(x.grad!);
    // Pixel (n 0, i 1) is bad: its 3 logits' gradients are NaN, every other is finite.
    g.forEach((v, k) => expect(Number.isNaN(v), `grad[${k}]`).toBe(Math.floor(k / 6) === 0 && k % 2 === 1));
  });
});

describe('diceLoss: an out-of-range or non-integer class index is NaN (it was background) and an error', () => {
  test.each(ALL)('%s', async (_n, d) => {
    const probs = T(d, [0.2, 0.7, 0.1, 0.5, 0.3, 0.2, 0.6, 0.1, 0.3, 0.1, 0.1, 0.8], [1, 3, 4], true);
    const y = F.diceLoss(probs, I32(d, [0, 1, 5, 2], [1, 4]), { reduction: 'none' });
    y.backward(T(d, [1, 1, 1], [3]));
    await rejects(d.sync(), 'diceLoss: target holds 5, not a class in [0, 3) (1 bad target; the loss is NaN)');
    expect((await arr(y)).every(Number.isNaN)).toBe(true);
    expect((await arr(probs.grad!)).every(Number.isNaN)).toBe(true);
    await rejects(arr(F.diceLoss(probs, T(d, [0, 1, 1.5, 2], [1, 4]))), 'diceLoss: target holds 1.5, not an integer class in [0, 3)');
    await rejects(arr(F.diceLoss(probs, I32(d, [0, -1, 1, 2], [1, 4]))), 'diceLoss: target holds -1');
    // Valid index targets and one-hot targets raise nothing.
    expect(Number.isFinite((await arr(F.diceLoss(probs, I32(d, [0, 1, 2, 2], [1, 4]))))[0]!)).toBe(true);
    expect(Number.isFinite((await arr(F.diceLoss(probs, T(d, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1], [1, 3, 4]))))[0]!)).toBe(true);
  });
});

describe.skipIf(skip)('the check costs no readback: one submit per read, as before', () => {
  test('a loss read back is one submit; a loss not read back submits nothing', async () => {
    const x = T(dev, LOGITS, [4, 3]);
    const t = I32(dev, [0, 1, 2, 1], [4]);
    await dev.sync();
    const before = stats(dev).submits;
    const y = F.crossEntropy(x, t);
    const z = F.diceLoss(F.softmax(x, 1).reshape([1, 3, 4]), t.reshape([1, 4]));
    expect(stats(dev).submits).toBe(before);
    expect(Number.isFinite(await y.item())).toBe(true);
    expect(stats(dev).submits).toBe(before + 1);
    expect(Number.isFinite(await z.item())).toBe(true);
    expect(stats(dev).submits).toBe(before + 2);
  });

  test('GPU and CPU agree on the NaN pattern of every bad kind', async () => {
    const tg = [0, 1.5, 3, -1, 2, -100, NaN, 1];
    const x = Array.from({ length: 8 * 3 }, (_, i) => Math.cos(i));
    const got: number[][] = [];
    for (const d of [cpu32, dev]) {
      const y = F.crossEntropy(T(d, x, [8, 3]), T(d, tg, [8]), { reduction: 'none' });
      await rejects(d.sync(), 'crossEntropy: target holds', '(4 bad targets; the loss is NaN)');
      got.push((await arr(y)).map((v) => (Number.isNaN(v) ? 1 : 0)));
    }
    expect(got[1]).toEqual(got[0]);
    expect(got[0]).toEqual([0, 1, 1, 1, 0, 0, 1, 0]);
  });
});
