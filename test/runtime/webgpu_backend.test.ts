// The WebGPU runtime: buffer reuse only after the encoder that may read a buffer is submitted, one submit for
// a chain of ops until a readback, the uniform arena across many dispatches of one submit, grid folding.
import { describe, expect, test } from 'vitest';
import { F, noGrad, stats, tensor, type Tensor } from '../../src/index.js';
import { KERNELS } from '../../src/kernels/index.js';
import { BufferPool } from '../../src/kernels/runtime/pool.js';
import { gpuSuite } from '../helpers/gpu.js';
import { randnArray, rng } from '../helpers/random.js';

const { skip, dev } = await gpuSuite();

describe.skipIf(skip)('buffer pool', () => {
  test('a released buffer is not handed out before a flush; after the flush it is reused', async () => {
    await dev.sync();
    const n = 1000 + 37; // a size bucket no other test here uses
    const a = dev.alloc(n, 'f32');
    const y = dev.alloc(n, 'f32');
    dev.upload(a, new Float32Array(n).fill(1.5));
    dev.run(KERNELS.relu, { x: a }, { y }, { n, a: 0 }); // encoded, not submitted: it still reads `a`
    const before = stats(dev).allocations;
    dev.free(a);
    const b = dev.alloc(n, 'f32'); // must not be a's buffer (the pending relu reads it)
    expect(stats(dev).allocations - before).toBe(1);
    dev.free(b);
    dev.flush();
    const c = dev.alloc(n, 'f32'); // now a released buffer of this size is reused
    const d = dev.alloc(n, 'f32');
    expect(stats(dev).allocations - before).toBe(1);
    // Reuse is safe: c's new contents do not leak into the earlier relu's result.
    dev.upload(c, new Float32Array(n).fill(-7));
    dev.upload(d, new Float32Array(n).fill(-7));
    expect([...(await dev.download(y)).slice(0, 3)]).toEqual([1.5, 1.5, 1.5]);
    for (const s of [y, c, d]) dev.free(s);
  });

  test('a flush with nothing encoded still makes released buffers reusable', () => {
    const n = 2000 + 11;
    const a = dev.alloc(n, 'f32');
    dev.flush(); // submits a's pending upload (nothing else encoded)
    const before = stats(dev).allocations;
    dev.free(a);
    dev.flush();
    const b = dev.alloc(n, 'f32');
    expect(stats(dev).allocations - before).toBe(0);
    dev.free(b);
  });

  test('size buckets waste at most 12.5% and are 256-byte multiples', () => {
    for (const bytes of [1, 4, 255, 257, 65536, 65537, 1e6, 123456789]) {
      const b = BufferPool.bucket(bytes);
      expect(b).toBeGreaterThanOrEqual(bytes);
      expect(b % 256).toBe(0);
      if (bytes > 256) expect(b / bytes).toBeLessThanOrEqual(1.125 + 256 / bytes);
    }
  });
});

describe.skipIf(skip)('command batching', () => {
  test('a chain of 100 elementwise ops is one submit, made by the readback', async () => {
    const r = rng(500);
    const data = randnArray(r, 777);
    await dev.sync();
    const s0 = stats(dev);
    let x: Tensor = tensor(data, [777], { device: dev });
    noGrad(() => {
      for (let i = 0; i < 100; i++) {
        const next = i % 3 === 0 ? F.mul(x, 0.99) : i % 3 === 1 ? F.add(x, 0.01) : F.neg(x);
        x.dispose();
        x = next;
      }
    });
    const s1 = stats(dev);
    expect(s1.dispatches - s0.dispatches).toBeGreaterThanOrEqual(100);
    expect(s1.submits - s0.submits).toBe(0);
    const got = await x.toArray();
    x.dispose();
    expect(stats(dev).submits - s0.submits).toBe(1);
    const want = Float64Array.from(data);
    for (let i = 0; i < 100; i++) for (let j = 0; j < want.length; j++) want[j] = i % 3 === 0 ? want[j]! * 0.99 : i % 3 === 1 ? want[j]! + 0.01 : -want[j]!;
    expect(got).toBeAllClose(want, { rtol: 1e-4, atol: 1e-6 });
  });

  test('uniform arena: 600 fills and 600 reductions in one submit, each with its own params', async () => {
    await dev.sync();
    const s0 = stats(dev);
    const K = 600;
    const len = (i: number) => (i % 50) + 1;
    const sums: Tensor[] = [];
    for (let i = 0; i < K; i++) {
      const t = F.full([len(i)], i + 0.25, { device: dev }); // distinct value per dispatch
      sums.push(F.sum(t)); // distinct length (and so params) per dispatch
      t.dispose();
    }
    expect(stats(dev).dispatches - s0.dispatches).toBe(2 * K);
    const first = await sums[0]!.item();
    expect(stats(dev).submits - s0.submits).toBe(1); // more params than one 64 KiB arena chunk, one submit
    expect(first).toBe(0.25);
    const bad: string[] = [];
    for (let i = 0; i < K; i++) {
      const v = await sums[i]!.item();
      if (v !== len(i) * (i + 0.25)) bad.push(`#${i}: ${v} != ${len(i) * (i + 0.25)}`);
      sums[i]!.dispose();
    }
    expect(bad).toEqual([]);
  });
});

describe.skipIf(skip)('grid folding through an op', () => {
  test('relu on 65,536 * 256 + 5 elements (65,537 workgroups of 256: folded into y)', async () => {
    const n = 65536 * 256 + 5;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i % 1013) - 506.5) * (1 + (i % 3));
    using x = tensor(data, [n], { device: dev });
    using y = F.relu(x);
    const got = await y.toArray();
    let bad = 0;
    let first = -1;
    for (let i = 0; i < n; i++) {
      if (got[i] !== Math.max(data[i]!, 0)) {
        bad++;
        if (first < 0) first = i;
      }
    }
    expect(bad, `first wrong at ${first}`).toBe(0);
    expect(dev.foldGrid('relu', [65537])).toEqual([32769, 2, 1]);
  });
});
