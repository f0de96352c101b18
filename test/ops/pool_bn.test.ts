// maxPool2d / maxPool2dWithIndices, avgPool2d, batchNorm and batchNormRelu (BN + ReLU fused) as ops: forward against independent JS (PyTorch semantics written
// out again here), float64 gradcheck, GPU backward == CPU backward, running statistics over several steps, errors,
// the binding-window split (a CPU device with a tiny binding limit that enforces it), and one GPU tensor per op
// over the real 128 MiB binding limit.
import { describe, expect, test } from 'vitest';
import {
  ArgumentError,
  avgPool2d,
  setKernelPolicy,
  withKernelPolicy,
  batchNorm,
  batchNormRelu,
  cpuDevice,
  LimitError,
  maxPool2d,
  maxPool2dWithIndices,
  nn,
  noGrad,
  relu,
  ShapeError,
  stats,
  tensor,
  type Backend,
  type Tensor,
} from '../../src/index.js';
import type { AvgPool2dOptions, MaxPool2dOptions } from '../../src/tensor/ops/pool.js';
import type { Rng } from '../../src/tensor/random.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randInt, randnArray, rng, uniformArray } from '../helpers/random.js';
import { smallLimits } from '../helpers/small_limits.js';

const { skip, dev } = await gpuSuite();

const EXACT = { rtol: 0, atol: 0 };
const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

async function arr(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.toArray());
}

// ---------------------------------------------------------------------------------------------------------------
// maxPool2d

interface PoolCfg {
  name: string;
  opts: MaxPool2dOptions;
}

const POOL_CASES: PoolCfg[] = [
  { name: 'k2 s2 (U-Net)', opts: { kernelSize: 2, stride: 2 } },
  { name: 'k2, stride defaults to kernel', opts: { kernelSize: 2 } },
  { name: 'k3 s2 p1', opts: { kernelSize: 3, stride: 2, padding: 1 } },
  { name: 'k3 s1 p1 (overlapping)', opts: { kernelSize: 3, stride: 1, padding: 1 } },
  { name: 'k3 s1 p1 dilation 2', opts: { kernelSize: 3, stride: 1, padding: 1, dilation: 2 } },
  { name: 'k3 s2 ceil_mode', opts: { kernelSize: 3, stride: 2, ceilMode: true } },
  { name: 'k2 s2 p1 ceil_mode', opts: { kernelSize: 2, stride: 2, padding: 1, ceilMode: true } },
  { name: 'k [2, 3] s [1, 2] p [1, 0] d [1, 2]', opts: { kernelSize: [2, 3], stride: [1, 2], padding: [1, 0], dilation: [1, 2] } },
];

const P2 = (v: number | readonly [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** PyTorch's max_pool2d (values, flat indices per plane), written out naively. */
function naiveMaxPool(x: ArrayLike<number>, shape: number[], o: MaxPool2dOptions) {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [kh, kw] = P2(o.kernelSize, 1);
  const [sh, sw] = o.stride === undefined ? [kh, kw] : P2(o.stride, 1);
  const [ph, pw] = P2(o.padding, 0);
  const [dh, dw] = P2(o.dilation, 1);
  const size = (len: number, k: number, p: number, s: number, d: number) => {
    const span = len + 2 * p - d * (k - 1) - 1;
    let out = (o.ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (o.ceilMode && (out - 1) * s >= len + p) out--;
    return out;
  };
  const oh = size(h, kh, ph, sh, dh);
  const ow = size(w, kw, pw, sw, dw);
  const y: number[] = [];
  const idx: number[] = [];
  for (let q = 0; q < n * c; q++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = NaN;
        let at = -1;
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const r = i * sh - ph + a * dh;
            const s = j * sw - pw + b * dw;
            if (r < 0 || r >= h || s < 0 || s >= w) continue;
            const v = x[q * h * w + r * w + s]!;
            if (at < 0 || v > best || Number.isNaN(v)) [best, at] = [v, r * w + s];
          }
        }
        y.push(best);
        idx.push(at);
      }
    }
  }
  return { y, idx, shape: [n, c, oh, ow] };
}

function poolShape(r: Rng, o: MaxPool2dOptions): number[] {
  const [kh, kw] = P2(o.kernelSize, 1);
  const [dh, dw] = P2(o.dilation, 1);
  const odd = (lo: number) => 2 * randInt(r, lo, lo + 6) + 1;
  return [randInt(r, 1, 3), r.uniform() < 0.5 ? 1 : 3, odd(dh * (kh - 1)), odd(dw * (kw - 1))];
}

/** Distinct values, at least 0.01 apart (gradcheck must not move an argmax). */
function distinct(r: Rng, n: number): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
}

