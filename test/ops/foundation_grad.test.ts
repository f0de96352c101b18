// Backward of every foundation op: float64 gradcheck on the CPU device (every input), PyTorch's tie rules
// (hand-computed values), and GPU backward == CPU backward on a composite graph of all of them.
import { describe, expect, test } from 'vitest';
import { F, tensor, type Device, type Tensor } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randInt, randnArray, randShape, rng, uniformArray } from '../helpers/random.js';

const { skip, dev, devices } = await gpuSuite();

const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const R = rng(300);
type In = { data: ArrayLike<number>; shape: number[]; grad?: boolean };
/** Normal values. */
const N = (shape: number[], scale = 1): In => ({ data: randnArray(R, prod(shape), scale), shape });
/** |x| >= 0.2: away from the kinks of relu / abs / leakyRelu and from poles. */
const Away = (shape: number[]): In => ({ data: randnArray(R, prod(shape)).map((v) => Math.sign(v || 1) * (0.2 + Math.abs(v))), shape });
/** In [0.3, 2.3]: log, sqrt, pow bases. */
const Pos = (shape: number[]): In => ({ data: uniformArray(R, prod(shape), 0.3, 2.3), shape });
const noGrad = (i: In): In => ({ ...i, grad: false });

type Case = [string, (...xs: Tensor[]) => Tensor, In[]];

/** Two operands whose values differ by at least 0.05 everywhere after broadcasting (no ties for maximum/minimum). */
function distinctPair(): [In, In] {
  const a = N([2, 3, 4]);
  const b = { data: Float64Array.from({ length: 3 }, (_, i) => [0.37, -0.81, 1.23][i]!), shape: [3, 1] };
  const d = a.data as Float32Array;
  for (let i = 0; i < d.length; i++) {
    const bv = b.data[Math.floor(i / 4) % 3]!;
    if (Math.abs(d[i]! - bv) < 0.05) d[i] = bv + 0.1;
  }
  return [a, b];
}

const CASES: Case[] = [
  ['add broadcast', (a, b) => F.add(a, b), [N([2, 3, 4]), N([3, 1])]],
  ['add rank-mismatch', (a, b) => F.add(a, b), [N([4]), N([2, 3, 4])]],
  ['add scalar left', (a) => F.add(2.5, a), [N([3, 2])]],
  ['add scalar right', (a) => F.add(a, -1.25), [N([5])]],
  ['sub broadcast', (a, b) => F.sub(a, b), [N([2, 1, 4]), N([3, 1])]],
  ['sub scalar left', (a) => F.sub(1.5, a), [N([2, 3])]],
  ['sub scalar right', (a) => F.sub(a, 0.75), [N([4])]],
  ['mul broadcast', (a, b) => F.mul(a, b), [N([2, 3, 4]), N([1, 4])]],
  ['mul scalar', (a) => F.mul(-2, F.mul(a, 3)), [N([3, 3])]],
  ['mul same tensor twice', (a) => F.mul(a, a), [N([5])]],
  ['div broadcast', (a, b) => F.div(a, b), [N([2, 3, 4]), Away([3, 1])]],
  ['div scalar left', (b) => F.div(2, b), [Away([2, 3])]],
  ['div scalar right', (a) => F.div(a, 3), [N([4])]],
  ['neg', (x) => F.neg(x), [N([2, 5])]],
  ['exp', (x) => F.exp(x), [N([2, 5])]],
  ['log', (x) => F.log(x), [Pos([2, 5])]],
  ['sqrt', (x) => F.sqrt(x), [Pos([2, 5])]],
  ['abs', (x) => F.abs(x), [Away([2, 5])]],
  ['relu', (x) => F.relu(x), [Away([3, 4])]],
  ['leakyRelu default slope', (x) => F.leakyRelu(x), [Away([3, 4])]],
  ['leakyRelu slope 0.2', (x) => F.leakyRelu(x, 0.2), [Away([3, 4])]],
  ['sigmoid (both branches)', (x) => F.sigmoid(x), [N([3, 4], 4)]],
  ['tanh', (x) => F.tanh(x), [N([3, 4], 1.5)]],
  ['pow tensor exponent, broadcast', (a, b) => F.pow(a, b), [Pos([2, 3]), N([3])]],
  ['pow scalar exponent, negative base', (a) => F.pow(a, 3), [N([2, 4])]],
  ['pow square', (a) => F.pow(a, 2), [N([5])]],
  ['pow fractional scalar exponent', (a) => F.pow(a, 0.5), [Pos([5])]],
  ['pow scalar base', (b) => F.pow(2, b), [N([2, 3])]],
  ['pow negative base, integral tensor exponent', (a, b) => F.pow(a, b), [N([2, 3]), noGrad({ data: [2, 3, -1], shape: [3] })]],
  ['matmul', (a, b) => F.matmul(a, b), [N([3, 4]), N([4, 5])]],
  ['matmul 1xK', (a, b) => F.matmul(a, b), [N([1, 7]), N([7, 2])]],
  ['reshape', (x) => F.mul(x.reshape(4, -1), x.reshape(4, 6)), [N([2, 3, 4])]],
  ['expand [3, 1] -> [2, 3, 4]', (x) => F.expand(x, [2, 3, 4]), [N([3, 1])]],
  ['expand [4] -> [2, 3, 4]', (x) => F.expand(x, [2, 3, 4]), [N([4])]],
  ['maximum broadcast', (a, b) => F.maximum(a, b), distinctPair()],
  ['minimum broadcast', (a, b) => F.minimum(a, b), distinctPair()],
  ['maximum scalar', (a) => F.maximum(a, 0.1), [Away([6])]],
];

