// Binary ops with NumPy/PyTorch broadcasting through the op layer (F.add etc.) on the GPU, against an
// independent broadcasting loop written here: ranks 1..5, shapes with 1s, operands of different ranks.
import { describe, expect, test } from 'vitest';
import { F, tensor, type Tensor } from '../../src/index.js';
import { gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng } from '../helpers/random.js';

const { skip, dev } = await gpuSuite();

const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** y = f(a, b) broadcast, computed by coordinates: every output coordinate maps to 0 along an input's 1-dims. */
function naiveBroadcast(a: ArrayLike<number>, as: number[], b: ArrayLike<number>, bs: number[], f: (a: number, b: number) => number) {
  const rank = Math.max(as.length, bs.length);
  const pa = [...Array(rank - as.length).fill(1), ...as];
  const pb = [...Array(rank - bs.length).fill(1), ...bs];
  const out = pa.map((d, i) => Math.max(d, pb[i]!));
  const y = new Float64Array(prod(out));
  const coord = new Array<number>(rank);
  for (let i = 0; i < y.length; i++) {
    let r = i;
    for (let k = rank - 1; k >= 0; k--) {
      coord[k] = r % out[k]!;
      r = Math.floor(r / out[k]!);
    }
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      ia = ia * pa[k]! + (pa[k] === 1 ? 0 : coord[k]!);
      ib = ib * pb[k]! + (pb[k] === 1 ? 0 : coord[k]!);
    }
    y[i] = f(a[ia]!, b[ib]!);
  }
  return { y, shape: out };
}

const JS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  eq: (a, b) => +(a === b),
  gt: (a, b) => +(a > b),
  lt: (a, b) => +(a < b),
};

/** A broadcast-compatible pair: each input takes the output dim or 1, and may drop leading dims. */
function shapes(r: ReturnType<typeof rng>): [number[], number[]] {
  const rank = randInt(r, 1, 5);
  const out = Array.from({ length: rank }, () => (r.uniform() < 0.15 ? 1 : randInt(r, 2, 5)));
  const side = () => out.slice(randInt(r, 0, rank - 1)).map((d) => (r.uniform() < 0.35 ? 1 : d));
  return [side(), side()];
}

describe.skipIf(skip)('binary ops with broadcasting: GPU vs an independent JS loop', () => {
  test.each(Object.keys(JS))('F.%s', async (name) => {
    const r = rng(200 + name.length * 7 + name.charCodeAt(0));
    // Fixed cases first: rank mismatch, and alternating broadcast dims that no merging can fold (all 6 slots used).
    const fixed: [number[], number[]][] = [
      [[3, 1, 5], [4, 1]],
      [[1], [2, 3, 1, 2, 3]],
      [[2, 1, 3, 1, 2], [1, 3, 1, 2, 1]],
      [[2, 1, 2, 1, 2, 1], [1, 3, 1, 3, 1, 3]],
    ];
    for (let trial = 0; trial < 10; trial++) {
      const [as, bs] = fixed[trial] ?? shapes(r);
      const a = randnArray(r, prod(as), 2);
      const b = randnArray(r, prod(bs), 2);
      if (name === 'pow') for (let i = 0; i < a.length; i++) a[i] = Math.abs(a[i]!) + 0.1;
      if (name === 'div') for (let i = 0; i < b.length; i++) b[i] = Math.sign(b[i]!) * (Math.abs(b[i]!) + 0.5);
      // Coarse values so that ties (eq, maximum, ...) occur.
      if (['eq', 'gt', 'lt', 'maximum', 'minimum'].includes(name)) for (const v of [a, b]) for (let i = 0; i < v.length; i++) v[i] = Math.round(v[i]!);
      const want = naiveBroadcast(a, as, b, bs, JS[name]!);
      using ta = tensor(a, as, { device: dev });
      using tb = tensor(b, bs, { device: dev });
      using y = (F as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[name]!(ta, tb);
      expect(y.shape, `${JSON.stringify(as)} with ${JSON.stringify(bs)}`).toEqual(want.shape);
      expect(await y.toArray(), `${name} ${JSON.stringify(as)} with ${JSON.stringify(bs)}`).toBeAllClose(want.y, { rtol: 1e-5, atol: 1e-6 });
    }
  });

  test('pow with a negative base and integral exponents (PyTorch: finite; NaN for fractional ones)', async () => {
    const a = Float32Array.from([-2, -1.5, -0.5, 3]);
    const b = Float32Array.from([3, 2, -1, 0.5]);
    using ta = tensor(a, [4, 1], { device: dev });
    using tb = tensor(b, [4], { device: dev });
    using y = F.pow(ta, tb);
    expect(await y.toArray()).toBeAllClose(naiveBroadcast(a, [4, 1], b, [4], Math.pow).y, { rtol: 1e-5, atol: 1e-6 });
  });

  test('scalars on either side, and expand to a bigger shape', async () => {
    const r = rng(210);
    const a = randnArray(r, 2 * 3 * 5);
    using ta = tensor(a, [2, 3, 5], { device: dev });
    using s1 = F.sub(1.5, ta);
    using s2 = F.div(ta, -4);
    expect(await s1.toArray()).toBeAllClose(a.map((v) => 1.5 - v), { rtol: 1e-6, atol: 1e-7 });
    expect(await s2.toArray()).toBeAllClose(a.map((v) => v / -4), { rtol: 1e-6, atol: 1e-7 });
    const x = randnArray(r, 3);
    using tx = tensor(x, [3, 1], { device: dev });
    using e = F.expand(tx, [2, 4, 3, 5]);
    expect(e.shape).toEqual([2, 4, 3, 5]);
    expect(await e.toArray()).toBeAllClose(naiveBroadcast(x, [3, 1], new Float32Array(120), [2, 4, 3, 5], (p) => p).y, { rtol: 0, atol: 0 });
  });
});