describe('maxPool2d: options and errors (CPU)', () => {
  test('PyTorch errors: padding over half the kernel, output too small, zero stride, rank', () => {
    const x = tensor(randnArray(rng(1), 25), [1, 1, 5, 5], { device: cpu32 });
    expect(() => maxPool2d(x, { kernelSize: 3, padding: 2 })).toThrow(ArgumentError);
    expect(() => maxPool2d(x, { kernelSize: 1, padding: 1 })).toThrow(/at most half/);
    expect(() => maxPool2d(x, { kernelSize: 2, stride: 0 })).toThrow(ArgumentError);
    expect(() => maxPool2d(x, { kernelSize: 6 })).toThrow(ShapeError);
    expect(() => maxPool2d(x, { kernelSize: 3, dilation: 3 })).toThrow(/too small/);
    expect(() => maxPool2d(x.reshape(25), { kernelSize: 2 })).toThrow(ShapeError);
  });

  test('a dilated window that misses a tiny input entirely gives -inf (PyTorch 1.13: -inf)', async () => {
    const { values, indices } = maxPool2dWithIndices(tensor([0, 1, 2, 3], [1, 1, 2, 2], { device: cpu32 }), { kernelSize: 2, stride: 1, padding: 1, dilation: 3 });
    expect([...(await values.toArray())]).toEqual([-Infinity]);
    expect([...(await indices.toArray())]).toEqual([-1]);
  });

  test('unbatched [C, H, W] as PyTorch; indices are i32', async () => {
    const r = rng(2);
    const x = randnArray(r, 3 * 7 * 9);
    const { values, indices } = maxPool2dWithIndices(tensor(x, [3, 7, 9], { device: cpu32 }), { kernelSize: 3, stride: 2, padding: 1 });
    const want = naiveMaxPool(x, [1, 3, 7, 9], { kernelSize: 3, stride: 2, padding: 1 });
    expect(values.shape).toEqual([3, 4, 5]);
    expect(indices.dtype).toBe('i32');
    expect(await values.toArray()).toBeAllClose(want.y, EXACT);
    expect([...(await indices.toArray())]).toEqual(want.idx);
  });

  test.each(POOL_CASES.map((c, i) => [c.name, i] as const))('gradcheck (float64): %s', async (_n, ci) => {
    const o = POOL_CASES[ci]!.opts;
    const r = rng(10 + ci);
    const shape = poolShape(r, o).map((d, i) => (i < 2 ? Math.min(d, 2) : Math.min(d, 9)));
    const rep = await gradcheck((x) => maxPool2d(x, o), [{ data: distinct(r, prod(shape)), shape }]);
    expect(rep.worst, rep.where).toBeLessThan(1);
  });

  test('the split over plane blocks (binding windows at residual offsets) gives the same values, indices and grads', async () => {
    const small = smallLimits(cpuDevice(), { maxBindingBytes: 1024, bindingOffsetAlignment: 256 });
    const r = rng(20);
    for (const [shape, o] of [
      [[2, 3, 9, 11], { kernelSize: 2, stride: 2 }],
      [[3, 1, 11, 13], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }],
    ] as [number[], MaxPool2dOptions][]) {
      const x = randnArray(r, prod(shape));
      const gyFor = (s: readonly number[]) => randnArray(rng(21), prod(s));
      const run = async (d: Backend) => {
        const xt = tensor(x, shape, { device: d, requiresGrad: true });
        const { values, indices } = maxPool2dWithIndices(xt, o);
        values.backward(tensor(gyFor(values.shape), [...values.shape], { device: d }));
        return { y: await values.toArray(), idx: await indices.toArray(), gx: await xt.grad!.toArray() };
      };
      const before = small.launches;
      const got = await run(small);
      expect(small.launches - before).toBeGreaterThan(2);
      const want = await run(cpu32);
      expect(got.y).toBeAllClose(want.y, EXACT);
      expect([...got.idx]).toEqual([...want.idx]);
      expect(got.gx).toBeAllClose(want.gx, EXACT);
    }
    // One plane over the limit cannot be split.
    expect(() => maxPool2d(tensor(randnArray(r, 2 * 300), [2, 1, 20, 15], { device: small }), { kernelSize: 2 })).toThrow(LimitError);
  });
});

describe.skipIf(skip)('maxPool2d on the GPU', () => {
  test.each(POOL_CASES.map((c, i) => [c.name, i] as const))('%s: values and indices == naive JS (bit-exact); backward == CPU', async (_n, ci) => {
    const o = POOL_CASES[ci]!.opts;
    const r = rng(30 + ci);
    for (let rep = 0; rep < 2; rep++) {
      const shape = poolShape(r, o);
      const x = randnArray(r, prod(shape));
      if (rep === 1) for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i]! * 2) / 2; // ties
      const want = naiveMaxPool(x, shape, o);
      const xt = tensor(x, shape, { device: dev, requiresGrad: true });
      const { values, indices } = maxPool2dWithIndices(xt, o);
      expect(values.shape).toEqual(want.shape);
      expect(await values.toArray()).toBeAllClose(want.y, EXACT);
      expect([...(await indices.toArray())]).toEqual(want.idx);
      expect(await noGrad(() => maxPool2d(xt, o)).toArray()).toBeAllClose(want.y, EXACT);
      const gy = randnArray(r, values.numel);
      values.backward(tensor(gy, want.shape, { device: dev }));
      const xc = tensor(x, shape, { device: cpu32, requiresGrad: true });
      maxPool2d(xc, o).backward(tensor(gy, want.shape, { device: cpu32 }));
      expect(await xt.grad!.toArray()).toBeAllClose(await xc.grad!.toArray(), EXACT);
    }
  });

  test('x over the 128 MiB binding limit: [1, 37, 1023, 1023] (155 MB), forward and backward', async () => {
    const shape = [1, 37, 1023, 1023];
    const n = prod(shape);
    expect(n * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (Math.imul(i, 0x9e3779b1) >>> 8) / 16777216; // cheap, distinct-ish
    const xt = tensor(x, shape, { device: dev, requiresGrad: true });
    const o = { kernelSize: 2, stride: 2 };
    const { values, indices } = maxPool2dWithIndices(xt, o);
    const want = naiveMaxPool(x, shape, o);
    expect(await values.toArray()).toBeAllClose(want.y, EXACT);
    expect([...(await indices.toArray())].every((v, i) => v === want.idx[i])).toBe(true);
    const gy = new Float32Array(values.numel);
    for (let i = 0; i < gy.length; i++) gy[i] = 1 + (i % 7);
    values.backward(tensor(gy, [...values.shape], { device: dev }));
    const gx = await xt.grad!.toArray();
    // Non-overlapping windows: gx is gy at each argmax and 0 elsewhere.
    const wantGx = new Float32Array(n);
    const [h, w, oh, ow] = [1023, 1023, 511, 511];
    for (let q = 0; q < 37; q++) for (let k = 0; k < oh * ow; k++) wantGx[q * h * w + want.idx[q * oh * ow + k]!] = gy[q * oh * ow + k]!;
    expect(gx).toBeAllClose(wantGx, EXACT);
    for (const t of [xt, values, indices, xt.grad!]) t.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// batchNorm

/** Per-channel batch mean and biased / unbiased variance in float64 (two passes), and y, written out again. */
function naiveBn(x: ArrayLike<number>, shape: number[], w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps: number, stats?: { mean: ArrayLike<number>; var: ArrayLike<number> }) {
  const [n, c] = shape as [number, number];
  const hw = prod(shape.slice(2));
  const m = n * hw;
  const mean = new Float64Array(c);
  const varB = new Float64Array(c);
  const varU = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += x[(i * c + ch) * hw + j]!;
    const mu = s / m;
    let q = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) q += (x[(i * c + ch) * hw + j]! - mu) ** 2;
    mean[ch] = mu;
    varB[ch] = q / m;
    varU[ch] = q / (m - 1);
  }
  const useMean = stats?.mean ?? mean;
  const useVar = stats?.var ?? varB;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / hw) % c;
    y[i] = ((x[i]! - useMean[ch]!) / Math.sqrt(useVar[ch]! + eps)) * (w ? w[ch]! : 1) + (b ? b[ch]! : 0);
  }
  return { mean, varB, varU, y };
}

