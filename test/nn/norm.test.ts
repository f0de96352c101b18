// GroupNorm / InstanceNorm2d / LayerNorm: gradients by float64 finite differences, a float64 reference of the formula, the
// layers' parameters and options, and a run behind small bindings equal to the unlimited one (the composed ops split).
// PyTorch parity of the ops: test/fixtures/torch/ops_norm.json in test/ops/torch_fixtures.test.ts.
import { describe, expect, test } from 'vitest';
import { bceWithLogits, randn, ShapeError, tensor, withDevice } from '../../src/index.js';
import { groupNorm, instanceNorm, layerNorm } from '../../src/tensor/ops/norm.js';
import { GroupNorm, InstanceNorm2d, LayerNorm } from '../../src/nn/norm.js';
import { cpu32, cpu64 } from '../helpers/gpu.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { smallLimits } from '../helpers/small_limits.js';

const rnd = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 1.7 + 0.2 * Math.cos(i));

/** Mean and biased variance of x[o, o + per) (two passes, float64). */
function moments(x: number[], o: number, per: number): [number, number] {
  let m = 0;
  for (let i = 0; i < per; i++) m += x[o + i]!;
  m /= per;
  let v = 0;
  for (let i = 0; i < per; i++) v += (x[o + i]! - m) ** 2;
  return [m, v / per];
}

/** The formula in float64 loops: per (n, group) mean and biased variance over C/G channels and the rest. */
function reference(x: number[], shape: number[], G: number, w: number[] | null, b: number[] | null, eps: number): number[] {
  const [N, C] = shape as [number, number];
  const rest = x.length / (N * C);
  const per = (C / G) * rest;
  const y = new Array<number>(x.length);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const o = (n * G + g) * per;
      const [m, v] = moments(x, o, per);
      for (let i = 0; i < per; i++) {
        const c = g * (C / G) + Math.floor(i / rest);
        y[o + i] = ((x[o + i]! - m) / Math.sqrt(v + eps)) * (w ? w[c]! : 1) + (b ? b[c]! : 0);
      }
    }
  }
  return y;
}

describe('groupNorm / instanceNorm', () => {
  test.each([
    [[2, 6, 3, 5], 3, true],
    [[1, 4, 7], 1, false],
    [[3, 5, 2, 3], 5, true],
  ] as const)('x %j, %i groups, affine %s: equals the float64 formula', async (shape, G, affine) => {
    const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    const x = rnd(n, 1);
    const w = affine ? rnd(shape[1], 2).map((v) => 1 + 0.3 * v) : null;
    const b = affine ? rnd(shape[1], 3) : null;
    const t = (d: number[], s: readonly number[]) => tensor(d, [...s], { device: cpu64 });
    const y = groupNorm(t(x, shape), G, w && t(w, [shape[1]]), b && t(b, [shape[1]]), 1e-5);
    expect(await y.toArray()).toBeAllClose(reference(x, [...shape], G, w, b, 1e-5), { rtol: 1e-12, atol: 1e-12 });
  });

  test('gradients by finite differences (x, weight, bias)', async () => {
    const shape = [2, 4, 3, 3];
    const r = await gradcheck((x, w, b) => groupNorm(x, 2, w, b, 1e-5), [
      { data: rnd(72, 4), shape },
      { data: rnd(4, 5).map((v) => 1 + 0.3 * v), shape: [4] },
      { data: rnd(4, 6), shape: [4] },
    ]);
    expect(r.worst, r.where).toBeLessThan(1);
    const ri = await gradcheck((x) => instanceNorm(x), [{ data: rnd(2 * 3 * 4 * 5, 7), shape: [2, 3, 4, 5] }]);
    expect(ri.worst, ri.where).toBeLessThan(1);
  });

  test('bad arguments name the op and the values', () => {
    const x = randn([1, 6, 4, 4], { device: cpu32 });
    expect(() => groupNorm(x, 4)).toThrow('groupNorm: 6 channels do not split into 4 groups');
    expect(() => groupNorm(x, 3, randn([5], { device: cpu32 }))).toThrow('groupNorm: weight [5] must be [6] for x [1, 6, 4, 4]');
    expect(() => instanceNorm(randn([2, 3], { device: cpu32 }))).toThrow('instanceNorm: x [2, 3] must be [N, C, H, ...]');
  });

  // 8 KiB: the 16 KiB input splits in two. (At 4 KiB bceWithLogits cannot place one workgroup's 1024 elements in a
  // window and says so with a LimitError: test/tensor/split_planners.test.ts.)
  test('behind small bindings the composed ops split and give the unlimited result', async () => {
    const small = smallLimits(cpu64, { maxBindingBytes: 8 << 10 });
    const data = rnd(2 * 8 * 16 * 16, 8);
    const run = async (d: typeof cpu64) => {
      const x = tensor(data, [2, 8, 16, 16], { device: d, requiresGrad: true });
      const y = groupNorm(x, 4, null, null, 1e-5);
      const target = tensor(data.map((v) => (v > 0 ? 1 : 0)), [2, 8, 16, 16], { device: d });
      bceWithLogits(y, target).backward();
      return { y: await y.toArray(), g: await x.grad!.toArray() };
    };
    const a = await run(cpu64);
    const b = await run(small);
    expect(b.y).toBeAllClose(a.y, { rtol: 1e-12, atol: 1e-12 });
    expect(b.g).toBeAllClose(a.g, { rtol: 1e-9, atol: 1e-12 });
  });
});

