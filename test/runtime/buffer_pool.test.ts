// The buffer pool's policy, on a fake GPUDevice that only counts buffers: reuse after submit only, a request takes
// the smallest pooled buffer that fits (up to `fit` times its bucket), the cap on pooled bytes, and the eviction of
// idle pooled buffers on a miss (above keepPooledBytes) while the sizes in use are never destroyed.
import { describe, expect, test } from 'vitest';
import { BufferPool, type BufferPoolOptions } from '../../src/kernels/runtime/pool.js';

interface FakeBuffer {
  size: number;
  id: number;
  destroyed: boolean;
  destroy(): void;
}

function fakePool(opts: BufferPoolOptions = {}) {
  const made: FakeBuffer[] = [];
  const device = {
    createBuffer: ({ size }: { size: number }) => {
      const b: FakeBuffer = { size, id: made.length, destroyed: false, destroy: () => void (b.destroyed = true) };
      made.push(b);
      return b;
    },
  } as unknown as GPUDevice;
  const pool = new BufferPool(device, 2 ** 32, opts);
  const held = () => made.filter((b) => !b.destroyed).reduce((s, b) => s + b.size, 0);
  const get = (bytes: number) => pool.acquire(bytes) as unknown as FakeBuffer;
  const put = (b: FakeBuffer) => pool.release(b as unknown as GPUBuffer);
  return { pool, made, held, get, put };
}

const MB = 2 ** 20;

describe('BufferPool policy (fake device)', () => {
  test('a released buffer is reused only after the submit; same bucket first', () => {
    const { pool, get, put } = fakePool();
    const a = get(1000);
    put(a);
    expect(get(1000)).not.toBe(a); // pending: the open encoder may still read it
    pool.afterSubmit();
    expect(get(1000)).toBe(a);
    expect(pool.allocations).toBe(2);
  });

  test('a request takes the smallest pooled buffer of at least its bucket, up to `fit` times larger', () => {
    const { pool, get, put } = fakePool({ fit: 1.5 });
    const big = get(14 * MB);
    const mid = get(11 * MB);
    const small = get(4 * MB);
    for (const b of [big, mid, small]) put(b);
    pool.afterSubmit();
    expect(get(10 * MB)).toBe(mid); // 11 MiB fits 10 (and is smaller than 14)
    expect(get(10 * MB)).toBe(big); // 14 <= 1.5 * 10
    const before = pool.allocations;
    expect(get(2 * MB)).not.toBe(small); // 4 MiB is more than 1.5 x 2: a new buffer
    expect(pool.allocations).toBe(before + 1);
    expect(pool.pooledBytes).toBe(small.size);
  });

  test('pooled bytes never exceed the cap: the excess is destroyed at release', () => {
    const { pool, get, put, held } = fakePool({ maxPooledBytes: 10 * MB });
    const bufs = [get(4 * MB), get(4 * MB), get(4 * MB)];
    for (const b of bufs) put(b);
    pool.afterSubmit();
    expect(pool.pooledBytes).toBe(8 * MB);
    expect(bufs.filter((b) => b.destroyed)).toHaveLength(1);
    expect(held()).toBe(8 * MB);
  });

  test('a miss destroys pooled buffers idle for evictIdleSubmits submits (oldest first), not the ones in use', () => {
    const { pool, get, put, held } = fakePool({ evictIdleSubmits: 2, keepPooledBytes: 0 });
    const old = get(8 * MB);
    put(old);
    pool.afterSubmit(); // submit 1: `old` pooled
    const recent = get(3 * MB);
    put(recent);
    pool.afterSubmit(); // submit 2: `recent` pooled; `old` idle for 1 submit
    get(20 * MB); // a miss: nothing idle long enough yet
    expect(old.destroyed).toBe(false);
    pool.afterSubmit(); // submit 3: `old` idle for 2
    get(20 * MB); // a miss: frees `old` (8 MiB)... and `recent` is not idle enough
    expect(old.destroyed).toBe(true);
    expect(recent.destroyed).toBe(false);
    expect(pool.evictions).toBe(1);
    expect(pool.pooledBytes).toBe(3 * MB);
    expect(held()).toBe(3 * MB + 2 * 20 * MB);
  });

  test('keepPooledBytes: below it nothing is evicted for a miss', () => {
    const { pool, get, put } = fakePool({ evictIdleSubmits: 1, keepPooledBytes: 16 * MB });
    const a = get(8 * MB);
    put(a);
    for (let i = 0; i < 5; i++) pool.afterSubmit();
    get(32 * MB);
    expect(a.destroyed).toBe(false);
    expect(pool.evictions).toBe(0);
  });

  test('with the default idle time, a repeating step reaches a steady state: nothing created or destroyed', () => {
    const { pool, get, put, made } = fakePool({ keepPooledBytes: 0 });
    // A toy step: forward allocates growing activations, backward frees them and allocates gradients of other sizes.
    const step = () => {
      const acts = [3, 5, 9, 17].map((m) => get(m * MB));
      pool.afterSubmit();
      for (const m of [17, 9, 5, 3]) {
        const g = get(m * MB + 12345);
        put(acts.pop()!);
        put(g);
        pool.afterSubmit();
      }
    };
    step();
    step();
    const n = made.length;
    const ev = pool.evictions;
    for (let i = 0; i < 5; i++) step();
    expect(made.length).toBe(n);
    expect(pool.evictions).toBe(ev);
  });

  test('trim destroys every pooled buffer', () => {
    const { pool, get, put, held } = fakePool();
    const bufs = [get(MB), get(2 * MB)];
    for (const b of bufs) put(b);
    pool.afterSubmit();
    pool.trim();
    expect(held()).toBe(0);
    expect(pool.pooledBytes).toBe(0);
  });
});