/** dx, dweight, dbias of PyTorch's batch norm in float64 (training: through the batch statistics). */
function naiveBnBackward(x: ArrayLike<number>, g: ArrayLike<number>, shape: number[], w: ArrayLike<number> | null, mean: ArrayLike<number>, vr: ArrayLike<number>, eps: number, training: boolean) {
  const [n, c] = shape as [number, number];
  const hw = prod(shape.slice(2));
  const m = n * hw;
  const sg = new Float64Array(c);
  const sgx = new Float64Array(c);
  const inv = Float64Array.from(vr, (v) => 1 / Math.sqrt(v + eps));
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / hw) % c;
    sg[ch] += g[i]!;
    sgx[ch] += g[i]! * (x[i]! - mean[ch]!) * inv[ch]!;
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / hw) % c;
    const s = (w ? w[ch]! : 1) * inv[ch]!;
    const xhat = (x[i]! - mean[ch]!) * inv[ch]!;
    dx[i] = training ? s * (g[i]! - sg[ch]! / m - (xhat * sgx[ch]!) / m) : s * g[i]!;
  }
  return { dx, dw: sgx, db: sg };
}

/** Float64 gradcheck of a batch-norm op on x (and weight, bias when affine), with or without running statistics. */
async function bnGradcheck(op: typeof batchNorm, R: Rng, shape: number[], training: boolean, affine: boolean, running: boolean) {
  const c = shape[1]!;
  const rm = running ? tensor(randnArray(R, c), [c], { device: cpu64 }) : null;
  const rv = running ? tensor(uniformArray(R, c, 0.5, 2), [c], { device: cpu64 }) : null;
  const inputs = [{ data: randnArray(R, prod(shape), 2), shape }];
  if (affine) inputs.push({ data: randnArray(R, c), shape: [c] }, { data: randnArray(R, c), shape: [c] });
  const f = affine
    ? (x: Tensor, w: Tensor, b: Tensor) => op(x, rm, rv, w, b, { training, eps: 1e-3 })
    : (x: Tensor) => op(x, rm, rv, null, null, { training, eps: 1e-3 });
  const rep = await gradcheck(f as (...xs: Tensor[]) => Tensor, inputs);
  expect(rep.worst, rep.where).toBeLessThan(1);
}

const BN_SHAPES = [[3, 3, 5, 7], [2, 1, 9, 11], [4, 3], [2, 3, 51, 47]];

describe('batchNorm: gradcheck (float64) and errors (CPU)', () => {
  const R = rng(40);
  const cases: [string, number[], boolean, boolean, boolean][] = [
    ['training, affine, running stats', [3, 2, 3, 5], true, true, true],
    ['training, no affine, no running stats', [2, 3, 3, 3], true, false, false],
    ['training, [N, C]', [5, 3], true, true, true],
    ['evaluation, affine', [2, 3, 3, 5], false, true, true],
    ['evaluation, no affine, [N, C]', [4, 2], false, false, true],
  ];
  test.each(cases)('%s', (_n, shape, training, affine, running) => bnGradcheck(batchNorm, R, shape, training, affine, running));

  test('errors: channel counts, one value per channel in training, evaluation without running stats', () => {
    const x = tensor(randnArray(R, 2 * 3 * 4), [2, 3, 4], { device: cpu32 });
    const c3 = tensor([1, 2, 3], [3], { device: cpu32 });
    const c2 = tensor([1, 2], [2], { device: cpu32 });
    expect(() => batchNorm(x, c2, c2, null, null, { training: true })).toThrow(ShapeError);
    expect(() => batchNorm(x, c3, c3, c2, null, { training: true })).toThrow(/weight \[2\] must be \[3\]/);
    expect(() => batchNorm(x, null, null)).toThrow(ArgumentError);
    expect(() => batchNorm(x, c3, null, null, null, { training: true })).toThrow(ArgumentError);
    expect(() => batchNorm(tensor([1, 2, 3], [1, 3], { device: cpu32 }), null, null, null, null, { training: true })).toThrow(/more than 1 value per channel/);
    expect(() => batchNorm(tensor([1, 2, 3], [3], { device: cpu32 }), null, null, null, null, { training: true })).toThrow(ShapeError);
  });

  test('the split over boxes and flat ranges (tiny binding limit) gives the same forward, running stats and grads', async () => {
    const small = smallLimits(cpuDevice(), { maxBindingBytes: 1024, bindingOffsetAlignment: 256 });
    const r = rng(41);
    // [4, 2, 5, 7]: runs of whole items; [3, 5, 9, 11]: channel blocks of one item; residual offsets throughout.
    for (const shape of [[4, 2, 5, 7], [3, 5, 9, 11], [700, 3]]) {
      const c = shape[1]!;
      const x = randnArray(r, prod(shape), 2).map((v) => v + 1);
      const gy = randnArray(r, prod(shape));
      const w = randnArray(r, c);
      const b = randnArray(r, c);
      const rm0 = randnArray(r, c);
      const rv0 = uniformArray(r, c, 0.5, 2);
      for (const training of [true, false]) {
        const run = async (d: Backend) => {
          const xt = tensor(x, shape, { device: d, requiresGrad: true });
          const wt = tensor(w, [c], { device: d, requiresGrad: true });
          const bt = tensor(b, [c], { device: d, requiresGrad: true });
          const rm = tensor(rm0, [c], { device: d });
          const rv = tensor(rv0, [c], { device: d });
          const y = batchNorm(xt, rm, rv, wt, bt, { training, momentum: 0.3 });
          y.backward(tensor(gy, shape, { device: d }));
          return [await y.toArray(), await rm.toArray(), await rv.toArray(), await xt.grad!.toArray(), await wt.grad!.toArray(), await bt.grad!.toArray()];
        };
        const before = small.launches;
        const got = await run(small);
        expect(small.launches - before).toBeGreaterThan(training ? 8 : 5);
        const want = await run(cpu32);
        for (let k = 0; k < got.length; k++) expect(got[k]!, `output ${k}`).toBeAllClose(want[k]!, { rtol: 1e-4, atol: 1e-5 });
      }
    }
    expect(() => batchNorm(tensor(randnArray(r, 450), [2, 1, 15, 15], { device: small }), null, null, null, null, { training: true })).toThrow(LimitError);
  });
});

