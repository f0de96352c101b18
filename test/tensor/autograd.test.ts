// Autograd semantics as in PyTorch: accumulation into .grad, requiresGrad propagation, pruning of work for
// inputs that need no gradient, one backward per graph, seeds, noGrad and detach. Expected values by hand.
import { describe, expect, test } from 'vitest';
import { AutogradError, F, isGradEnabled, noGrad, ShapeError, stats, tensor, type Tensor } from '../../src/index.js';
import { cpu32, cpu64 } from '../helpers/gpu.js';

const T = (data: number[], shape = [data.length], requiresGrad = false) => tensor(data, shape, { device: cpu64, requiresGrad });
const arr = async (t: Tensor | null) => [...(await t!.toArray())];

describe('autograd semantics', () => {
  test('.grad accumulates over two backward() calls on fresh graphs', async () => {
    const x = T([1, 2, 3], [3], true);
    F.sum(F.mul(x, 2)).backward();
    expect(await arr(x.grad)).toEqual([2, 2, 2]);
    F.sum(F.mul(x, x)).backward(); // d/dx sum(x^2) = 2x, added
    expect(await arr(x.grad)).toEqual([4, 6, 8]);
  });

  test('a seed gives the vector-Jacobian product; a one-element output seeds with 1', async () => {
    const x = T([1, -2, 3], [3], true);
    F.mul(x, 3).backward(T([1, 2, 3]));
    expect(await arr(x.grad)).toEqual([3, 6, 9]);
    const s = T([5], [1], true);
    F.mul(s, 4).backward();
    expect(await arr(s.grad)).toEqual([4]);
  });

  test('requiresGrad propagates to results of ops with any requiring input, not to the others', () => {
    const x = T([1, 2], [2], true);
    const y = T([3, 4]);
    expect(x.requiresGrad).toBe(true);
    expect(x.node).toBeNull(); // a leaf
    const z = F.mul(x, y);
    expect(z.requiresGrad).toBe(true);
    expect(z.node?.op).toBe('mul');
    const w = F.exp(F.mul(y, 2));
    expect(w.requiresGrad).toBe(false);
    expect(w.node).toBeNull();
    const v = F.add(w, z);
    expect(v.requiresGrad).toBe(true);
    expect(y.requiresGrad_().requiresGrad).toBe(true);
  });

  test('pruning: an input without requiresGrad gets no grad, and its gradient is never computed', async () => {
    const run = async (aGrad: boolean) => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { device: cpu32, requiresGrad: aGrad });
      const b = tensor([1, 0, -1, 2, 0.5, 1], [3, 2], { device: cpu32, requiresGrad: true });
      const c = F.matmul(a, b);
      const seed = tensor([1, 1, 1, 1], [2, 2], { device: cpu32 });
      const before = stats(cpu32).dispatches;
      c.backward(seed);
      const dispatches = stats(cpu32).dispatches - before;
      const ga = a.grad;
      const gb = await arr(b.grad);
      for (const t of [a, b, c, seed, b.grad!, a.grad]) t?.dispose();
      return { dispatches, ga, gb };
    };
    const both = await run(true);
    const onlyB = await run(false);
    expect(onlyB.ga).toBeNull();
    expect(onlyB.gb).toEqual(both.gb);
    expect(onlyB.gb).toEqual([5, 5, 7, 7, 9, 9]); // a^T · ones
    expect(both.dispatches).toBe(2);
    expect(onlyB.dispatches).toBe(1); // only dB = a^T · g ran
    // And through a binary op: the constant side's product is skipped too.
    const x = tensor([1, 2, 3], [3], { device: cpu32 });
    const w = tensor([2, 2, 2], [3], { device: cpu32, requiresGrad: true });
    const p = F.mul(x, w);
    const before = stats(cpu32).dispatches;
    p.backward(x);
    expect(stats(cpu32).dispatches - before).toBe(1);
    expect(x.grad).toBeNull();
    expect(await arr(w.grad)).toEqual([1, 4, 9]);
  });

  test('backward twice through the same graph throws AutogradError', () => {
    const x = T([1, 2], [2], true);
    const y = F.exp(x);
    const loss = F.sum(y);
    loss.backward();
    expect(() => loss.backward()).toThrow(AutogradError);
    // A new graph that reaches the freed part through y also refuses.
    const again = F.sum(F.mul(y, 2));
    expect(() => again.backward()).toThrow(AutogradError);
  });

  test('non-scalar backward without a seed throws; a seed of another shape throws ShapeError', () => {
    const x = T([1, 2, 3], [3], true);
    const y = F.mul(x, 2);
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/one-element/);
    expect(() => y.backward(T([1, 2]))).toThrow(ShapeError);
    expect(() => F.sum(T([1, 2])).backward()).toThrow(AutogradError); // nothing requires grad
  });

  test('noGrad records no graph, restores the mode even when fn throws', () => {
    const x = T([1, 2], [2], true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return F.mul(F.exp(x), 2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.node).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });

  test('detach: same values, no history, survives the original', async () => {
    const x = T([1, 2], [2], true);
    const y = F.mul(x, 3);
    const d = y.detach();
    expect(d.node).toBeNull();
    expect(d.requiresGrad).toBe(false);
    y.dispose();
    expect(await arr(d)).toEqual([3, 6]);
    const z = F.sum(F.mul(d, x)); // gradient flows to x only through the non-detached side
    z.backward();
    expect(await arr(x.grad)).toEqual([3, 6]);
  });

  test('a tensor used twice gets the sum of both paths (x + x, x * x, x through two branches)', async () => {
    const x = T([1, 2, 3], [3], true);
    F.sum(F.add(x, x)).backward();
    expect(await arr(x.grad)).toEqual([2, 2, 2]);
    x.grad = null;
    const e = F.exp(x);
    F.sum(F.add(F.mul(e, 2), F.neg(e))).backward(); // d/dx (2e^x - e^x) = e^x
    expect(await arr(x.grad)).toEqual([1, 2, 3].map(Math.exp));
  });
});