// sum / mean / max over random dims of random shapes (negative dims too), keepdim both, and over all dims.
for (const op of ['sum', 'mean', 'max'] as const) {
  for (let i = 0; i < 4; i++) {
    const shape = randShape(R, randInt(R, 1, 4), 1, 4);
    const picked = [...shape.keys()].filter(() => R.uniform() < 0.5).map((d) => (R.uniform() < 0.5 ? d - shape.length : d));
    const dims = i === 0 || !picked.length ? undefined : picked;
    const keepdim = i % 2 === 1;
    CASES.push([`${op} ${JSON.stringify(shape)} dims ${JSON.stringify(dims ?? 'all')} keepdim ${keepdim}`, (x) => F[op](x, dims, keepdim), [N(shape)]]);
  }
}
// GELU (both forms) and SiLU are smooth: normal inputs of scale 2.5 reach both tails (drawn last: the cases above keep their inputs).
CASES.push(
  ['gelu (erf)', (x) => F.gelu(x), [N([3, 5], 2.5)]],
  ["gelu approximate 'tanh'", (x) => F.gelu(x, { approximate: 'tanh' }), [N([3, 5], 2.5)]],
  ['silu', (x) => F.silu(x), [N([3, 5], 2.5)]],
);

describe('float64 gradcheck of every foundation op (CPU device)', () => {
  test.each(CASES)('%s', async (_name, f, inputs) => {
    const rep = await gradcheck(f, inputs);
    expect(rep.worst, rep.where).toBeLessThan(1);
  });
});

/** Backward of sum(f(inputs)) on a device; returns each input's grad. */
async function grads(device: Device, f: (...xs: Tensor[]) => Tensor, inputs: In[]): Promise<Float64Array[]> {
  const xs = inputs.map((i) => tensor(Float64Array.from(i.data), i.shape, { device, requiresGrad: true }));
  const y = f(...xs);
  const loss = y.numel === 1 ? y : F.sum(y);
  loss.backward();
  const out = await Promise.all(xs.map(async (x) => Float64Array.from(await x.grad!.toArray())));
  for (const x of xs) {
    x.grad!.dispose();
    x.dispose();
  }
  loss.dispose();
  y.dispose();
  return out;
}