describe.skipIf(skip)('batchNorm on the GPU', () => {
  test.each(BN_SHAPES.map((s) => [s.join('x'), s] as const))('training %s: y and running stats == float64 JS over 3 steps', async (_n, shape) => {
    const r = rng(50 + shape.length + shape[0]!);
    const c = shape[1]!;
    const momentum = 0.1 + 0.3 * r.uniform();
    const eps = 1e-5;
    let rm = Array.from(randnArray(r, c));
    let rv = Array.from(uniformArray(r, c, 0.5, 2));
    const rmT = tensor(rm, [c], { device: dev });
    const rvT = tensor(rv, [c], { device: dev });
    for (let step = 0; step < 3; step++) {
      const x = randnArray(r, prod(shape), 1 + step).map((v) => v + 2 * step - 1);
      const affine = step !== 1;
      const w = affine ? randnArray(r, c) : null;
      const b = affine ? randnArray(r, c) : null;
      const y = batchNorm(tensor(x, shape, { device: dev }), rmT, rvT, w && tensor(w, [c], { device: dev }), b && tensor(b, [c], { device: dev }), {
        training: true,
        momentum,
        eps,
      });
      const want = naiveBn(x, shape, w, b, eps);
      expect(await y.toArray()).toBeAllClose(want.y, { rtol: 1e-4, atol: 1e-4 });
      // PyTorch: running = (1 - momentum) * running + momentum * batch statistic (unbiased variance).
      rm = rm.map((v, i) => (1 - momentum) * v + momentum * want.mean[i]!);
      rv = rv.map((v, i) => (1 - momentum) * v + momentum * want.varU[i]!);
      expect(await rmT.toArray()).toBeAllClose(rm, { rtol: 1e-5, atol: 1e-5 });
      expect(await rvT.toArray()).toBeAllClose(rv, { rtol: 1e-5, atol: 1e-5 });
    }
  });

  test('evaluation normalises with the running statistics and leaves them unchanged', async () => {
    const r = rng(60);
    const shape = [2, 3, 7, 9];
    const x = randnArray(r, prod(shape));
    const rm = randnArray(r, 3);
    const rv = uniformArray(r, 3, 0.5, 2);
    const w = randnArray(r, 3);
    const b = randnArray(r, 3);
    const rmT = tensor(rm, [3], { device: dev });
    const rvT = tensor(rv, [3], { device: dev });
    const y = batchNorm(tensor(x, shape, { device: dev }), rmT, rvT, tensor(w, [3], { device: dev }), tensor(b, [3], { device: dev }), { eps: 1e-3 });
    expect(await y.toArray()).toBeAllClose(naiveBn(x, shape, w, b, 1e-3, { mean: rm, var: rv }).y, { rtol: 1e-5, atol: 1e-5 });
    expect(await rmT.toArray()).toBeAllClose(rm, EXACT);
    expect(await rvT.toArray()).toBeAllClose(rv, EXACT);
  });

  test('variance is accurate with a large mean and many values (327k per channel around 1000)', async () => {
    const r = rng(61);
    const shape = [2, 2, 401, 407];
    const x = randnArray(r, prod(shape), 0.05).map((v) => v + 1000);
    const rmT = tensor([0, 0], [2], { device: dev });
    const rvT = tensor([0, 0], [2], { device: dev });
    batchNorm(tensor(x, shape, { device: dev }), rmT, rvT, null, null, { training: true, momentum: 1 }).dispose();
    const want = naiveBn(x, shape, null, null, 1e-5);
    expect(await rmT.toArray()).toBeAllClose(want.mean, { rtol: 1e-7, atol: 0 });
    // E[x^2] - E[x]^2 in float32 would be off by ~100% here (x^2 ~ 1e6, ulp 0.06 vs var 2.5e-3).
    expect(await rvT.toArray()).toBeAllClose(want.varU, { rtol: 3e-5, atol: 0 });
  });

  test.each([true, false])('backward (training %s): GPU == CPU float64, and == JS float64', async (training) => {
    const r = rng(62 + +training);
    for (const shape of BN_SHAPES) {
      const c = shape[1]!;
      const x = randnArray(r, prod(shape), 2).map((v) => v + 1);
      const gy = randnArray(r, prod(shape));
      const w = randnArray(r, c);
      const b = randnArray(r, c);
      const rm = randnArray(r, c);
      const rv = uniformArray(r, c, 0.5, 2);
      const run = async (d: Backend) => {
        const xt = tensor(x, shape, { device: d, requiresGrad: true });
        const wt = tensor(w, [c], { device: d, requiresGrad: true });
        const bt = tensor(b, [c], { device: d, requiresGrad: true });
        const y = batchNorm(xt, tensor(rm, [c], { device: d }), tensor(rv, [c], { device: d }), wt, bt, { training });
        y.backward(tensor(gy, shape, { device: d }));
        return [await xt.grad!.toArray(), await wt.grad!.toArray(), await bt.grad!.toArray()];
      };
      const got = await run(dev);
      const want = await run(cpu64);
      const st = naiveBn(x, shape, w, b, 1e-5);
      const js = naiveBnBackward(x, gy, shape, w, training ? st.mean : rm, training ? st.varB : rv, 1e-5, training);
      const m = prod(shape) / c;
      const tol = { rtol: 1e-4, atol: 2e-6 * Math.sqrt(m) + 1e-5 };
      for (let k = 0; k < 3; k++) expect(got[k]!, `grad ${k} vs CPU`).toBeAllClose(want[k]!, tol);
      expect(want[0]!).toBeAllClose(js.dx, { rtol: 1e-9, atol: 1e-9 });
      expect(want[1]!).toBeAllClose(js.dw, { rtol: 1e-9, atol: 1e-9 });
      expect(want[2]!).toBeAllClose(js.db, { rtol: 1e-9, atol: 1e-9 });
    }
  });

  test('x over the 128 MiB binding limit: [1, 37, 1023, 1023] (155 MB), training forward and backward', async () => {
    const shape = [1, 37, 1023, 1023];
    const c = 37;
    const hw = 1023 * 1023;
    const n = prod(shape);
    expect(n * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor(i / hw) * 0.5 + (Math.imul(i, 0x9e3779b1) >>> 8) / 16777216;
    const w = Float32Array.from({ length: c }, (_, i) => 0.5 + i / c);
    const b = Float32Array.from({ length: c }, (_, i) => i / 10 - 1);
    const xt = tensor(x, shape, { device: dev, requiresGrad: true });
    const wt = tensor(w, [c], { device: dev, requiresGrad: true });
    const bt = tensor(b, [c], { device: dev, requiresGrad: true });
    const rmT = tensor(new Float32Array(c), [c], { device: dev });
    const rvT = tensor(new Float32Array(c).fill(1), [c], { device: dev });
    const y = batchNorm(xt, rmT, rvT, wt, bt, { training: true, momentum: 1 });
    const mean = new Float64Array(c);
    const varB = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      const v = x.subarray(ch * hw, (ch + 1) * hw);
      let s = 0;
      for (let i = 0; i < hw; i++) s += v[i]!;
      mean[ch] = s / hw;
      let q = 0;
      for (let i = 0; i < hw; i++) q += (v[i]! - mean[ch]!) ** 2;
      varB[ch] = q / hw;
    }
    expect(await rmT.toArray()).toBeAllClose(mean, { rtol: 1e-6, atol: 1e-7 });
    expect(await rvT.toArray()).toBeAllClose(varB.map((v) => (v * hw) / (hw - 1)), { rtol: 1e-4, atol: 0 });
    const yv = await y.toArray();
    const sample = Array.from({ length: 4000 }, (_, k) => Math.floor(((k + 0.5) / 4000) * n));
    const wantY = sample.map((i) => {
      const ch = Math.floor(i / hw);
      return ((x[i]! - mean[ch]!) / Math.sqrt(varB[ch]! + 1e-5)) * w[ch]! + b[ch]!;
    });
    expect(sample.map((i) => yv[i]!)).toBeAllClose(wantY, { rtol: 1e-4, atol: 1e-4 });
    const gy = new Float32Array(n);
    for (let i = 0; i < n; i++) gy[i] = ((i % 13) - 6) / 6 + (x[i]! - Math.floor(i / hw) * 0.5);
    y.backward(tensor(gy, shape, { device: dev }));
    const sg = new Float64Array(c);
    const sgx = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      const ch = Math.floor(i / hw);
      sg[ch] += gy[i]!;
      sgx[ch] += (gy[i]! * (x[i]! - mean[ch]!)) / Math.sqrt(varB[ch]! + 1e-5);
    }
    expect(await bt.grad!.toArray()).toBeAllClose(sg, { rtol: 1e-4, atol: 1e-2 });
    expect(await wt.grad!.toArray()).toBeAllClose(sgx, { rtol: 1e-4, atol: 1e-2 });
    const dx = await xt.grad!.toArray();
    const wantDx = sample.map((i) => {
      const ch = Math.floor(i / hw);
      const inv = 1 / Math.sqrt(varB[ch]! + 1e-5);
      const xhat = (x[i]! - mean[ch]!) * inv;
      return w[ch]! * inv * (gy[i]! - sg[ch]! / hw - (xhat * sgx[ch]!) / hw);
    });
    expect(sample.map((i) => dx[i]!)).toBeAllClose(wantDx, { rtol: 1e-3, atol: 1e-4 });
    for (const t of [xt, wt, bt, rmT, rvT, y, xt.grad!, wt.grad!, bt.grad!]) t.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// batchNormRelu: relu(batchNorm(...)) in one op; the ReLU mask recomputed from x in backward.

const reluOf = (a: ArrayLike<number>) => Float64Array.from(a, (v) => (v > 0 ? v : 0));

/** PyTorch's BN + ReLU backward in float64: dz = g where z > 0, then naiveBnBackward. */
function naiveBnReluBackward(x: ArrayLike<number>, g: ArrayLike<number>, shape: number[], w: ArrayLike<number> | null, b: ArrayLike<number> | null, mean: ArrayLike<number>, vr: ArrayLike<number>, eps: number, training: boolean) {
  const c = shape[1]!;
  const hw = prod(shape.slice(2));
  const dz = Float64Array.from(g, (gv, i) => {
    const ch = Math.floor(i / hw) % c;
    const z = ((x[i]! - mean[ch]!) / Math.sqrt(vr[ch]! + eps)) * (w ? w[ch]! : 1) + (b ? b[ch]! : 0);
    return z > 0 ? gv : 0;
  });
  return naiveBnBackward(x, dz, shape, w, mean, vr, eps, training);
}

// Odd planes run the portable kernels, planes of 4k elements the vec4 ones (with 'portable' forced too).
const BNR_SHAPES = [[3, 3, 5, 7], [2, 3, 6, 10], [4, 3], [2, 1, 4, 1], [2, 3, 20, 27]];

describe('batchNormRelu: gradcheck (float64), == the unfused composition, errors (CPU)', () => {
  const R = rng(70);
  const cases: [string, number[], boolean, boolean, boolean][] = [
    ['training, affine, running stats', [3, 2, 3, 5], true, true, true],
    ['training, affine, vec4 plane', [2, 2, 2, 4], true, true, true],
    ['training, no affine, no running stats', [2, 3, 3, 3], true, false, false],
    ['training, [N, C]', [5, 3], true, true, true],
    ['evaluation, affine', [2, 3, 3, 4], false, true, true],
    ['evaluation, no affine, [N, C]', [4, 2], false, false, true],
  ];
  test.each(cases)('gradcheck %s', (_n, shape, training, affine, running) => bnGradcheck(batchNormRelu, R, shape, training, affine, running));

  test.each([true, false])('training %s: y, running stats and grads == relu(batchNorm(...)) (float64, weight only / bias only too)', async (training) => {
    const r = rng(71 + +training);
    for (const shape of BNR_SHAPES) {
      const c = shape[1]!;
      const x = randnArray(r, prod(shape), 2).map((v) => v + 0.5);
      const gy = randnArray(r, prod(shape));
      const w = randnArray(r, c);
      const b = randnArray(r, c);
      const rm0 = randnArray(r, c);
      const rv0 = uniformArray(r, c, 0.5, 2);
      for (const [hasW, hasB] of [[true, true], [true, false], [false, true]] as const) {
        const run = async (fused: boolean) => {
          const d = cpu64;
          const xt = tensor(x, shape, { device: d, requiresGrad: true });
          const wt = hasW ? tensor(w, [c], { device: d, requiresGrad: true }) : null;
          const bt = hasB ? tensor(b, [c], { device: d, requiresGrad: true }) : null;
          const rm = tensor(rm0, [c], { device: d });
          const rv = tensor(rv0, [c], { device: d });
          const o = { training, momentum: 0.2 };
          const y = fused ? batchNormRelu(xt, rm, rv, wt, bt, o) : relu(batchNorm(xt, rm, rv, wt, bt, o));
          y.backward(tensor(gy, shape, { device: d }));
          const out = [await y.toArray(), await rm.toArray(), await rv.toArray(), await xt.grad!.toArray()];
          if (wt) out.push(await wt.grad!.toArray());
          if (bt) out.push(await bt.grad!.toArray());
          return out;
        };
        const got = await run(true);
        const want = await run(false);
        for (let k = 0; k < got.length; k++) expect(got[k]!, `${shape} output ${k}`).toBeAllClose(want[k]!, { rtol: 1e-12, atol: 1e-12 });
      }
    }
  });

  test('saves x and the statistics only: the pre-ReLU tensor is never kept, and everything is freed after backward', async () => {
    const shape = [2, 3, 4, 4];
    const x = tensor(randnArray(rng(73), prod(shape)), shape, { device: cpu32, requiresGrad: true });
    const w = tensor([1, 2, 3], [3], { device: cpu32, requiresGrad: true });
    const b = tensor([0.1, -0.2, 0.3], [3], { device: cpu32, requiresGrad: true });
    const base = stats(cpu32).liveBytes;
    const fused = batchNormRelu(x, null, null, w, b, { training: true });
    const fusedBytes = stats(cpu32).liveBytes - base;
    const z = batchNorm(x, null, null, w, b, { training: true });
    const y = relu(z);
    z.dispose();
    const unfusedBytes = stats(cpu32).liveBytes - base - fusedBytes;
    // Fused: y plus the [C] statistics; unfused: y, plus the pre-ReLU z that relu saved.
    expect(fusedBytes).toBe(4 * (prod(shape) + 2 * 3));
    expect(unfusedBytes).toBe(4 * (2 * prod(shape) + 2 * 3));
    const loss = fused.sum();
    loss.backward();
    loss.dispose();
    y.dispose();
    fused.dispose();
    for (const t of [x, w, b]) {
      t.grad!.dispose();
      t.grad = null;
    }
    expect(stats(cpu32).liveBytes).toBe(base);
  });

  test('errors as batchNorm, named batchNormRelu', () => {
    const x = tensor(randnArray(R, 2 * 3 * 4), [2, 3, 4], { device: cpu32 });
    const c2 = tensor([1, 2], [2], { device: cpu32 });
    expect(() => batchNormRelu(x, c2, c2, null, null, { training: true })).toThrow(/^batchNormRelu: runningMean \[2\]/);
    expect(() => batchNormRelu(x, null, null)).toThrow(ArgumentError);
    expect(() => setKernelPolicy(cpuDevice(), { batchNorm: 'fast' as 'auto' })).toThrow(/batchNorm must be one of auto, portable/);
  });

  test('the split over boxes and flat ranges (tiny binding limit): portable and vec4 == unsplit', async () => {
    const small = smallLimits(cpuDevice(), { maxBindingBytes: 1024, bindingOffsetAlignment: 256 });
    const r = rng(74);
    // [4, 2, 4, 7]: runs of whole items; [3, 5, 8, 11]: channel blocks of one item (planes of 4k: the vec4 path).
    for (const shape of [[4, 2, 4, 7], [3, 5, 8, 11], [3, 5, 9, 11]]) {
      const c = shape[1]!;
      const x = randnArray(r, prod(shape), 2).map((v) => v + 0.3);
      const gy = randnArray(r, prod(shape));
      const w = randnArray(r, c);
      const b = randnArray(r, c);
      for (const training of [true, false]) {
        const run = async (d: Backend) => {
          const xt = tensor(x, shape, { device: d, requiresGrad: true });
          const wt = tensor(w, [c], { device: d, requiresGrad: true });
          const bt = tensor(b, [c], { device: d, requiresGrad: true });
          const rm = tensor(randnArray(rng(75), c), [c], { device: d });
          const rv = tensor(uniformArray(rng(76), c, 0.5, 2), [c], { device: d });
          const y = batchNormRelu(xt, rm, rv, wt, bt, { training, momentum: 0.3 });
          y.backward(tensor(gy, shape, { device: d }));
          return [await y.toArray(), await rm.toArray(), await rv.toArray(), await xt.grad!.toArray(), await wt.grad!.toArray(), await bt.grad!.toArray()];
        };
        const got = await run(small);
        const want = await run(cpu32);
        for (let k = 0; k < got.length; k++) expect(got[k]!, `output ${k}`).toBeAllClose(want[k]!, { rtol: 1e-4, atol: 1e-5 });
      }
    }
  });
});

describe.skipIf(skip)('batchNormRelu and batchNorm on the GPU (portable and vec4 kernels)', () => {
  test.each([true, false])('training %s: forward, running stats and backward == CPU float64 and == JS float64', async (training) => {
    const r = rng(80 + +training);
    for (const shape of BNR_SHAPES) {
      const c = shape[1]!;
      const x = randnArray(r, prod(shape), 2).map((v) => v + 0.5);
      const gy = randnArray(r, prod(shape));
      const w = randnArray(r, c);
      const b = randnArray(r, c);
      const rm0 = randnArray(r, c);
      const rv0 = uniformArray(r, c, 0.5, 2);
      for (const variant of ['auto', 'portable'] as const) {
        for (const fused of [true, false]) {
          const run = async (d: Backend) => {
            const xt = tensor(x, shape, { device: d, requiresGrad: true });
            const wt = tensor(w, [c], { device: d, requiresGrad: true });
            const bt = tensor(b, [c], { device: d, requiresGrad: true });
            const rm = tensor(rm0, [c], { device: d });
            const rv = tensor(rv0, [c], { device: d });
            const o = { training, momentum: 0.3 };
            const y = withKernelPolicy(d, { batchNorm: variant }, () => (fused ? batchNormRelu : batchNorm)(xt, rm, rv, wt, bt, o));
            y.backward(tensor(gy, shape, { device: d }));
            return [await y.toArray(), await rm.toArray(), await rv.toArray(), await xt.grad!.toArray(), await wt.grad!.toArray(), await bt.grad!.toArray()];
          };
          const got = await run(dev);
          const want = await run(cpu64);
          const m = prod(shape) / c;
          const tol = { rtol: 1e-4, atol: 2e-6 * Math.sqrt(m) + 1e-5 };
          const what = `${shape} ${variant} ${fused ? 'fused' : 'batchNorm'}`;
          for (let k = 0; k < got.length; k++) expect(got[k]!, `${what}: output ${k} vs CPU`).toBeAllClose(want[k]!, tol);
          // The CPU float64 op against JS written out again.
          const st = naiveBn(x, shape, w, b, 1e-5);
          const useMean = training ? st.mean : rm0;
          const useVar = training ? st.varB : rv0;
          const yJs = training ? st.y : naiveBn(x, shape, w, b, 1e-5, { mean: rm0, var: rv0 }).y;
          expect(want[0]!, what).toBeAllClose(fused ? reluOf(yJs) : yJs, { rtol: 1e-9, atol: 1e-9 });
          const js = fused ? naiveBnReluBackward(x, gy, shape, w, b, useMean, useVar, 1e-5, training) : naiveBnBackward(x, gy, shape, w, useMean, useVar, 1e-5, training);
          expect(want[3]!, what).toBeAllClose(js.dx, { rtol: 1e-9, atol: 1e-9 });
          expect(want[4]!, what).toBeAllClose(js.dw, { rtol: 1e-9, atol: 1e-9 });
          expect(want[5]!, what).toBeAllClose(js.db, { rtol: 1e-9, atol: 1e-9 });
        }
      }
    }
  });

  test('vec4 statistics keep the variance accurate with a large mean (327k per channel around 1000)', async () => {
    const r = rng(82);
    const shape = [2, 2, 400, 409];
    const x = randnArray(r, prod(shape), 0.05).map((v) => v + 1000);
    const rmT = tensor([0, 0], [2], { device: dev });
    const rvT = tensor([0, 0], [2], { device: dev });
    batchNormRelu(tensor(x, shape, { device: dev }), rmT, rvT, null, null, { training: true, momentum: 1 }).dispose();
    const want = naiveBn(x, shape, null, null, 1e-5);
    expect(await rmT.toArray()).toBeAllClose(want.mean, { rtol: 1e-7, atol: 0 });
    expect(await rvT.toArray()).toBeAllClose(want.varU, { rtol: 3e-5, atol: 0 });
  });

  test('x over the 128 MiB binding limit with planes of 4k (vec4 windows): [1, 37, 1023, 1024], training forward and backward', async () => {
    const shape = [1, 37, 1023, 1024];
    const c = 37;
    const hw = 1023 * 1024;
    const n = prod(shape);
    expect(n * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor(i / hw) * 0.5 + (Math.imul(i, 0x9e3779b1) >>> 8) / 16777216;
    const w = Float32Array.from({ length: c }, (_, i) => 0.5 + i / c);
    const b = Float32Array.from({ length: c }, (_, i) => ((i % 5) - 2) / 10);
    const xt = tensor(x, shape, { device: dev, requiresGrad: true });
    const wt = tensor(w, [c], { device: dev, requiresGrad: true });
    const bt = tensor(b, [c], { device: dev, requiresGrad: true });
    const y = batchNormRelu(xt, null, null, wt, bt, { training: true });
    const mean = new Float64Array(c);
    const inv = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      const v = x.subarray(ch * hw, (ch + 1) * hw);
      let s = 0;
      for (let i = 0; i < hw; i++) s += v[i]!;
      mean[ch] = s / hw;
      let q = 0;
      for (let i = 0; i < hw; i++) q += (v[i]! - mean[ch]!) ** 2;
      inv[ch] = 1 / Math.sqrt(q / hw + 1e-5);
    }
    const zOf = (i: number) => {
      const ch = Math.floor(i / hw);
      return (x[i]! - mean[ch]!) * inv[ch]! * w[ch]! + b[ch]!;
    };
    const yv = await y.toArray();
    // A sample, and every element around each window boundary (the windows cut planes mid-way).
    const sample = Array.from({ length: 4000 }, (_, k) => Math.floor(((k + 0.5) / 4000) * n));
    for (const [base] of [[Math.floor(dev.limits.maxBindingBytes / 4 / 64) * 64]]) for (let i = base! - 8; i < base! + 8; i++) sample.push(i);
    expect(sample.map((i) => yv[i]!)).toBeAllClose(sample.map((i) => Math.max(zOf(i), 0)), { rtol: 1e-4, atol: 1e-4 });
    // The float32 statistics put z a few ulp from float64's, which flips the ReLU mask of the few elements with
    // |z| < ~1e-5: a gradient proportional to z makes those flips immaterial to the sums.
    const gy = new Float32Array(n);
    for (let i = 0; i < n; i++) gy[i] = (((i % 13) - 6) / 6) * zOf(i);
    y.backward(tensor(gy, shape, { device: dev }));
    const sg = new Float64Array(c);
    const sgx = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      if (!(zOf(i) > 0)) continue;
      const ch = Math.floor(i / hw);
      sg[ch] += gy[i]!;
      sgx[ch] += gy[i]! * (x[i]! - mean[ch]!) * inv[ch]!;
    }
    expect(await bt.grad!.toArray()).toBeAllClose(sg, { rtol: 1e-4, atol: 1e-2 });
    expect(await wt.grad!.toArray()).toBeAllClose(sgx, { rtol: 1e-4, atol: 1e-2 });
    const dx = await xt.grad!.toArray();
    const wantDx = sample.map((i) => {
      const ch = Math.floor(i / hw);
      const dz = zOf(i) > 0 ? gy[i]! : 0;
      const xhat = (x[i]! - mean[ch]!) * inv[ch]!;
      return w[ch]! * inv[ch]! * (dz - sg[ch]! / hw - (xhat * sgx[ch]!) / hw);
    });
    expect(sample.map((i) => dx[i]!)).toBeAllClose(wantDx, { rtol: 1e-3, atol: 1e-4 });
    for (const t of [xt, wt, bt, y, xt.grad!, wt.grad!, bt.grad!]) t.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// avgPool2d

const AVG_CASES: { name: string; opts: AvgPool2dOptions }[] = [
  { name: 'k2 s2', opts: { kernelSize: 2, stride: 2 } },
  { name: 'k2, stride defaults to kernel, ceil_mode', opts: { kernelSize: 2, ceilMode: true } },
  { name: 'k3 s2 p1 ceil_mode', opts: { kernelSize: 3, stride: 2, padding: 1, ceilMode: true } },
  { name: 'k3 s1 p1 countIncludePad false', opts: { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false } },
  { name: 'k [2, 3] s [1, 2] p [1, 0] countIncludePad false, ceil_mode', opts: { kernelSize: [2, 3], stride: [1, 2], padding: [1, 0], countIncludePad: false, ceilMode: true } },
  { name: 'k3 s2 p1 divisorOverride 4', opts: { kernelSize: 3, stride: 2, padding: 1, divisorOverride: 4 } },
];

/** PyTorch's avg_pool2d, written out naively: per window the in-bounds sum over the divisor of its rule. */
function naiveAvgPool(x: ArrayLike<number>, shape: number[], o: AvgPool2dOptions) {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [kh, kw] = P2(o.kernelSize, 1);
  const [sh, sw] = o.stride === undefined ? [kh, kw] : P2(o.stride, 1);
  const [ph, pw] = P2(o.padding, 0);
  const size = (len: number, k: number, p: number, s: number) => {
    let out = Math[o.ceilMode ? 'ceil' : 'floor']((len + 2 * p - k) / s) + 1;
    if (o.ceilMode && (out - 1) * s >= len + p) out--;
    return out;
  };
  const [oh, ow] = [size(h, kh, ph, sh), size(w, kw, pw, sw)];
  const y: number[] = [];
  for (let q = 0; q < n * c; q++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let sum = 0;
        let inside = 0;
        let padded = 0;
        for (let r = i * sh - ph; r < i * sh - ph + kh; r++) {
          for (let t = j * sw - pw; t < j * sw - pw + kw; t++) {
            if (r < h + ph && t < w + pw) padded++;
            if (r < 0 || r >= h || t < 0 || t >= w) continue;
            sum += x[q * h * w + r * w + t]!;
            inside++;
          }
        }
        y.push(inside ? sum / (o.divisorOverride ?? (o.countIncludePad === false ? inside : padded)) : 0);
      }
    }
  }
  return { y, shape: [n, c, oh, ow] };
}

describe('avgPool2d: options and errors (CPU)', () => {
  test('PyTorch errors and unknown options name the op', () => {
    const x = tensor(randnArray(rng(50), 25), [1, 1, 5, 5], { device: cpu32 });
    expect(() => avgPool2d(x, { kernelSize: 3, padding: 2 })).toThrow('avgPool2d: padding [2, 2] must be at most half of kernelSize [3, 3]');
    expect(() => avgPool2d(x, { kernelSize: 2, stride: 0 })).toThrow('avgPool2d: stride must be integers >= 1, got [0, 0]');
    expect(() => avgPool2d(x, { kernelSize: 6 })).toThrow(ShapeError);
    expect(() => avgPool2d(x.reshape(25), { kernelSize: 2 })).toThrow('avgPool2d: x [25] must be [N, C, H, W] (or unbatched [C, H, W])');
    expect(() => avgPool2d(x, { kernelSize: 2, divisorOverride: 0 })).toThrow('avgPool2d: divisorOverride must not be 0');
    expect(() => avgPool2d(x, { kernelSize: 2, divisorOverride: 1.5 })).toThrow(/avgPool2d: divisorOverride must be an integer/);
    expect(() => avgPool2d(x, { kernelSize: 2, countIncludePad: 0 as never })).toThrow('avgPool2d: countIncludePad must be true or false, got 0');
    expect(() => avgPool2d(x, { kernelSize: 2, dilation: 1 } as never)).toThrow("avgPool2d: unknown option 'dilation'; accepted: kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride");
    expect(() => avgPool2d(x, { kernelSize: 2, count_include_pad: false } as never)).toThrow("avgPool2d: unknown option 'count_include_pad' (did you mean 'countIncludePad'?)");
    expect(() => avgPool2d(x, {} as never)).toThrow('avgPool2d: kernelSize is required');
  });

  test('nn.AvgPool2d runs avgPool2d with its options (stride defaults to the kernel size)', async () => {
    const x = randnArray(rng(52), 2 * 3 * 7 * 8);
    const m = new nn.AvgPool2d([3, 2], { padding: [1, 0], ceilMode: true, countIncludePad: false, divisorOverride: 3 });
    expect(String(m)).toBe('AvgPool2d(kernel_size=3,2, stride=3,2, padding=1,0)');
    const want = naiveAvgPool(x, [2, 3, 7, 8], { kernelSize: [3, 2], padding: [1, 0], ceilMode: true, countIncludePad: false, divisorOverride: 3 });
    expect(await m.forward(tensor(x, [2, 3, 7, 8], { device: cpu64 })).toArray()).toBeAllClose(want.y, { rtol: 1e-12, atol: 1e-12 });
  });

  test('unbatched [C, H, W] as PyTorch, and a bare kernel size', async () => {
    const x = randnArray(rng(51), 3 * 7 * 9);
    const o = { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false };
    const y = avgPool2d(tensor(x, [3, 7, 9], { device: cpu64 }), o);
    expect(y.shape).toEqual([3, 4, 5]);
    expect(await y.toArray()).toBeAllClose(naiveAvgPool(x, [1, 3, 7, 9], o).y, { rtol: 1e-12, atol: 1e-12 });
    const bare = avgPool2d(tensor(x, [1, 3, 7, 9], { device: cpu64 }), [2, 3]);
    expect(await bare.toArray()).toBeAllClose(naiveAvgPool(x, [1, 3, 7, 9], { kernelSize: [2, 3] }).y, { rtol: 1e-12, atol: 1e-12 });
  });

  test.each(AVG_CASES.map((c, i) => [c.name, i] as const))('%s: equals the naive formula (float64), and gradcheck', async (_n, ci) => {
    const o = AVG_CASES[ci]!.opts;
    const r = rng(60 + ci);
    const shape = poolShape(r, o).map((d, i) => (i < 2 ? Math.min(d, 2) : Math.min(d, 9)));
    const x = randnArray(r, prod(shape));
    const want = naiveAvgPool(x, shape, o);
    const y = avgPool2d(tensor(x, shape, { device: cpu64 }), o);
    expect(y.shape).toEqual(want.shape);
    expect(await y.toArray()).toBeAllClose(want.y, { rtol: 1e-12, atol: 1e-12 });
    const rep = await gradcheck((t) => avgPool2d(t, o), [{ data: x, shape }]);
    expect(rep.worst, rep.where).toBeLessThan(1);
  });

  test('the split over plane blocks (binding windows at residual offsets) gives the same values and grads', async () => {
    const small = smallLimits(cpuDevice(), { maxBindingBytes: 1024, bindingOffsetAlignment: 256 });
    const r = rng(70);
    for (const [shape, o] of [
      [[2, 3, 9, 11], { kernelSize: 2, stride: 2 }],
      [[3, 1, 11, 13], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
      [[2, 2, 10, 9], { kernelSize: 3, stride: 1, padding: 1, divisorOverride: 7 }],
    ] as [number[], AvgPool2dOptions][]) {
      const x = randnArray(r, prod(shape));
      const run = async (d: Backend) => {
        const xt = tensor(x, shape, { device: d, requiresGrad: true });
        const y = avgPool2d(xt, o);
        y.backward(tensor(randnArray(rng(71), y.numel), [...y.shape], { device: d }));
        return { y: await y.toArray(), gx: await xt.grad!.toArray() };
      };
      const before = small.launches;
      const got = await run(small);
      expect(small.launches - before).toBeGreaterThan(2);
      const want = await run(cpu32);
      expect(got.y).toBeAllClose(want.y, EXACT);
      expect(got.gx).toBeAllClose(want.gx, EXACT);
    }
    // One plane over the limit cannot be split.
    expect(() => avgPool2d(tensor(randnArray(r, 2 * 300), [2, 1, 20, 15], { device: small }), { kernelSize: 2 })).toThrow(LimitError);
  });
});

describe.skipIf(skip)('avgPool2d on the GPU', () => {
  test.each(AVG_CASES.map((c, i) => [c.name, i] as const))('%s: values == naive JS; backward == CPU', async (_n, ci) => {
    const o = AVG_CASES[ci]!.opts;
    const r = rng(80 + ci);
    const shape = poolShape(r, o);
    const x = randnArray(r, prod(shape));
    const want = naiveAvgPool(x, shape, o);
    const xt = tensor(x, shape, { device: dev, requiresGrad: true });
    const y = avgPool2d(xt, o);
    expect(y.shape).toEqual(want.shape);
    expect(await y.toArray()).toBeAllClose(want.y, { rtol: 1e-5, atol: 1e-6 });
    const gy = randnArray(r, y.numel);
    y.backward(tensor(gy, want.shape, { device: dev }));
    const xc = tensor(x, shape, { device: cpu64, requiresGrad: true });
    avgPool2d(xc, o).backward(tensor(gy, want.shape, { device: cpu64 }));
    expect(await xt.grad!.toArray()).toBeAllClose(await xc.grad!.toArray(), { rtol: 1e-5, atol: 1e-6 });
  });
});
