// exportOnnx beyond the U-Net: each nn layer mapping (Conv2d 'same' / strided / dilated, ConvTranspose2d with padding
// and output padding, BatchNorm2d without affine parameters, LeakyReLU, Sigmoid, Tanh, MaxPool2d, Upsample nearest /
// bilinear / by size, Dropout in eval) in ONNX Runtime against our forward on the float32 CPU device; and the
// exporter's refusals (training mode, a layer without a mapping, bad options and shapes), each naming what is wrong.
import { describe, expect, test } from 'vitest';
import { ArgumentError, manualSeed, nn, noGrad, tensor, withDevice } from '../../src/index.js';
import type { Module } from '../../src/nn/module.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { UNet } from '../../src/unet/unet.js';
import { TransUNet } from '../../src/unet/family/trans_unet.js';
import { cpu32 } from '../helpers/gpu.js';
import { rng, uniformArray } from '../helpers/random.js';
import { checkOnnxModel } from './checker.js';
import { maxAbs, runOrt, session } from './nets.js';

/** Randomises every BatchNorm2d's running statistics (and affine parameters when present). */
function randomBn(m: Module, salt: number): void {
  const r = rng(salt);
  const sd: Record<string, ReturnType<typeof tensor>> = {};
  for (const [k, t] of Object.entries(m.stateDict())) {
    const range = k.endsWith('running_var') ? [0.5, 2] : k.endsWith('running_mean') ? [-0.3, 0.3] : null;
    if (range) sd[k] = tensor(uniformArray(r, t.numel, range[0]!, range[1]!), [...t.shape], { device: cpu32 });
  }
  m.loadStateDict(sd, { strict: false });
}

const CASES: [string, () => Module, number[], number[]][] = [
  ['conv same, dilated conv, BN without affine, LeakyReLU, Dropout', () => new nn.Sequential(
    new nn.Conv2d(2, 5, 3, { padding: 'same' }), new nn.BatchNorm2d(5, { affine: false }), new nn.LeakyReLU(0.2), new nn.Dropout(0.5),
    new nn.Conv2d(5, 3, [3, 2], { padding: [2, 1], dilation: [2, 1] }), new nn.Tanh()), [1, 2, 13, 11], [3, 2, 8, 17]],
  ['strided conv, max pool (stride, padding), transposed conv (padding, output padding), Sigmoid', () => new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { stride: 2, padding: 1 }), new nn.MaxPool2d(3, { stride: 2, padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.Sigmoid()), [2, 1, 19, 16], [1, 1, 24, 31]],
  ['max pool in ceil mode (a last window starting in the padding is dropped, as PyTorch)', () => new nn.Sequential(
    // kernel 2, stride 3, padding 1: sizes 7, 10, 4, 13 each have a ceil window that starts in the padding.
    new nn.Conv2d(1, 2, 1), new nn.MaxPool2d(2, { stride: 3, padding: 1, ceilMode: true }), new nn.MaxPool2d(2, { ceilMode: true })), [1, 1, 7, 10], [2, 1, 4, 13]],
  ['Upsample nearest x2, bilinear x1.5 (half pixel), bilinear by size, valid conv, Identity', () => new nn.Sequential(
    new nn.Upsample({ scaleFactor: 2 }), new nn.Conv2d(2, 3, 3, { padding: 'valid' }), new nn.Upsample({ scaleFactor: 1.5, mode: 'bilinear' }),
    new nn.Identity(), new nn.Upsample({ size: [9, 14], mode: 'bilinear', alignCorners: true })), [1, 2, 7, 6], [2, 2, 5, 9]],
  ['Linear (bias, none), GELU (erf, tanh), LayerNorm, SiLU over the last dim', () => new nn.Sequential(
    new nn.Linear(7, 6), new nn.GELU(), new nn.LayerNorm(6), new nn.SiLU(), new nn.Linear(6, 5, { bias: false }), new nn.GELU({ approximate: 'tanh' })), [1, 2, 3, 7], [2, 2, 5, 7]],
];

describe('exportOnnx: nn layers in ONNX Runtime', () => {
  test.each(CASES)('%s', async (_, make, shape, shape2) => {
    manualSeed(3);
    const m = withDevice(cpu32, make);
    randomBn(m, 7);
    m.eval();
    const bytes = await exportOnnx(m, shape);
    checkOnnxModel(decodeModel(bytes));
    const s = await session(bytes);
    const r = rng(9);
    for (const sh of [shape, shape2]) {
      const x = uniformArray(r, sh.reduce((a, b) => a * b), -1, 1);
      const xt = tensor(x, sh, { device: cpu32 });
      const want = noGrad(() => m.forward(xt));
      const got = await runOrt(s, x, sh);
      expect(got.dims).toEqual(want.shape);
      expect(maxAbs(got.data, await want.toArray())).toBeLessThanOrEqual(1e-5);
    }
    await s.release();
  });
});

