// Activation checkpointing (UNet.setCheckpointing, checkpoint()): the same step with and without it gives bit-identical
// losses, parameter gradients, input gradients and running statistics (num_batches_tracked moves once per forward,
// not twice), a dropout inside a checkpointed block replays its mask, grad-off calls are plain calls, and nothing
// leaks. Peak memory and time are measured by `bench --checkpointing`, not here.
import { describe, expect, test } from 'vitest';
import {
  bceWithLogits, checkpoint, dropout, gt, manualSeed, mul, noGrad, rand, randn, relu, stats, tidy, UNet, withDevice, type Device, type Tensor,
} from '../../src/index.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';

const { devices } = await gpuSuite();

const bits = async (t: Tensor): Promise<number[]> => [...new Uint32Array(new Float32Array(await t.toArray()).buffer)];

/** Two train-mode steps of a width-4, depth-2 U-Net (both up modes): loss, every gradient and buffer, as bits. */
async function run(d: Device, bilinear: boolean, on: boolean) {
  manualSeed(5);
  const net = withDevice(d, () => new UNet({ inChannels: 2, classes: 1, width: 4, depth: 2, bilinear }).setCheckpointing(on));
  const x = randn([2, 2, 20, 20], { device: d }).requiresGrad_();
  const target = noGrad(() => tidy(() => gt(rand([2, 1, 20, 20], { device: d }), 0.5)));
  const out: Record<string, number[]> = {};
  for (let step = 0; step < 2; step++) {
    for (const p of net.parameters()) p.grad = null;
    const loss = tidy(() => bceWithLogits(net.forward(x), target));
    loss.backward();
    out[`loss${step}`] = await bits(loss);
    loss.dispose();
  }
  for (const [k, p] of net.namedParameters()) out[`grad ${k}`] = await bits(p.grad!);
  for (const [k, b] of net.namedBuffers()) out[`buffer ${k}`] = b.dtype === 'i32' ? [...(await b.toArray())] : await bits(b);
  out['grad x'] = await bits(x.grad!);
  for (const t of [x, target]) t.dispose();
  net.dispose();
  return out;
}

describe('activation checkpointing changes memory, not numbers', () => {
  for (const d of devices(cpu32)) {
    for (const bilinear of [false, true]) {
      test(`U-Net ${bilinear ? 'bilinear' : 'transposed-conv'} on ${d.description}: bit-identical gradients and running statistics`, async () => {
        const plain = await run(d, bilinear, false);
        const ckpt = await run(d, bilinear, true);
        expect(Object.keys(ckpt)).toEqual(Object.keys(plain));
        expect(plain['buffer inc.double_conv.1.num_batches_tracked']).toEqual([2]);
        // Not a check on zeros: every gradient has non-zero entries.
        for (const [k, v] of Object.entries(plain)) if (k.startsWith('grad')) expect(v.some((b) => b !== 0), k).toBe(true);
        for (const k of Object.keys(plain)) expect(ckpt[k], k).toEqual(plain[k]);
      });
    }

    test(`checkpoint() replays a dropout mask and leaks nothing on ${d.description}`, async () => {
      const w = randn([3, 50], { device: d, seed: 1 }).requiresGrad_();
      const x = randn([3, 50], { device: d, seed: 2 }).requiresGrad_();
      const block = (v: Tensor) => tidy(() => relu(dropout(mul(v, w), 0.5)));
      const grads = async (on: boolean) => {
        manualSeed(77);
        for (const t of [w, x]) {
          t.grad?.dispose();
          t.grad = null;
        }
        const y = on ? checkpoint(block, [x], [w]) : block(x);
        const s = tidy(() => mul(y, y).sum());
        y.dispose();
        s.backward();
        s.dispose();
        // Whatever the block drew, the next draw of the global generator is the same as without checkpointing.
        const next = rand([4], { device: d });
        const r = [await bits(w.grad!), await bits(x.grad!), await bits(next)];
        next.dispose();
        return r;
      };
      const plain = await grads(false);
      const before = stats(d).liveTensors;
      const ckpt = await grads(true);
      expect(stats(d).liveTensors).toBe(before);
      expect(ckpt).toEqual(plain);
      expect(plain[0]!.filter((b) => b === 0).length).toBeGreaterThan(10); // the mask really dropped entries
      // With grad off it is the plain call: no node.
      const y = noGrad(() => checkpoint(block, [x], [w]));
      expect(y.node).toBe(null);
      y.dispose();
      for (const t of [w, x]) {
        t.grad?.dispose();
        t.dispose();
      }
    });
  }
});
