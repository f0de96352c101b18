// Flat elementwise ops on a tensor over the binding limit (34M floats = 136 MB > 128 MiB on lavapipe) run in
// aligned windows and give the right answer: unary forward and backward, binary (same shape and with a
// scalar), full. Values are checked against JS at every element (a misplaced window shows at its boundary).
import { describe, expect, test } from 'vitest';
import { F, noGrad, stats, tensor, type Tensor } from '../../src/index.js';
import { gpuSuite } from '../helpers/gpu.js';

const { skip, dev } = await gpuSuite();

const N = 34_000_000; // 136 MB
/** Non-zero, sign-changing, with a period (1999 * 7) that no window size divides. */
const xAt = (i: number) => ((i % 1999) - 999.5) * 0.01 * (1 + (i % 7));

/** Indices to check: every 5th, plus 4096 on each side of every multiple of 2^20 (window starts) and the tail. */
function sampleIdx(): Int32Array {
  const idx: number[] = [];
  for (let i = 0; i < N; i += 5) idx.push(i);
  for (let b = 1 << 20; b < N; b += 1 << 20) for (let i = Math.max(0, b - 4096); i < Math.min(N, b + 4096); i++) idx.push(i);
  for (let i = N - 4096; i < N; i++) idx.push(i);
  return Int32Array.from(idx);
}

/** Reads t, disposes it, and compares the sampled elements with want(i) (reports the first difference). */
async function check(t: Tensor, want: (i: number) => number, idx: Int32Array): Promise<string> {
  const a = await t.toArray();
  t.dispose();
  if (a.length !== N) return `length ${a.length}`;
  let bad = 0;
  let first = -1;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (a[i] !== Math.fround(want(i))) {
      if (first < 0) first = i;
      bad++;
    }
  }
  return bad ? `${bad} of ${idx.length} sampled wrong, first at [${first}]: got ${a[first]}, want ${Math.fround(want(first))}` : 'ok';
}

describe.skipIf(skip)('flat elementwise ops over the binding limit', () => {
  test('relu forward + backward, add, mul by a scalar, full on 34M elements', async () => {
    expect(N * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const base = stats(dev);
    const data = new Float32Array(N);
    for (let i = 0; i < N; i++) data[i] = xAt(i);
    const x = tensor(data, [N], { device: dev, requiresGrad: true });
    const d0 = stats(dev).dispatches;
    const y = F.relu(x);
    expect(stats(dev).dispatches - d0).toBe(Math.ceil((N * 4) / dev.limits.maxBindingBytes)); // windows
    const relu = (i: number) => Math.max(data[i]!, 0);
    const idx = sampleIdx();
    const [z, m] = noGrad(() => [F.add(x, y), F.mul(x, -1.5)]);
    const seed = x.detach();
    y.backward(seed); // gx = x where x > 0, else 0
    for (const t of [y, seed]) t.dispose();
    const gx = x.grad!;
    x.dispose();
    expect(await check(z, (i) => data[i]! + relu(i), idx)).toBe('ok');
    expect(await check(m, (i) => data[i]! * -1.5, idx)).toBe('ok');
    expect(await check(gx, relu, idx)).toBe('ok');
    const f = F.full([N], 2.5, { device: dev });
    expect(await check(f, () => 2.5, idx)).toBe('ok');
    expect(stats(dev).liveBytes).toBe(base.liveBytes);
    expect(stats(dev).liveTensors).toBe(base.liveTensors);
  });
});