describe('GroupNorm and InstanceNorm2d layers', () => {
  test("parameters as PyTorch's: weight 1 and bias 0 when affine; InstanceNorm2d has none by default", async () => {
    const gn = withDevice(cpu32, () => new GroupNorm(2, 6));
    expect(Object.keys(gn.stateDict())).toEqual(['weight', 'bias']);
    expect(await gn.weight!.toArray()).toEqual(new Float32Array(6).fill(1));
    expect(await gn.bias!.toArray()).toEqual(new Float32Array(6));
    expect(Object.keys(withDevice(cpu32, () => new InstanceNorm2d(4)).stateDict())).toEqual([]);
    expect(Object.keys(withDevice(cpu32, () => new InstanceNorm2d(4, { affine: true })).stateDict())).toEqual(['weight', 'bias']);
    expect(String(gn)).toContain('GroupNorm(2, 6, eps=0.00001, affine=True)');
  });

  test('options are checked', () => {
    expect(() => new GroupNorm(4, 6)).toThrow('GroupNorm: num_channels 6 must be divisible by num_groups 4');
    expect(() => new InstanceNorm2d(3, { trackRunningStats: true })).toThrow(/only false is supported/);
    expect(() => new InstanceNorm2d(3, { momentum: 0.1 } as never)).toThrow(/unknown option 'momentum'/);
  });

  test('InstanceNorm2d normalises each plane in train and eval alike', async () => {
    const m = withDevice(cpu64, () => new InstanceNorm2d(3, { affine: true }));
    const x = tensor(rnd(2 * 3 * 5 * 4, 9), [2, 3, 5, 4], { device: cpu64 });
    const a = await m.forward(x).toArray();
    m.eval();
    expect(await m.forward(x).toArray()).toEqual(a);
    expect(a).toBeAllClose(reference(rnd(120, 9), [2, 3, 5, 4], 3, [1, 1, 1], [0, 0, 0], 1e-5), { rtol: 1e-12, atol: 1e-12 });
  });
});

/** layer_norm in float64 loops: each row of `per` trailing elements on its mean and biased variance; w, b per element of the row. */
function layerReference(x: number[], per: number, w: number[] | null, b: number[] | null, eps: number): number[] {
  const y = new Array<number>(x.length);
  for (let o = 0; o < x.length; o += per) {
    const [m, v] = moments(x, o, per);
    for (let i = 0; i < per; i++) y[o + i] = ((x[o + i]! - m) / Math.sqrt(v + eps)) * (w ? w[i]! : 1) + (b ? b[i]! : 0);
  }
  return y;
}

