// Ownership: live tensors and bytes return to their baseline after forward + backward + disposal (and when a
// graph is dropped without backward: its saved tensors are freed), tidy / keep / `using` / idempotent dispose.
import { describe, expect, test } from 'vitest';
import { F, keep, stats, tensor, tidy, Tensor, type Device } from '../../src/index.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { randnArray, rng } from '../helpers/random.js';

const { skip, dev } = await gpuSuite();

const live = (d: Device) => {
  const s = stats(d);
  return { tensors: s.liveTensors, bytes: s.liveBytes, storages: s.liveStorages };
};

/** A small training-like graph of most foundation ops; returns the loss (the intermediates are the caller's). */
function forward(x: Tensor, w: Tensor, t: Tensor): Tensor {
  const h = F.matmul(x, w); // [4, 3]
  const a = F.sigmoid(F.add(h, F.reshape(F.mean(w, 0), [1, 3])));
  const b = F.maximum(F.tanh(h), F.pow(F.abs(h), 1.5));
  const d = F.sub(F.mul(a, b), t);
  return F.add(F.mean(F.mul(d, d)), F.sum(F.max(F.expand(F.exp(F.neg(a)), [2, 4, 3]), [0, 1])));
}

describe.skipIf(skip)('live tensors and bytes return to baseline (GPU device)', () => {
  const r = rng(400);
  const leaves = () => [
    tensor(randnArray(r, 8), [4, 2], { device: dev, requiresGrad: true }),
    tensor(randnArray(r, 6), [2, 3], { device: dev, requiresGrad: true }),
    tensor(randnArray(r, 12), [4, 3], { device: dev }),
  ];

  test('forward (in tidy) + backward + disposing output and grads', async () => {
    const base = live(dev);
    const [x, w, t] = leaves();
    const loss = tidy(() => forward(x!, w!, t!));
    expect(live(dev).tensors).toBeGreaterThan(base.tensors + 4); // leaves, loss, saved tensors
    loss.backward();
    expect(x!.grad).not.toBeNull();
    expect(w!.grad).not.toBeNull();
    await dev.sync();
    for (const v of [loss, x!.grad!, w!.grad!, x!, w!, t!]) v.dispose();
    expect(live(dev)).toEqual(base);
  });

  test('forward without tidy, intermediates disposed by hand, backward, then everything', async () => {
    const base = live(dev);
    const [x, w, t] = leaves();
    const h = F.matmul(x!, w!);
    const e = F.exp(h);
    const s = F.sub(e, t!);
    const sq = F.mul(s, s);
    const loss = F.sum(sq);
    for (const v of [h, e, s, sq]) v.dispose(); // the graph keeps what backward needs
    loss.backward();
    for (const v of [loss, x!.grad!, w!.grad!, x!, w!, t!]) v.dispose();
    expect(live(dev)).toEqual(base);
  });

  test('an output disposed WITHOUT backward frees the saved tensors of its graph', async () => {
    const base = live(dev);
    const [x, w, t] = leaves();
    const withLeaves = live(dev);
    const loss = tidy(() => forward(x!, w!, t!));
    expect(live(dev).tensors).toBeGreaterThan(withLeaves.tensors + 1); // saved tensors are alive
    loss.dispose();
    expect(live(dev)).toEqual(withLeaves);
    // Also when the intermediates outlive the output: the last handle frees the rest.
    const h = F.matmul(x!, w!);
    const e = F.exp(h);
    const out = F.sum(e);
    out.dispose();
    expect(live(dev).tensors).toBeGreaterThan(withLeaves.tensors);
    e.dispose();
    h.dispose();
    expect(live(dev)).toEqual(withLeaves);
    for (const v of [x!, w!, t!]) v.dispose();
    expect(live(dev)).toEqual(base);
  });
});

describe('tidy, keep, using, dispose (CPU device)', () => {
  const d = cpu32;
  const T = (n = 3) => tensor(Array.from({ length: n }, (_, i) => i + 1), [n], { device: d });

  test('tidy disposes intermediates and keeps what it returns (directly, in arrays and objects)', async () => {
    const base = live(d).tensors;
    const x = T();
    let inner: Tensor[] = [];
    const [y, { z }] = tidy(() => {
      const a = F.mul(x, 2);
      const b = F.add(a, 1);
      inner = [a, b];
      return [F.exp(b), { z: F.neg(a) }] as const;
    });
    expect(inner.every((t) => t.disposed)).toBe(true);
    expect(x.disposed).toBe(false);
    expect(y.disposed || z.disposed).toBe(false);
    expect(await z.toArray()).toEqual(Float32Array.from([-2, -4, -6]));
    expect(live(d).tensors).toBe(base + 3);
    for (const v of [x, y, z]) v.dispose();
    expect(live(d).tensors).toBe(base);
  });

  test('keep() survives its tidy; nested tidy hands results to the outer scope', () => {
    const base = live(d).tensors;
    let kept!: Tensor;
    let fromInner!: Tensor;
    tidy(() => {
      kept = keep(F.mul(T(), 2));
      fromInner = tidy(() => F.add(T(), 1));
      expect(fromInner.disposed).toBe(false);
      return null;
    });
    expect(kept.disposed).toBe(false);
    expect(fromInner.disposed).toBe(true); // returned by the inner scope, not by the outer one
    kept.dispose();
    expect(live(d).tensors).toBe(base);
    expect(() => tidy(() => Promise.resolve(1) as unknown as number)).toThrow(TypeError);
  });

  test('`using` disposes at the end of the block', () => {
    const base = live(d);
    let seen!: Tensor;
    {
      using t = T(5);
      seen = t;
      expect(live(d).tensors).toBe(base.tensors + 1);
    }
    expect(seen.disposed).toBe(true);
    expect(live(d)).toEqual(base);
    expect(typeof (Tensor.prototype as unknown as Record<symbol, unknown>)[Symbol.dispose]).toBe('function');
  });

  test('dispose is idempotent; a view keeps the storage until it goes too', () => {
    const base = live(d);
    const x = T(4);
    const v = x.reshape(2, 2);
    x.dispose();
    x.dispose();
    expect(x.disposed).toBe(true);
    expect(live(d).tensors).toBe(base.tensors + 1);
    expect(live(d).bytes).toBe(base.bytes + 16); // the view holds the storage
    v.dispose();
    v[Symbol.dispose]();
    expect(live(d)).toEqual(base);
  });
});
