// The small-limits test device (test/helpers/small_limits.ts) really refuses what it claims to: the split tests
// that use it would pass vacuously otherwise.
import { describe, expect, test } from 'vitest';
import { F, tensor } from '../../src/index.js';
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
});
