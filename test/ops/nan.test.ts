// NaN propagates as in PyTorch, forward and backward, and the GPU agrees with the CPU references: relu and the fused
// BatchNorm+ReLU keep NaN (their gradient passes g where x is NaN), maximum / minimum and the max reduction return
// NaN when an operand is NaN (and pass g to both sides, torch's rule), max pooling picks NaN, and one NaN pixel
// makes a U-Net's loss NaN. (WGSL lets compilers assume no NaN and leaves max(NaN, x) unspecified: lavapipe returned
// the other operand, so relu(NaN) was 0 and a NaN input gave a finite loss.)
import { describe, expect, test } from 'vitest';
import { batchNormRelu, F, manualSeed, maximum, maxPool2d, minimum, noGrad, relu, tensor, UNet, withDevice, type Device, type Tensor } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';

const { devices } = await gpuSuite();
const all = () => devices(cpu64, cpu32);
const arr = async (t: Tensor) => Array.from(await t.toArray());
const name = (d: Device) => d.description;

describe('NaN propagates on every device', () => {
  test.each(all().map((d) => [name(d), d] as const))('relu and its gradient: %s', async (_n, d) => {
    const x = tensor([NaN, -1, 0, 2, -0.5], [5], { device: d, requiresGrad: true });
    const y = relu(x);
    expect(await arr(y)).toEqual([NaN, 0, 0, 2, 0]);
    y.backward(tensor([3, 4, 5, 6, 7], [5], { device: d }));
    // PyTorch: threshold_backward zeroes g only where x <= 0, so NaN passes g.
    expect(await arr(x.grad!)).toEqual([3, 0, 0, 6, 0]);
  });

  test.each(all().map((d) => [name(d), d] as const))('maximum / minimum and their gradients: %s', async (_n, d) => {
    const a = tensor([NaN, 1, 2, 5, NaN], [5], { device: d, requiresGrad: true });
    const b = tensor([1, NaN, 2, 3, NaN], [5], { device: d, requiresGrad: true });
    const mx = maximum(a, b);
    const mn = minimum(a, b);
    expect(await arr(mx)).toEqual([NaN, NaN, 2, 5, NaN]);
    expect(await arr(mn)).toEqual([NaN, NaN, 2, 3, NaN]);
    mx.sum().backward();
    // torch.maximum's backward: g where a wins or either is NaN, g / 2 on ties, 0 where it loses.
    expect(await arr(a.grad!)).toEqual([1, 1, 0.5, 1, 1]);
    expect(await arr(b.grad!)).toEqual([1, 1, 0.5, 0, 1]);
  });

  test.each(all().map((d) => [name(d), d] as const))('max reduction and max pooling: %s', async (_n, d) => {
    const v = Array.from({ length: 2 * 1 * 4 * 4 }, (_, i) => (i % 7) - 3);
    v[5] = NaN; // item 0, row 1, column 1: the first 2x2 window of item 0
    const x = tensor(v, [2, 1, 4, 4], { device: d });
    expect(await arr(x.max())).toEqual([NaN]);
    expect(await arr(x.max([2, 3]))).toEqual([NaN, Math.max(...v.slice(16))]);
    const p = await arr(maxPool2d(x, { kernelSize: 2 }));
    expect(p[0]).toBeNaN();
    expect(p.slice(1).every((e) => Number.isFinite(e))).toBe(true);
  });

  test.each(all().map((d) => [name(d), d] as const))('batchNormRelu keeps NaN, forward and backward: %s', async (_n, d) => {
    // Evaluation (running statistics): only the NaN element is NaN, so the ReLU's choice is visible per element.
    const xs = [NaN, -2, 1, 3, -1, 2, 0.5, -4];
    const x = tensor(xs, [2, 1, 2, 2], { device: d, requiresGrad: true });
    const rm = tensor([0.5], [1], { device: d });
    const rv = tensor([4], [1], { device: d });
    const y = batchNormRelu(x, rm, rv, null, null, { training: false, eps: 0 });
    const want = xs.map((v) => ((v - 0.5) / 2 > 0 || Number.isNaN(v) ? (v - 0.5) / 2 : 0));
    expect(await arr(y)).toEqual(want);
    y.backward(tensor(xs.map((_, i) => i + 1), [2, 1, 2, 2], { device: d }));
    expect(await arr(x.grad!)).toEqual(xs.map((v, i) => ((v - 0.5) / 2 > 0 || Number.isNaN(v) ? (i + 1) / 2 : 0)));
    // Training: the batch statistics are NaN, so every element of the channel is.
    const yt = noGrad(() => batchNormRelu(tensor(xs, [2, 1, 2, 2], { device: d }), null, null, null, null, { training: true }));
    expect((await arr(yt)).every(Number.isNaN)).toBe(true);
  });

  test.each(all().filter((d) => !d.f64).map((d) => [name(d), d] as const))('one NaN pixel makes the U-Net loss NaN: %s', async (_n, d) => {
    manualSeed(3);
    const net = withDevice(d, () => new UNet({ inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'same' }));
    const v = Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i));
    v[37] = NaN;
    const x = tensor(v, [1, 1, 16, 16], { device: d });
    const target = tensor(v.map((e, i) => (i % 3 === 0 ? 1 : 0)), [1, 1, 16, 16], { device: d });
    const loss = F.bceWithLogits(net.forward(x), target);
    expect((await arr(loss))[0]).toBeNaN();
    loss.backward();
    // NaN reaches the first layer's weight gradient too.
    expect((await arr(net.parameters()[0]!.grad!)).some(Number.isNaN)).toBe(true);
    net.dispose();
  });
});