describe('layerNorm', () => {
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  test.each([
    [[3, 7], [7], true],
    [[2, 5, 3], [5, 3], true],
    [[2, 3, 4, 5], [5], false],
    [[9], [9], true],
    [[4, 3, 1], [1], true],
  ] as const)('x %j over %j, affine %s: equals the float64 formula', async (shape, ns, affine) => {
    const x = rnd(prod(shape), 11);
    const per = prod(ns);
    const w = affine ? rnd(per, 12).map((v) => 1 + 0.3 * v) : null;
    const b = affine ? rnd(per, 13) : null;
    const t = (d: number[], s: readonly number[]) => tensor(d, [...s], { device: cpu64 });
    const y = layerNorm(t(x, shape), ns.length === 1 ? ns[0]! : ns, w && t(w, ns), b && t(b, ns), 1e-5);
    expect(y.shape).toEqual(shape);
    expect(await y.toArray()).toBeAllClose(layerReference(x, per, w, b, 1e-5), { rtol: 1e-12, atol: 1e-12 });
  });

  test('gradients by finite differences (x, weight, bias; one and two normalised dims)', async () => {
    for (const [shape, ns] of [[[3, 5], [5]], [[2, 3, 4], [3, 4]]] as const) {
      const per = prod(ns);
      const r = await gradcheck((x, w, b) => layerNorm(x, ns, w, b, 1e-5), [
        { data: rnd(prod(shape), 14), shape: [...shape] },
        { data: rnd(per, 15).map((v) => 1 + 0.3 * v), shape: [...ns] },
        { data: rnd(per, 16), shape: [...ns] },
      ]);
      expect(r.worst, `${r.where} (x ${JSON.stringify(shape)})`).toBeLessThan(1);
    }
    const plain = await gradcheck((x) => layerNorm(x, [2, 3]), [{ data: rnd(24, 17), shape: [4, 2, 3] }]);
    expect(plain.worst, plain.where).toBeLessThan(1);
  });

  test('bad arguments name the op and the shapes', () => {
    const x = randn([2, 3, 4], { device: cpu32 });
    const bad = (fn: () => unknown, type: typeof ShapeError | typeof Error, msg: string) => {
      expect(fn).toThrow(type);
      expect(fn).toThrow(msg);
    };
    bad(() => layerNorm(x, [3]), ShapeError, 'layerNorm: x [2, 3, 4] does not end in normalizedShape [3]');
    bad(() => layerNorm(x, [1, 2, 3, 4]), ShapeError, 'layerNorm: x [2, 3, 4] does not end in normalizedShape [1, 2, 3, 4]');
    bad(() => layerNorm(x, [4], randn([3], { device: cpu32 })), ShapeError, 'layerNorm: weight [3] must be [4] for x [2, 3, 4]');
    bad(() => layerNorm(x, [3, 4], null, randn([12], { device: cpu32 })), ShapeError, 'layerNorm: bias [12] must be [3, 4] for x [2, 3, 4]');
    bad(() => layerNorm(x, []), Error, 'layerNorm: normalizedShape must have at least one size');
    bad(() => layerNorm(x, [0]), Error, 'layerNorm: normalizedShape[0] must be an integer >= 1, got 0');
    bad(() => layerNorm(x, '4' as never), Error, `layerNorm: normalizedShape must be a size or a list of sizes, got "4"`);
    bad(() => layerNorm(x, 4, null, null, 0), Error, 'layerNorm: eps must be a finite number > 0, got 0');
  });

  // As for groupNorm, the normalisation (the batch-norm kernels) splits; the affine part is a broadcast mul / add,
  // which binaryRaw does not split (yet): over the limit it refuses with a LimitError before computing anything.
  test('behind small bindings the normalisation and the affine part split, forward and backward, and give the unlimited result', async () => {
    const small = smallLimits(cpu64, { maxBindingBytes: 8 << 10 });
    const data = rnd(16 * 8 * 24, 18);
    const run = async (d: typeof cpu64) => {
      const x = tensor(data, [16, 8, 24], { device: d, requiresGrad: true });
      const y = layerNorm(x, [8, 24], null, null, 1e-5);
      const target = tensor(data.map((v) => (v > 0 ? 1 : 0)), [16, 8, 24], { device: d });
      bceWithLogits(y, target).backward();
      return { y: await y.toArray(), g: await x.grad!.toArray() };
    };
    const a = await run(cpu64);
    const before = small.launches;
    const b = await run(small);
    expect(small.launches - before).toBeGreaterThan(10);
    expect(b.y).toBeAllClose(a.y, { rtol: 1e-12, atol: 1e-12 });
    expect(b.g).toBeAllClose(a.g, { rtol: 1e-9, atol: 1e-12 });
    // The affine part: weight and bias repeat along the leading dims, so the broadcast mul / add split, and so do
    // their gradients (reductions over the leading dims).
    const affine = async (d: typeof cpu64) => {
      const x = tensor(data, [16, 8, 24], { device: d, requiresGrad: true });
      const w = tensor(rnd(24, 19), [24], { device: d, requiresGrad: true });
      const b = tensor(rnd(24, 21), [24], { device: d, requiresGrad: true });
      const y = layerNorm(x, 24, w, b);
      y.backward(tensor(rnd(16 * 8 * 24, 22), [16, 8, 24], { device: d }));
      return [await y.toArray(), await x.grad!.toArray(), await w.grad!.toArray(), await b.grad!.toArray()];
    };
    const [want, got] = [await affine(cpu64), await affine(small)];
    got.forEach((g, i) => expect(g, `output ${i}`).toBeAllClose(want[i]!, { rtol: 1e-10, atol: 1e-12 }));
  });
});

