// The small-limits test device (test/helpers/small_limits.ts) really refuses what it claims to: the split tests
// that use it would pass vacuously otherwise.
import { describe, expect, test } from 'vitest';
import { F, tensor, type Device, type Tensor } from '../../src/index.js';
import type { Storage } from '../../src/kernels/backend.js';
import { cpu32 } from '../helpers/gpu.js';
import { checkBindings, smallLimits } from '../helpers/small_limits.js';

const storage = (numel: number): Storage => ({ numel, dtype: 'f32', bytes: numel * 4 });
const LIMITS = { maxBindingBytes: 256, maxBufferBytes: 1 << 20, bindingOffsetAlignment: 64 };

describe('smallLimits', () => {
  test('checkBindings: size (a 0-element binding counts as one element) and offset alignment', () => {
    expect(() => checkBindings('k', [storage(64), { storage: storage(200), offset: 16, numel: 64 }, storage(0)], LIMITS)).not.toThrow();
    expect(() => checkBindings('k', [storage(64), storage(65)], LIMITS)).toThrow('k: binding 1 covers 260 bytes, over the limit of 256');
    expect(() => checkBindings('k', [{ storage: storage(200), offset: 8, numel: 8 }], LIMITS)).toThrow('k: binding 0 starts at byte 32, not a multiple of 64');
  });

  test('reports its limits, leaves the wrapped device alone, splits ops and counts launches', async () => {
    const before = { ...cpu32.limits };
    const small = smallLimits(cpu32, { maxBindingBytes: 1024 });
    expect(small.limits).toEqual({ ...before, maxBindingBytes: 1024, bindingOffsetAlignment: 256 });
    expect(cpu32.limits).toEqual(before);
    const x = tensor(Float32Array.from({ length: 1000 }, (_, i) => i), [1000], { device: small });
    const y = F.mul(x, x);
    expect(small.launches).toBeGreaterThan(1);
    expect(Array.from(await y.toArray())).toEqual(Array.from({ length: 1000 }, (_, i) => i * i));
    x.dispose();
    y.dispose();
  });

  test('gelu (both forms) and silu, forward and backward, split into windows: the same bits as unsplit', async () => {
    const small = smallLimits(cpu32, { maxBindingBytes: 1024 });
    const data = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 4 + 0.01);
    const ops: [string, (t: Tensor) => Tensor][] = [['gelu', (t) => F.gelu(t)], ['gelu tanh', (t) => F.gelu(t, { approximate: 'tanh' })], ['silu', F.silu]];
    for (const [name, f] of ops) {
      const run = async (d: Device) => {
        const x = tensor(data, [4, 250], { device: d, requiresGrad: true });
        const y = f(x);
        y.backward(tensor(Float32Array.from(data, (v) => 0.5 - v / 8), [4, 250], { device: d }));
        const out = [Array.from(await y.toArray()), Array.from(await x.grad!.toArray())];
        x.grad!.dispose();
        x.dispose();
        y.dispose();
        return out;
      };
      const before = small.launches;
      const [ys, gs] = await run(small);
      expect(small.launches - before, name).toBeGreaterThan(4);
      const [yb, gb] = await run(cpu32);
      expect(ys, name).toEqual(yb);
      expect(gs, name).toEqual(gb);
    }
  });
});
