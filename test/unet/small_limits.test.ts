// A whole U-Net forward and backward on a device with small bindings (smallLimits: every launch's bindings checked
// against the limit, so every op must split into aligned windows or blocks) equals the same run on the unlimited
// device. Exactly, in float64 on the CPU reference device, with each convolution family forced (the planners are the
// same on every device; float64 makes the comparison exact short of true ties: no ReLU flips from float32 rounding).
// On the GPU behind 1 MiB bindings: outputs and loss to float32 rounding. Any uncaptured WebGPU error surfaces at the
// readbacks (the backend rethrows it there), so it fails the test too.
import { describe, expect, test } from 'vitest';
import { bceWithLogits, conv2d, gt, manualSeed, noGrad, rand, randn, UNet, withDevice, withKernelPolicy, type ConvVariant, type Device } from '../../src/index.js';
import { relL2 } from '../../src/unet/check_torch.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { smallLimits } from '../helpers/small_limits.js';

const { skip, dev } = await gpuSuite();

/** Forward, BCE loss and backward of a U-Net (convs without bias, as milesial's: a bias before BatchNorm gets a zero gradient). */
async function run(d: Device, width: number, size: number, batch: number) {
  manualSeed(21);
  return withDevice(d, async () => {
    const net = new UNet({ inChannels: 1, classes: 2, width, depth: 3, padding: 'same', bias: false });
    const x = randn([batch, 1, size, size], { seed: 22 });
    const target = noGrad(() => gt(rand([batch, 2, size, size], { seed: 23 }), 0.5));
    const y = net.forward(x);
    const loss = bceWithLogits(y, target);
    loss.backward();
    const out = {
      y: await y.toArray(),
      loss: await loss.item(),
      grads: await Promise.all(net.namedParameters().map(async ([name, p]) => [name, await p.grad!.toArray()] as const)),
    };
    net.dispose();
    for (const t of [x, target, y, loss]) t.dispose();
    return out;
  });
}

describe('small bindings, float64 (CPU reference device): every convolution family', () => {
  test('a weight that does not fit one binding is a LimitError naming it, before any allocation', () => {
    const small = smallLimits(cpu64, { maxBindingBytes: 64 << 10 });
    const before = small.stats().liveStorages;
    const x = withDevice(small, () => randn([1, 64, 8, 8]));
    const w = withDevice(small, () => randn([64, 64, 3, 3]));
    expect(() => conv2d(x, w)).toThrow(/conv2d: maxStorageBufferBindingSize is 65536 bytes on this device, .*weight \[64, 64, 3, 3\] \(packed: 39168 elements\) does not fit one binding/);
    expect(small.stats().liveStorages).toBe(before + 2);
    for (const t of [x, w]) t.dispose();
  });

  // 256 KiB bindings: every weight (the largest, 64 x 64 x 3 x 3, packed: 39,168 floats) fits one, the first level's
  // activations (2 x 8 x 80 x 80 = 102,400 floats) and their gradients do not: batch items, channel blocks, and for
  // Winograd its transformed weights in channel blocks.
  test.each([
    ['portable', 256 << 10, 8, 80, 2],
    ['subgroup', 256 << 10, 8, 80, 2],
    ['winograd', 256 << 10, 8, 80, 2],
  ] as [ConvVariant, number, number, number, number][])('%s under %i-byte bindings == unlimited', async (v, bytes, width, size, batch) => {
    const small = smallLimits(cpu64, { maxBindingBytes: bytes });
    const policy = { convForward: v, convWeightGrad: v };
    const want = await withKernelPolicy(cpu64, policy, () => run(cpu64, width, size, batch));
    const got = await withKernelPolicy(small, policy, () => run(small, width, size, batch));
    expect(batch * width * size * size * 4).toBeGreaterThan(bytes);
    expect(small.launches).toBeGreaterThan(100);
    expect(relL2(got.y, want.y)).toBeLessThan(1e-12);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-12);
    for (const [i, [name, g]] of got.grads.entries()) expect(relL2(g, want.grads[i]![1]), name).toBeLessThan(1e-10);
  });
});

describe.skipIf(skip)('1 MiB bindings on the GPU', () => {
  test('U-Net width 16, 2x1x96x96: forward and loss equal the unlimited run, gradients to float32 rounding', async () => {
    const small = smallLimits(dev, { maxBindingBytes: 1 << 20 });
    const want = await run(dev, 16, 96, 2);
    const got = await run(small, 16, 96, 2);
    // The first level's activations (2 x 16 x 96 x 96 floats, 1.2 MB) and their gradients exceed one binding.
    expect(2 * 16 * 96 * 96 * 4).toBeGreaterThan(1 << 20);
    expect(small.launches).toBeGreaterThan(100);
    // Split launches sum in other orders (channel blocks accumulate; Winograd bands, or the direct kernels where a block
    // is too small for Winograd), so float32 results differ by rounding, measured as check-torch does.
    expect(relL2(got.y, want.y)).toBeLessThan(1e-5);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-6);
    // Gradients: over 300k ReLUs, a few pre-activations within float32 rounding of zero flip (each moves a weight
    // gradient by up to ~1e-2 relative), so float32 gradients are compared loosely here; the exact comparison of the
    // same split logic is the float64 one above.
    const worst = Math.max(...got.grads.map(([, g], i) => relL2(g, want.grads[i]![1])));
    console.log(`[1 MiB bindings] ${small.launches} launches; relative L2: y ${relL2(got.y, want.y).toExponential(2)}, worst gradient ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(2e-2);
  });
});