describe('LayerNorm layer', () => {
  test("parameters as PyTorch's: weight 1 and bias 0 of the normalized shape; none without elementwiseAffine", async () => {
    const ln = withDevice(cpu32, () => new LayerNorm([3, 4]));
    expect(Object.keys(ln.stateDict())).toEqual(['weight', 'bias']);
    expect(ln.weight!.shape).toEqual([3, 4]);
    expect(await ln.weight!.toArray()).toEqual(new Float32Array(12).fill(1));
    expect(await ln.bias!.toArray()).toEqual(new Float32Array(12));
    expect(Object.keys(withDevice(cpu32, () => new LayerNorm(8, { elementwiseAffine: false })).stateDict())).toEqual([]);
    expect(String(withDevice(cpu32, () => new LayerNorm(8)))).toContain('LayerNorm((8,), eps=0.00001, elementwise_affine=True)');
    const m = withDevice(cpu64, () => new LayerNorm(5, { eps: 1e-3 }));
    const x = tensor(rnd(15, 20), [3, 5], { device: cpu64 });
    expect(await m.forward(x).toArray()).toBeAllClose(layerReference(rnd(15, 20), 5, null, null, 1e-3), { rtol: 1e-12, atol: 1e-12 });
  });

  test('options are checked', () => {
    expect(() => new LayerNorm(4, { elementwise_affine: false } as never)).toThrow("LayerNorm: unknown option 'elementwise_affine' (did you mean 'elementwiseAffine'?)");
    expect(() => new LayerNorm([])).toThrow('LayerNorm: normalized_shape must have at least one size');
    expect(() => new LayerNorm([4, 0])).toThrow('LayerNorm: normalized_shape[1] must be an integer >= 1, got 0');
    expect(() => new LayerNorm(4, { eps: -1 })).toThrow('LayerNorm: eps must be a finite number > 0, got -1');
    expect(() => new LayerNorm(4, { elementwiseAffine: 1 } as never)).toThrow('LayerNorm: elementwiseAffine must be true or false, got 1');
    const ln = withDevice(cpu32, () => new LayerNorm(4));
    expect(() => ln.forward(randn([2, 5], { device: cpu32 }))).toThrow('layerNorm: x [2, 5] does not end in normalizedShape [4]');
  });
});
