// Determinism: the same seed gives bit-identical losses over 20 training steps of a small U-Net on the same adapter
// (fixed-order reductions, no float atomics, the same kernel choice for the same shapes).
import { describe, expect, test } from 'vitest';
import { Adam, bceWithLogits, gt, manualSeed, noGrad, rand, randn, tidy, UNet, withDevice, type Device } from '../../src/index.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';

const { devices } = await gpuSuite();

/** 20 Adam steps of a width-4, depth-2 U-Net (BatchNorm, pooling, transposed convs, concat) from `seed`: the losses. */
async function losses(d: Device, seed: number, steps = 20): Promise<Float32Array> {
  manualSeed(seed);
  const net = withDevice(d, () => new UNet({ inChannels: 1, classes: 1, width: 4, depth: 2 }));
  const x = randn([2, 1, 16, 16], { device: d });
  const target = noGrad(() => tidy(() => gt(rand([2, 1, 16, 16], { device: d }), 0.5)));
  const opt = new Adam(net.parameters(), { lr: 0.01 });
  const out = new Float32Array(steps);
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const loss = tidy(() => bceWithLogits(net.forward(x), target));
    loss.backward();
    opt.step();
    out[i] = await loss.item();
    loss.dispose();
  }
  for (const t of [x, target]) t.dispose();
  net.dispose();
  return out;
}

describe('the same seed, the same losses, bit for bit', () => {
  for (const d of devices(cpu32)) {
    test(`20 training steps on ${d.description}`, async () => {
      const a = await losses(d, 1234);
      const b = await losses(d, 1234);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(a[19]).toBeLessThan(a[0]!); // it trains: the check is not on a constant
      expect([...new Uint32Array(b.buffer)]).toEqual([...new Uint32Array(a.buffer)]);
      // Another seed is another run.
      const c = await losses(d, 99, 2);
      expect(c[0]).not.toBe(a[0]);
    });
  }
});