describe('exportOnnx: TransUNet in ONNX Runtime', () => {
  test.each([
    ['pre-norm GELU encoder, position embeddings laid out for the traced size, resampled for another', { width: 4, depth: 2, imageSize: 32, layers: 2, heads: 2 }, [1, 1, 32, 32], [2, 1, 24, 40]],
    ['bilinear decoder, 3 classes, one layer of 4 heads, traced off its layout', { inChannels: 2, classes: 3, width: 4, depth: 3, bilinear: true, imageSize: 16, layers: 1, heads: 4, mlpDim: 24 }, [1, 2, 24, 32], [2, 2, 16, 16]],
  ] as const)('%s', async (_, opts, shape, shape2) => {
    manualSeed(5);
    const m = withDevice(cpu32, () => new TransUNet({ inChannels: 1, classes: 1, ...opts }));
    randomBn(m, 11);
    m.eval();
    const bytes = await exportOnnx(m, [...shape]);
    const model = decodeModel(bytes);
    checkOnnxModel(model);
    for (const op of ['LayerNormalization', 'Softmax', 'Erf', 'Resize', 'MatMul']) expect(model.graph!.node!.some((n) => n.op_type === op), op).toBe(true);
    const s = await session(bytes);
    const r = rng(13);
    for (const sh of [shape, shape2]) {
      const x = uniformArray(r, (sh as readonly number[]).reduce((a, b) => a * b, 1), -1, 1);
      const want = noGrad(() => m.forward(tensor(x, [...sh], { device: cpu32 })));
      const got = await runOrt(s, x, [...sh]);
      expect(got.dims).toEqual(want.shape);
      // float32 through LayerNorm, softmax and erf in two engines: rounding-sized differences on logits of size ~1.
      expect(maxAbs(got.data, await want.toArray())).toBeLessThanOrEqual(1e-4);
    }
    await s.release();
  });

  test('LayerNorm needs opset 17', async () => {
    const m = withDevice(cpu32, () => new nn.Sequential(new nn.LayerNorm(4))).eval();
    await expect(exportOnnx(m, [1, 1, 2, 4], { opset: 16 })).rejects.toThrow(/exportOnnx: 0: LayerNorm needs opset >= 17 \(LayerNormalization\), got 16/);
  });
});

describe('exportOnnx refuses what it cannot write', () => {
  const unet = () => withDevice(cpu32, () => new UNet({ inChannels: 1, classes: 1, width: 2, depth: 2, padding: 'valid' }));
  test('training mode, an unmapped layer, BatchNorm without running statistics', async () => {
    await expect(exportOnnx(unet(), [1, 1, 60, 60])).rejects.toThrow(/exportOnnx: UNet \(UNet\) is in training mode; call model\.eval\(\)/);
    class Custom extends nn.Identity {}
    await expect(exportOnnx(withDevice(cpu32, () => new nn.Sequential(new nn.ReLU(), new Custom())).eval(), [1, 1, 4, 4])).resolves.toBeInstanceOf(Uint8Array);
    class Doubled extends nn.ReLU {
      override forward(x: never) {
        return x;
      }
    }
    await expect(exportOnnx(withDevice(cpu32, () => new nn.Sequential(new nn.ReLU(), new Doubled())).eval(), [1, 1, 4, 4])).rejects.toThrow(/'1': Doubled replaces ReLU\.forward/);
    const Odd = class extends nn.Module {
      forward(x: never) {
        return x;
      }
    };
    await expect(exportOnnx(withDevice(cpu32, () => new nn.Sequential(new nn.ReLU(), new Odd())).eval(), [1, 1, 4, 4])).rejects.toThrow(/no ONNX mapping for Odd at '1'/);
    // A UNet whose bottleneck hook does something: refused, never written as a plain U-Net.
    class Hooked extends UNet {
      protected override bottleneck(y: never) {
        return y;
      }
    }
    const hooked = withDevice(cpu32, () => new Hooked({ inChannels: 1, classes: 1, width: 2, depth: 2 })).eval();
    await expect(exportOnnx(hooked, [1, 1, 16, 16])).rejects.toThrow(/exportOnnx: 'Hooked': Hooked replaces UNet\.bottleneck/);
    const noStats = withDevice(cpu32, () => new nn.BatchNorm2d(3, { trackRunningStats: false })).eval();
    await expect(exportOnnx(noStats, [1, 3, 4, 4])).rejects.toThrow(/without running statistics/);
  });

  test('bad options and shapes', async () => {
    const m = unet().eval();
    for (const [shape, opts, msg] of [
      [[1, 1, 60, 60], { opset: 12 }, /opset must be .*>= 13/],
      [[1, 1, 60, 60], { opset: 22 }, /opset must be .*<= 21/],
      [[1, 1, 60, 60], { dynamic: true }, /unknown option 'dynamic'/],
      [[1, 1, 60, 60], { dynamicAxes: { height: true } }, /unknown option 'height'/],
      [[1, 1, 60, 60], { metadata: { a: 1 } }, /metadata must be an object of strings/],
      [[1, 1, 60, 60], { inputName: '' }, /inputName must be a non-empty string/],
      [[1, 1, 60], {}, /inputShape must be \[N, C, H, W\]/],
      [[1, 3, 60, 60], {}, /has 3 channels, the U-Net takes 1/],
      [[1, 1, 20, 60], {}, /an input of 20 cannot run with padding 'valid'/],
    ] as const) {
      const e = await exportOnnx(m, shape as readonly number[], opts as never).catch((err: unknown) => err);
      expect(e, JSON.stringify(opts)).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(msg);
    }
  });
});
