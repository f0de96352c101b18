// Reductions over the binding limit: a leading run of dims (a broadcast operand's gradient, a full reduction) splits
// into aligned blocks of rows whose partial results combine in order; other reductions refuse with a LimitError
// naming reduce. Against the unlimited device on the same values, on the CPU (float64) and on lavapipe.
import { describe, expect, test } from 'vitest';
import { F, LimitError, tensor, type Device, type Tensor } from '../../src/index.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randnArray, rng } from '../helpers/random.js';
import { smallLimits } from '../helpers/small_limits.js';

const { skip, dev } = await gpuSuite();
const R = rng(2024);
const x = randnArray(R, 300 * 24);
const b = randnArray(R, 24);
const gy = randnArray(R, 300 * 24);

async function run(d: Device) {
  const t = (data: ArrayLike<number>, shape: number[], grad = false) => tensor(Float64Array.from(data), shape, { device: d, requiresGrad: grad });
  const xt = t(x, [300, 24]);
  const x3 = t(x, [4, 75, 24]);
  const out: Record<string, ArrayLike<number>> = {};
  const read = async (name: string, y: Tensor) => (out[name] = await y.toArray());
  await read('sum0', F.sum(xt, 0));
  await read('mean01', F.mean(x3, [0, 1], true));
  await read('max0', F.max(x3, [0, 1]));
  await read('all', F.sum(xt));
  // A bias-like operand's gradient: sumTo over the leading dim of [300, 24].
  const xg = t(x, [300, 24], true);
  const bg = t(b, [24], true);
  F.add(xg, bg).backward(t(gy, [300, 24]));
  await read('gbias', bg.grad!);
  return out;
}

describe('reductions over a leading run of dims split past the binding limit', () => {
  test.each([
    ['CPU float64', () => cpu64],
    ['lavapipe', () => dev],
  ] as const)('%s behind 4 KiB bindings equals the unlimited device', async (name, inner) => {
    if (name === 'lavapipe' && skip) return;
    const small = smallLimits(inner(), { maxBindingBytes: 4 << 10 }); // 1024 floats, 256-byte offsets
    const want = await run(inner());
    const before = small.launches;
    const got = await run(small);
    expect(small.launches - before).toBeGreaterThan(20);
    const tol = name === 'lavapipe' ? { rtol: 1e-5, atol: 1e-4 } : { rtol: 1e-12, atol: 1e-11 };
    for (const k of Object.keys(want)) expect(got[k], k).toBeAllClose(want[k]!, k.startsWith('max') ? { rtol: 0, atol: 0 } : tol);
  });

  test('a reduction over trailing dims past the limit is a LimitError naming reduce and the shape', () => {
    const small = smallLimits(cpu64, { maxBindingBytes: 4 << 10 });
    const xt = tensor(Float64Array.from(x), [300, 24], { device: small });
    expect(() => F.sum(xt, 1)).toThrow(LimitError);
    expect(() => F.sum(xt, 1)).toThrow(/^reduce: maxStorageBufferBindingSize .*reducing dims \[1\] of \[300, 24\] is split only over a leading run/);
  });
});
