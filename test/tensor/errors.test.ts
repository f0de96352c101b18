// Typed errors whose messages start with the op and show the shapes; limits refused up front (never stale
// data, nothing leaked); a broken shader surfaces at the next sync point instead of passing silently.
import { afterAll, describe, expect, test } from 'vitest';
import {
  clearShaderOverrides,
  DeviceMismatchError,
  DisposedTensorError,
  F,
  GpuError,
  GpuUnavailableError,
  LimitError,
  openDevice,
  overrideShader,
  ShaderCompileError,
  ShapeError,
  stats,
  Tensor,
  tensor,
} from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';

const { skip, dev } = await gpuSuite();
afterAll(() => clearShaderOverrides());

/** Runs fn, expects an error of `type` whose message starts with `op:` and contains every string in `parts`. */
function expectError(fn: () => unknown, type: new (...a: never[]) => Error, op: string, parts: string[] = []) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${type.name}`).toBeInstanceOf(type);
  const msg = (err as Error).message;
  expect(msg.startsWith(`${op}:`), msg).toBe(true);
  for (const p of parts) expect(msg).toContain(p);
  return err as Error;
}

const T = (shape: number[], device = cpu32) => tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => i + 1), shape, { device });

describe('ShapeError: the op first, then both shapes', () => {
  test('broadcasting mismatch (add [2, 3] and [4, 3])', () => {
    const e = expectError(() => F.add(T([2, 3]), T([4, 3])), ShapeError, 'add', ['[2, 3]', '[4, 3]']) as ShapeError;
    expect(e.shapes).toEqual([[2, 3], [4, 3]]);
    expectError(() => T([2, 3]).mul(T([3, 2])), ShapeError, 'mul', ['[2, 3]', '[3, 2]']);
  });

  test('matmul inner mismatch, matmul of non-2-D tensors', () => {
    expectError(() => F.matmul(T([2, 3]), T([4, 5])), ShapeError, 'matmul', ['[2, 3]', '[4, 5]']);
    expectError(() => F.matmul(T([2, 3, 1]), T([3, 5])), ShapeError, 'matmul', ['[2, 3, 1]', '[3, 5]']);
  });

  test('reshape, expand, reduction dims', () => {
    expectError(() => T([2, 3]).reshape(4, 2), ShapeError, 'reshape', ['[2, 3]', '[4, 2]']);
    expectError(() => T([2, 3]).reshape(-1, -1), ShapeError, 'reshape', ['[2, 3]']);
    expectError(() => F.expand(T([3]), [3, 2]), ShapeError, 'expand', ['[3]', '[3, 2]']);
    expectError(() => F.expand(T([3]), [1]), ShapeError, 'expand', ['[3]', '[1]']);
    expectError(() => F.sum(T([2, 3]), 2), ShapeError, 'sum', ['[2, 3]']);
    expectError(() => F.max(T([2, 3]), [0, -2]), ShapeError, 'max', ['[0, -2]']);
    expectError(() => tensor([1, 2, 3], [2, 2]), ShapeError, 'tensor', ['[2, 2]']);
  });
});

describe('DisposedTensorError names the op', () => {
  test.each([
    ['add', (x: Tensor, y: Tensor) => F.add(x, y)],
    ['add', (x: Tensor, y: Tensor) => F.add(y, x)],
    ['relu', (x: Tensor) => F.relu(x)],
    ['matmul', (x: Tensor, y: Tensor) => F.matmul(y, x)],
    ['sum', (x: Tensor) => F.sum(x)],
    ['reshape', (x: Tensor) => x.reshape(3, 2)],
    ['detach', (x: Tensor) => x.detach()],
  ] as const)('%s', (op, f) => {
    const x = T([2, 3]);
    const y = T([2, 3]);
    x.dispose();
    const yt = op === 'matmul' ? T([3, 2]) : y;
    expectError(() => f(x, yt), DisposedTensorError, op, ['after dispose']);
  });

  test('toArray after dispose rejects', async () => {
    const x = T([2]);
    x.dispose();
    await expect(x.toArray()).rejects.toThrow(DisposedTensorError);
    await expect(x.toArray()).rejects.toThrow(/^toArray:/);
  });
});

describe('DeviceMismatchError', () => {
  test('two CPU devices', () => {
    expectError(() => F.add(T([2]), T([2], cpu64)), DeviceMismatchError, 'add', ['different devices']);
    expectError(() => F.matmul(T([2, 2]), T([2, 2], cpu64)), DeviceMismatchError, 'matmul');
  });

  test.skipIf(skip)('GPU and CPU', () => {
    const g = T([2, 3], dev);
    expectError(() => F.mul(g, T([2, 3])), DeviceMismatchError, 'mul', ['different devices']);
    expectError(() => F.maximum(T([3]), g), DeviceMismatchError, 'maximum');
    g.dispose();
  });
});

test('GpuUnavailableError from openDevice where navigator.gpu is missing (Node)', async () => {
  await expect(openDevice({ setDefault: false })).rejects.toThrow(GpuUnavailableError);
  await expect(openDevice({ setDefault: false })).rejects.toThrow(/^openDevice:.*unet-webgpu\/node/);
});

describe.skipIf(skip)('LimitError over maxStorageBufferBindingSize (refused before anything runs)', () => {
  test('matmul with an operand over the binding limit; reductions and general broadcasting too', async () => {
    const maxEl = dev.limits.maxBindingBytes / 4;
    const rows = Math.ceil((maxEl + 1024) / 4); // [rows, 4]: just over the limit (34M floats on lavapipe)
    const base = stats(dev);
    const big = Tensor.empty([rows, 4], 'f32', dev);
    // b [4, rows] over the limit: matmul splits a's rows, batches and K ranges, never b's columns.
    const bigB = Tensor.empty([4, rows], 'f32', dev);
    const w = T([1, 4], dev);
    const err = expectError(() => F.matmul(w, bigB), LimitError, 'matmul', ['maxStorageBufferBindingSize']) as LimitError;
    expect(err.requested).toBeGreaterThan(err.allowed);
    expectError(() => F.sum(big, 1), LimitError, 'reduce', ['maxStorageBufferBindingSize']);
    // A column broadcast along the last dim is not split (a row [1, 4] repeated along the leading dim would be).
    const col = Tensor.empty([rows, 1], 'f32', dev);
    expectError(() => F.add(big, col), LimitError, 'add', [`[${rows}, 4]`, `[${rows}, 1]`]);
    // Nothing leaked by the refused ops (the outputs they allocated were freed).
    for (const t of [big, bigB, w, col]) t.dispose();
    expect(stats(dev).liveTensors).toBe(base.liveTensors);
    expect(stats(dev).liveBytes).toBe(base.liveBytes);
    // The device is fine afterwards.
    await dev.sync();
    using a = T([2, 3], dev);
    using b = T([3, 1], dev);
    using c = F.matmul(a, b);
    expect([...(await c.toArray())]).toEqual([14, 32]);
  });
});

describe.skipIf(skip)('a broken shader surfaces at the sync point', () => {
  test("overrideShader('fill', 'garbage'): fill, then sync() throws ShaderCompileError or GpuError", async () => {
    await dev.sync();
    overrideShader('fill', 'garbage');
    let t: Tensor | null = null;
    let caught: unknown = null;
    try {
      t = F.full([37], 2, { device: dev });
      await dev.sync();
    } catch (e) {
      caught = e;
    } finally {
      clearShaderOverrides();
      t?.dispose();
    }
    expect(caught, 'the broken shader went unnoticed').not.toBeNull();
    expect(caught instanceof ShaderCompileError || caught instanceof GpuError, String(caught)).toBe(true);
    // Later reports of the same failure may still arrive; drain them, then the device works again.
    await dev.sync().catch(() => {});
    using ok = F.full([37], 2.5, { device: dev });
    expect([...(await ok.toArray())]).toEqual(new Array(37).fill(2.5));
  });
});