describe('ties (hand-computed, as PyTorch)', () => {
  test('max over a dim: tied maxima share the gradient equally (torch.amax)', async () => {
    for (const d of devices(cpu64)) {
      const [g] = await grads(d, (x) => F.max(x, 1), [{ data: [1, 3, 3, 2, 2, 0], shape: [2, 3] }]);
      expect(g, d.kind).toBeAllClose([0, 0.5, 0.5, 0.5, 0.5, 0], { rtol: 1e-6, atol: 0 });
    }
  });

  test('max over all dims with three tied maxima: 1/3 each', async () => {
    for (const d of devices(cpu64)) {
      const [g] = await grads(d, (x) => F.max(x), [{ data: [1, 3, 3, 3, 2, 0], shape: [2, 3] }]);
      expect(g, d.kind).toBeAllClose([0, 1 / 3, 1 / 3, 1 / 3, 0, 0], { rtol: 1e-6, atol: 0 });
    }
  });

  test('maximum / minimum: a tie gives each side half (torch.maximum)', async () => {
    const a = { data: [1, 2, 3], shape: [3] };
    const b = { data: [1, 3, 2], shape: [3] };
    for (const d of devices(cpu64)) {
      const [ga, gb] = await grads(d, (x, y) => F.maximum(x, y), [a, b]);
      expect(ga, `${d.kind} maximum a`).toBeAllClose([0.5, 0, 1], { rtol: 0, atol: 0 });
      expect(gb, `${d.kind} maximum b`).toBeAllClose([0.5, 1, 0], { rtol: 0, atol: 0 });
      const [ma, mb] = await grads(d, (x, y) => F.minimum(x, y), [a, b]);
      expect(ma, `${d.kind} minimum a`).toBeAllClose([0.5, 1, 0], { rtol: 0, atol: 0 });
      expect(mb, `${d.kind} minimum b`).toBeAllClose([0.5, 0, 1], { rtol: 0, atol: 0 });
    }
  });

  test('pow: d/da a^3 at negative a is 3a^2 (finite)', async () => {
    for (const d of devices(cpu64)) {
      const [g] = await grads(d, (x) => F.pow(x, 3), [{ data: [-2, -0.5], shape: [2] }]);
      expect(g, d.kind).toBeAllClose([12, 0.75], { rtol: 1e-6, atol: 0 });
    }
  });
});

/** Every foundation op in one graph, with broadcasting, reductions and views. */
function composite(a: Tensor, b: Tensor, c: Tensor, d: Tensor): Tensor {
  const h = F.matmul(a, b); // [3, 5]
  const h2 = F.mul(F.add(h, c), d); // c [5], d [3, 1]
  const h3 = F.sub(F.sigmoid(h2), F.div(F.tanh(h2), F.add(F.exp(d), 1)));
  const h4 = F.maximum(h3, F.leakyRelu(h2, 0.1));
  const h5 = F.pow(F.add(F.abs(h4), 0.5), 1.5);
  const h6 = F.log(F.sqrt(F.add(h5, 1)));
  const h7 = F.expand(F.reshape(h6, [3, 5, 1]), [2, 3, 5, 4]); // [2, 3, 5, 4]
  const h8 = F.mul(h7, F.reshape(F.add(F.relu(F.neg(F.minimum(d, 0.2))), 0.5), [3, 1, 1])); // h8 > 0
  const m = F.add(F.mean(h8, [0, -1], true), F.max(h8, [0, 3], true)); // [1, 3, 5, 1]
  const s = F.sum(F.pow(m, F.reshape(F.sigmoid(c), [1, 1, 5, 1])), [1, 2]); // [1, 1]
  return F.add(F.sum(s), F.max(F.sub(h2, F.sum(h, 1, true))));
}

describe.skipIf(skip)('GPU backward == CPU backward', () => {
  test('composite graph of every foundation op, same inputs on the GPU, cpu32 and cpu64', async () => {
    const r = rng(301);
    const inputs: In[] = [
      { data: randnArray(r, 12, 0.7), shape: [3, 4] },
      { data: randnArray(r, 20, 0.7), shape: [4, 5] },
      { data: randnArray(r, 5), shape: [5] },
      { data: [-1.3, 0.6, -0.4], shape: [3, 1] },
    ];
    const want = await grads(cpu64, composite, inputs);
    const got = await grads(dev, composite, inputs);
    const got32 = await grads(cpu32, composite, inputs);
    for (let i = 0; i < 4; i++) {
      expect(want[i]!.some((v) => v !== 0), `grad ${i} is not all zeros`).toBe(true);
      expect(got[i], `gpu grad of input ${i}`).toBeAllClose(want[i]!, { rtol: 1e-4, atol: 1e-5 });
      expect(got32[i], `cpu32 grad of input ${i}`).toBeAllClose(want[i]!, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  test('the composite graph itself passes gradcheck in float64', async () => {
    const r = rng(302);
    const rep = await gradcheck(composite, [
      { data: randnArray(r, 12, 0.7), shape: [3, 4] },
      { data: randnArray(r, 20, 0.7), shape: [4, 5] },
      { data: randnArray(r, 5), shape: [5] },
      { data: [-1.3, 0.6, -0.4], shape: [3, 1] },
    ]);
    expect(rep.worst, rep.where).toBeLessThan(1);
  });
});
