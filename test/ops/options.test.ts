// Options of the tensor ops (issue 12): plain-JS callers have no type checker, so a misspelled or snake_case key is
// an ArgumentError naming the op, the key and the accepted keys (never silently ignored); enumerations and flags are
// checked; PyTorch's shorthands work (a bare kernel size for max pooling, a bare fill value for pad).
import { describe, expect, test } from 'vitest';
import { ArgumentError, F, tensor, type Device, type Tensor } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { randnArray, rng } from '../helpers/random.js';

const { devices } = await gpuSuite();

const T = (d: Device, data: ArrayLike<number>, shape: number[]) => tensor(Float32Array.from(data), shape, { device: d });
const I32 = (d: Device, data: ArrayLike<number>, shape: number[]) => tensor(Int32Array.from(data), shape, { device: d });
const arr = async (t: Tensor) => Array.from(await t.toArray());
// Any value: these calls must throw before they look at it.
const bad = <V>(v: unknown) => v as V;

/** Expects fn to throw an ArgumentError whose message matches every pattern. */
function argError(fn: () => unknown, ...patterns: (string | RegExp)[]): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'no error thrown').toBeInstanceOf(ArgumentError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('unknown option keys are ArgumentErrors naming the op, the key and the accepted keys', () => {
  test.each(devices(cpu64, cpu32).map((d) => [d.description, d] as const))('%s', (_name, d) => {
    const x = T(d, randnArray(rng(1), 2 * 3 * 4 * 4), [2, 3, 4, 4]);
    const w = T(d, randnArray(rng(2), 5 * 3 * 3 * 3), [5, 3, 3, 3]);
    const wt = T(d, randnArray(rng(3), 3 * 2 * 2 * 2), [3, 2, 2, 2]);
    const rm = T(d, [0, 0, 0], [3]);
    const rv = T(d, [1, 1, 1], [3]);
    const tgt = I32(d, new Int32Array(2 * 4 * 4), [2, 4, 4]);
    argError(() => F.maxPool2d(x, bad({ kernel_size: 2 })), "maxPool2d: unknown option 'kernel_size' (did you mean 'kernelSize'?); accepted: kernelSize, stride, padding, dilation, ceilMode");
    argError(() => F.maxPool2d(x, bad({ kernelSize: 2, ceil_mode: true })), "maxPool2d: unknown option 'ceil_mode' (did you mean 'ceilMode'?)");
    argError(() => F.maxPool2dWithIndices(x, bad({ kernelSize: 2, stide: 2 })), "maxPool2dWithIndices: unknown option 'stide'");
    argError(() => F.avgPool2d(x, bad({ kernelSize: 2, count_include_pad: false })), "avgPool2d: unknown option 'count_include_pad' (did you mean 'countIncludePad'?); accepted: kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride");
    argError(() => F.avgPool2d(x, bad({ kernelSize: 2, dilation: 2 })), "avgPool2d: unknown option 'dilation'");
    argError(() => F.conv2d(x, w, null, bad({ padding: 1, output_padding: 1 })), "conv2d: unknown option 'output_padding'", 'accepted: stride, padding, dilation, groups');
    argError(() => F.convTranspose2d(x, wt, null, bad({ stride: 2, output_padding: 1 })), "convTranspose2d: unknown option 'output_padding' (did you mean 'outputPadding'?)");
    argError(() => F.bceWithLogits(x, x, bad({ pos_weight: rm })), "bceWithLogits: unknown option 'pos_weight' (did you mean 'posWeight'?); accepted: reduction, posWeight, weight");
    argError(() => F.crossEntropy(x, tgt, bad({ ignore_index: 1 })), "crossEntropy: unknown option 'ignore_index' (did you mean 'ignoreIndex'?)");
    argError(() => F.diceLoss(x, tgt, bad({ smoothing: 1 })), "diceLoss: unknown option 'smoothing'; accepted: smooth, reduction");
    argError(() => F.interpolate(x, bad({ size: 8, mode: 'bilinear', align_corners: true })), "interpolate: unknown option 'align_corners' (did you mean 'alignCorners'?)");
    argError(() => F.interpolate(x, bad({ scale_factor: 2 })), "interpolate: unknown option 'scale_factor' (did you mean 'scaleFactor'?)");
    argError(() => F.gelu(x, bad({ approx: 'tanh' })), "gelu: unknown option 'approx'; accepted: approximate");
    argError(() => F.dropout(x, 0.5, true, bad({ channel: true })), "dropout: unknown option 'channel'; accepted: channels, seed");
    argError(() => F.batchNorm(x, rm, rv, null, null, bad({ train: true })), "batchNorm: unknown option 'train'; accepted: training, momentum, eps");
    argError(() => F.batchNormRelu(x, rm, rv, null, null, bad({ Eps: 1e-3 })), "batchNormRelu: unknown option 'Eps' (did you mean 'eps'?)");
    argError(() => F.pad(x, [1, 1], bad({ mode: 'constant', fill: 2 })), "pad: unknown option 'fill'; accepted: mode, value");
    argError(() => F.sgdUpdate(rm, rm, null, true, bad({ lr: 0.1, weight_decay: 0.1 })), "sgdUpdate: unknown option 'weight_decay' (did you mean 'weightDecay'?)");
    argError(() => F.adamUpdate(rm, rm, rm, rv, null, 1, bad({ lr: 0.1, betas: [0.9, 0.99] })), "adamUpdate: unknown option 'betas'");
    // Not an object at all.
    argError(() => F.conv2d(x, w, null, bad(1)), 'conv2d: options must be an object, got 1');
    argError(() => F.crossEntropy(x, tgt, bad('sum')), "crossEntropy: options must be an object, got 'sum'");
  });
});

describe('option values: enumerations, flags and numbers are checked', () => {
  test.each(devices(cpu64, cpu32).map((d) => [d.description, d] as const))('%s', (_name, d) => {
    const x = T(d, randnArray(rng(4), 2 * 3 * 4 * 4), [2, 3, 4, 4]);
    const rm = T(d, [0, 0, 0], [3]);
    const rv = T(d, [1, 1, 1], [3]);
    const tgt = I32(d, new Int32Array(2 * 4 * 4), [2, 4, 4]);
    argError(() => F.bceWithLogits(x, x, bad({ reduction: 'avg' })), "bceWithLogits: reduction 'avg' is not one of 'mean', 'sum', 'none'");
    argError(() => F.crossEntropy(x, tgt, bad({ reduction: 'batchmean' })), "crossEntropy: reduction 'batchmean' is not one of 'mean', 'sum', 'none'");
    argError(() => F.diceLoss(x, tgt, bad({ reduction: 'Mean' })), "diceLoss: reduction 'Mean' is not one of 'mean', 'sum', 'none'");
    argError(() => F.interpolate(x, bad({ size: 8, mode: 'bicubic' })), "interpolate: mode 'bicubic' is not one of 'nearest', 'bilinear'");
    argError(() => F.gelu(x, bad({ approximate: 'sigmoid' })), "gelu: approximate 'sigmoid' is not one of 'none', 'tanh'");
    argError(() => F.gelu(x, bad({ approximate: true })), "gelu: approximate true is not one of 'none', 'tanh'");
    argError(() => F.interpolate(x, bad({ size: 8, mode: 'bilinear', alignCorners: 'yes' })), "interpolate: alignCorners must be true or false, got 'yes'");
    argError(() => F.maxPool2d(x, bad({ kernelSize: 2, ceilMode: 1 })), 'maxPool2d: ceilMode must be true or false, got 1');
    argError(() => F.maxPool2d(x, bad({})), 'maxPool2d: kernelSize is required');
    argError(() => F.maxPool2d(x, bad('2')), "maxPool2d: options must be an object, got '2'");
    argError(() => F.avgPool2d(x, bad({ kernelSize: 2, countIncludePad: 'no' })), "avgPool2d: countIncludePad must be true or false, got 'no'");
    argError(() => F.avgPool2d(x, bad({ kernelSize: 2, ceilMode: 1 })), 'avgPool2d: ceilMode must be true or false, got 1');
    argError(() => F.avgPool2d(x, { kernelSize: 2, divisorOverride: 0 }), 'avgPool2d: divisorOverride must not be 0');
    argError(() => F.avgPool2d(x, { kernelSize: 2, divisorOverride: NaN }), 'avgPool2d: divisorOverride must be an integer');
    argError(() => F.avgPool2d(x, bad({})), 'avgPool2d: kernelSize is required');
    argError(() => F.dropout(x, 0.5, bad('yes')), "dropout: training must be true or false, got 'yes'");
    argError(() => F.dropout(x, 0.5, true, bad({ channels: 1 })), 'dropout: channels must be true or false, got 1');
    argError(() => F.batchNorm(x, rm, rv, null, null, bad({ training: 'no' })), "batchNorm: training must be true or false, got 'no'");
    argError(() => F.batchNorm(x, rm, rv, null, null, { momentum: NaN }), 'batchNorm: momentum must be a finite number, got NaN');
    argError(() => F.batchNorm(x, rm, rv, null, null, { eps: -1 }), 'batchNorm: eps must be a finite number >= 0, got -1');
    argError(() => F.diceLoss(x, tgt, { smooth: NaN }), 'diceLoss: smooth must be a finite number >= 0, got NaN');
    argError(() => F.crossEntropy(x, tgt, { ignoreIndex: 2 ** 31 }), 'crossEntropy: ignoreIndex must be an integer >= -2147483647 and <= 2147483647, got 2147483648');
    argError(() => F.sgdUpdate(rm, rm, null, true, bad({ lr: 0.1, nesterov: 'true' })), "sgdUpdate: nesterov must be true or false, got 'true'");
  });
});

describe('pad: a number or { mode, value }; mode constant only', () => {
  test.each(devices(cpu64, cpu32).map((d) => [d.description, d] as const))('%s', async (_name, d) => {
    const x = T(d, [1, 2, 3, 4], [1, 1, 2, 2]);
    const want = [7, 1, 2, 7, 7, 3, 4, 7];
    expect(await arr(F.pad(x, [1, 1], 7))).toEqual(want);
    expect(await arr(F.pad(x, [1, 1], { value: 7 }))).toEqual(want);
    expect(await arr(F.pad(x, [1, 1], { mode: 'constant', value: 7 }))).toEqual(want);
    expect(await arr(F.pad(x, [1, 1], { mode: 'constant' }))).toEqual([0, 1, 2, 0, 0, 3, 4, 0]);
    expect(await arr(F.pad(x, [1, 0], -Infinity))).toEqual([-Infinity, 1, 2, -Infinity, 3, 4]);
    for (const mode of ['reflect', 'replicate', 'circular']) {
      argError(() => F.pad(x, [1, 1], bad({ mode })), `pad: mode '${mode}' is not supported (only 'constant')`);
    }
    argError(() => F.pad(x, [1, 1], bad({ mode: 'zeros' })), "pad: mode 'zeros' is not one of 'constant', 'reflect', 'replicate', 'circular'");
    argError(() => F.pad(x, [1, 1], bad('reflect')), "pad: value must be a number or { mode, value }, got 'reflect'");
    argError(() => F.pad(x, [1, 1], bad({ value: '7' })), "pad: value must be a number, got '7'");
  });
});

describe('maxPool2d takes a bare kernel size (a number or a pair), as PyTorch', () => {
  test.each(devices(cpu64, cpu32).map((d) => [d.description, d] as const))('%s', async (_name, d) => {
    const x = T(d, randnArray(rng(5), 2 * 3 * 6 * 4), [2, 3, 6, 4]);
    const full2 = F.maxPool2d(x, { kernelSize: 2 });
    expect(full2.shape).toEqual([2, 3, 3, 2]);
    const bare = F.maxPool2d(x, 2);
    expect(bare.shape).toEqual([2, 3, 3, 2]);
    expect(await arr(bare)).toEqual(await arr(full2));
    const pairK = F.maxPool2d(x, [3, 2]);
    expect(pairK.shape).toEqual([2, 3, 2, 2]);
    expect(await arr(pairK)).toEqual(await arr(F.maxPool2d(x, { kernelSize: [3, 2] })));
    const { values, indices } = F.maxPool2dWithIndices(x, 2);
    expect(await arr(values)).toEqual(await arr(full2));
    expect(await arr(indices)).toEqual(await arr(F.maxPool2dWithIndices(x, { kernelSize: 2 }).indices));
    argError(() => F.maxPool2d(x, 0), 'maxPool2d: kernelSize must be integers >= 1, got [0, 0]');
  });
});

describe('accepted options still work (keys set to undefined count as absent)', () => {
  test.each(devices(cpu64, cpu32).map((d) => [d.description, d] as const))('%s', async (_name, d) => {
    const x = T(d, randnArray(rng(6), 1 * 2 * 4 * 4), [1, 2, 4, 4]);
    const wt = T(d, randnArray(rng(7), 2 * 2 * 3 * 3), [2, 2, 3, 3]);
    expect(F.convTranspose2d(x, wt, null, { stride: 2, padding: 1, outputPadding: 1, dilation: undefined, groups: 1 }).shape).toEqual([1, 2, 8, 8]);
    expect(F.interpolate(x, { size: 8, mode: 'nearest', alignCorners: undefined, scaleFactor: undefined }).shape).toEqual([1, 2, 8, 8]);
    expect(F.maxPool2d(x, { kernelSize: 2, stride: undefined, padding: undefined, dilation: undefined, ceilMode: undefined }).shape).toEqual([1, 2, 2, 2]);
    expect(F.dropout(x, 0.5, true, { channels: true, seed: 3 }).shape).toEqual([1, 2, 4, 4]);
  });
});
