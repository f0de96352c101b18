// reduce and matmul: every kernel (and variant: OP = sum / max, ta / tb) on the GPU against its CPU reference,
// and the ops (F.sum / mean / max / matmul) against independent float64 loops written here.
import { describe, expect, test } from 'vitest';
import { F, KERNELS, tensor, type Tensor } from '../../src/index.js';
import { REDUCE_OPS } from '../../src/kernels/reduce.js';
import { matmulVec4Fits } from '../../src/kernels/matmul.js';
import { reductionTol, sumBound } from '../helpers/close.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, randShape, rng } from '../helpers/random.js';
import { runKernel, termMagnitudes } from '../helpers/run_kernel.js';

const { skip, dev } = await gpuSuite();

const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const stridesOf = (s: readonly number[]) => s.map((_, i) => prod(s.slice(i + 1)));

/** A random non-empty subset of 0..rank-1, sorted. */
function randDims(r: ReturnType<typeof rng>, rank: number): number[] {
  const dims = [...Array(rank).keys()].filter(() => r.uniform() < 0.5);
  return dims.length ? dims : [randInt(r, 0, rank - 1)];
}

/**
 * Two rounding units of each result's sum of |terms| (sumBound): a sum of random normals can cancel to near zero
 * (4099 terms of |x| ~ 0.8 summing to -0.046 in one seed), where float32 rounding of the partial sums, not of the
 * result, sets the error. Sum and mean only.
 */
function cancelBound(data: Float32Array, shape: number[], dims: number[], op: 'sum' | 'mean' | 'max'): Float64Array {
  return sumBound(naiveReduce(Float32Array.from(data, Math.abs), shape, dims, op));
}

/** Naive float64 reduction of x (shape) over `dims`; outputs in row-major order of the kept dims. */
function naiveReduce(x: ArrayLike<number>, shape: number[], dims: number[], op: 'sum' | 'mean' | 'max'): Float64Array {
  const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const kst = stridesOf(kept);
  const out = new Float64Array(prod(kept)).fill(op === 'max' ? -Infinity : 0);
  const st = stridesOf(shape);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (let k = 0; k < shape.length; k++) if (!dims.includes(k)) o += (Math.floor(i / st[k]!) % shape[k]!) * kst[k]!;
    out[o] = op === 'max' ? Math.max(out[o]!, x[i]!) : out[o]! + x[i]!;
  }
  if (op === 'mean') {
    const r = prod(dims.map((d) => shape[d]!));
    for (let i = 0; i < out.length; i++) out[i]! /= r;
  }
  return out;
}

/** Kernel params written independently of the op layer's planner: no dim merging, kept and reduced dims as they are. */
function reduceParams(shape: number[], dims: number[], nchunks: number, scale: number) {
  const st = stridesOf(shape);
  const pad = (l: [number, number][]) => [...Array<[number, number]>(6 - l.length).fill([1, 0]), ...l];
  const k = pad(shape.map((d, i) => [d, st[i]!] as [number, number]).filter((_, i) => !dims.includes(i)));
  const rd = pad(shape.map((d, i) => [d, st[i]!] as [number, number]).filter((_, i) => dims.includes(i)));
  const nOut = prod(k.map((e) => e[0]));
  const r = prod(rd.map((e) => e[0]));
  return {
    total: nOut * nchunks, nchunks, chunk: Math.ceil(r / nchunks), r, scale,
    k1: k[1]![0], k2: k[2]![0], k3: k[3]![0], k4: k[4]![0], k5: k[5]![0],
    ks0: k[0]![1], ks1: k[1]![1], ks2: k[2]![1], ks3: k[3]![1], ks4: k[4]![1], ks5: k[5]![1],
    r1: rd[1]![0], r2: rd[2]![0], r3: rd[3]![0], r4: rd[4]![0], r5: rd[5]![0],
    rs0: rd[0]![1], rs1: rd[1]![1], rs2: rd[2]![1], rs3: rd[3]![1], rs4: rd[4]![1], rs5: rd[5]![1],
  };
}

describe.skipIf(skip)('reduce kernel: GPU vs CPU reference', () => {
  test.each(Object.keys(REDUCE_OPS))('OP = %s over random dims of random-rank shapes, with chunks', async (op) => {
    const r = rng(11 + op.length);
    const OP = REDUCE_OPS[op as keyof typeof REDUCE_OPS];
    for (let trial = 0; trial < 12; trial++) {
      const shape = randShape(r, randInt(r, 1, 5), 1, 7);
      const dims = randDims(r, shape.length);
      const rlen = prod(dims.map((d) => shape[d]!));
      const nchunks = randInt(r, 1, Math.min(3, rlen));
      const scale = op === 'sum' && trial % 2 ? 1 / rlen : 1; // mean is sum with scale 1/r
      const x = randnArray(r, prod(shape));
      const p = reduceParams(shape, dims, nchunks, scale);
      const run = { reads: { x }, writes: { y: p.total }, params: p, constants: { OP } };
      const got = await runKernel(dev, KERNELS.reduce, run);
      const want = await runKernel(cpu64, KERNELS.reduce, run);
      // A sum's tolerance adds two float32 rounding units of its sum |x| (a cancelling sum of random terms).
      const tol = op === 'max' ? { rtol: 0, atol: 0 } : { ...reductionTol(p.chunk, 3), atolOf: sumBound((await termMagnitudes(cpu64, KERNELS.reduce, run)).y!) };
      expect(got.y, `${op} of ${JSON.stringify(shape)} over ${JSON.stringify(dims)} in ${nchunks} chunk(s)`).toBeAllClose(want.y, tol);
      if (nchunks === 1) {
        // And the reference itself against the naive loop (both float64).
        expect(want.y).toBeAllClose(naiveReduce(x, shape, dims, scale === 1 ? (op as 'sum' | 'max') : 'mean'), { rtol: 1e-12, atol: 1e-12 });
      }
    }
  });

  test('long reduction with few outputs (r = 10007 in 3 chunks), then the pass over the partials', async () => {
    const r = rng(12);
    const x = randnArray(r, 2 * 10007);
    for (const OP of [0, 1]) {
      const p = reduceParams([2, 10007], [1], 3, 1);
      const run = { reads: { x }, writes: { y: p.total }, params: p, constants: { OP } };
      const got = await runKernel(dev, KERNELS.reduce, run);
      const want = await runKernel(cpu64, KERNELS.reduce, run);
      expect(got.y).toBeAllClose(want.y, OP ? { rtol: 0, atol: 0 } : { ...reductionTol(p.chunk, 3), atolOf: sumBound((await termMagnitudes(cpu64, KERNELS.reduce, run)).y!) });
    }
  });
});

describe.skipIf(skip)('matmul kernel: GPU vs CPU reference', () => {
  test.each([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ])('ta = %i, tb = %i, odd M, N, K, batched, with window residuals, and accumulating; every kernel', async (ta, tb) => {
    const r = rng(20 + 2 * ta + tb);
    for (const spec of [KERNELS.matmul, KERNELS.matmul_tiled, KERNELS.matmul_reg]) {
      for (const [m, n, k, batch, acc] of [
        [1, 1, 1, 1, 0],
        [7, 5, 3, 1, 0],
        [randInt(r, 1, 40) | 1, randInt(r, 1, 40) | 1, randInt(r, 1, 70) | 1, 3, 0],
        [33, 65, 129, 1, 0],
        [5, 3, 9, 2, 1],
        [70, 37, 45, 2, 1],
      ] as const) {
        // Residual offsets: the operands start past a few leading elements of their bindings (split.ts windows).
        const [oa, ob, oc] = [randInt(r, 0, 5), randInt(r, 0, 5), randInt(r, 0, 5)];
        const a = randnArray(r, oa + batch * m * k);
        const b = randnArray(r, ob + batch * k * n);
        // acc = 1 adds to what c holds: start from data, not zeros (writes are poisoned otherwise).
        const init: Record<string, ArrayLike<number>> = acc ? { c: randnArray(r, oc + batch * m * n) } : {};
        const run = {
          reads: { a, b }, writes: { c: oc + batch * m * n }, init,
          params: { m, n, k, ta, tb, batch, sa: m * k, sb: k * n, oa, ob, oc, acc },
        };
        const got = await runKernel(dev, spec, run);
        const want = await runKernel(cpu64, spec, run);
        const mag = await termMagnitudes(cpu64, spec, run);
        const tail = (v: ArrayLike<number>) => Array.from(v).slice(oc);
        expect(tail(got.c), `${spec.name} ${batch}x[${m}, ${n}, ${k}] acc ${acc}`).toBeAllClose(tail(want.c), { ...reductionTol(k, 3), atolOf: sumBound(tail(mag.c)) });
      }
    }
  });
});

describe.skipIf(skip)('matmul_vec4 kernel: GPU vs CPU reference', () => {
  test.each([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ])('TA = ta = %i, TB = tb = %i: contiguous dims multiples of 4, the other dims odd, batched, residuals, accumulating', async (ta, tb) => {
    const r = rng(40 + 2 * ta + tb);
    // [m, n, k]: a's contiguous dim (k, or m when ta) and b's (n, or k when tb) multiples of 4; the rest odd.
    const dims = (m4: number, n4: number, k4: number, odd: number) => {
      const m = ta ? m4 : odd;
      const n = tb ? odd + 2 : n4;
      const k = !ta || tb ? k4 : odd + 4;
      return [m, n, k] as const;
    };
    for (const [[m, n, k], batch, acc] of [
      [dims(4, 4, 4, 1), 1, 0],
      [dims(8, 12, 20, 7), 2, 0],
      [dims(36, 28, 44, 33), 3, 1],
      [dims(64, 68, 132, 65), 1, 0],
    ] as const) {
      const [oa, ob, oc] = [4 * randInt(r, 0, 3), 4 * randInt(r, 0, 3), randInt(r, 0, 5)];
      const a = randnArray(r, oa + batch * m * k);
      const b = randnArray(r, ob + batch * k * n);
      const init: Record<string, ArrayLike<number>> = acc ? { c: randnArray(r, oc + batch * m * n) } : {};
      const params = { m, n, k, ta, tb, batch, sa: m * k, sb: k * n, oa, ob, oc, acc };
      expect(matmulVec4Fits(params)).toBe(true);
      const run = { reads: { a, b }, writes: { c: oc + batch * m * n }, init, params, constants: { TA: !!ta, TB: !!tb } };
      const got = await runKernel(dev, KERNELS.matmul_vec4, run);
      const want = await runKernel(cpu64, KERNELS.matmul_vec4, run);
      const mag = await termMagnitudes(cpu64, KERNELS.matmul_vec4, run);
      const tail = (v: ArrayLike<number>) => Array.from(v).slice(oc);
      expect(tail(got.c), `${batch}x[${m}, ${n}, ${k}] acc ${acc}`).toBeAllClose(tail(want.c), { ...reductionTol(k, 3), atolOf: sumBound(tail(mag.c)) });
    }
  });
});

describe.skipIf(skip)('reduce and matmul ops on the GPU vs naive float64 loops', () => {
  const read = async (t: Tensor) => {
    const a = await t.toArray();
    t.dispose();
    return a;
  };

  test('sum / mean / max over random dims (negative too), keepdim both', async () => {
    const r = rng(30);
    for (let trial = 0; trial < 10; trial++) {
      const shape = randShape(r, randInt(r, 1, 5), 1, 7);
      const dims = randDims(r, shape.length);
      const neg = dims.map((d) => (r.uniform() < 0.5 ? d - shape.length : d));
      const keepdim = r.uniform() < 0.5;
      const data = randnArray(r, prod(shape));
      using x = tensor(data, shape, { device: dev });
      const rlen = prod(dims.map((d) => shape[d]!));
      for (const op of ['sum', 'mean', 'max'] as const) {
        const y = F[op](x, neg, keepdim);
        const want = shape.map((d, i) => (dims.includes(i) ? 1 : d)).filter((_, i) => keepdim || !dims.includes(i));
        expect(y.shape).toEqual(want);
        const tol = op === 'max' ? { rtol: 0, atol: 0 } : { ...reductionTol(rlen, 3), atolOf: cancelBound(data, shape, dims, op) };
        expect(await read(y), `${op} ${JSON.stringify(shape)} dims ${JSON.stringify(neg)}`).toBeAllClose(naiveReduce(data, shape, dims, op), tol);
      }
    }
  });

  test('chunked: r > 4096 with few outputs, for sum, mean and max, and a full reduction', async () => {
    const r = rng(31);
    for (const [shape, dims] of [
      [[3, 5001], [1]],
      [[2, 3, 2049], [0, 2]],
      [[4099, 3], [0]],
      [[5, 1, 1301], undefined],
    ] as [number[], number[] | undefined][]) {
      const data = randnArray(r, prod(shape));
      using x = tensor(data, shape, { device: dev });
      const ds = dims ?? [...shape.keys()];
      const rlen = prod(ds.map((d) => shape[d]!));
      for (const op of ['sum', 'mean', 'max'] as const) {
        const tol = op === 'max' ? { rtol: 0, atol: 0 } : { ...reductionTol(rlen, 3), atolOf: cancelBound(data, shape, ds, op) };
        expect(await read(F[op](x, dims)), `${op} ${JSON.stringify(shape)}`).toBeAllClose(naiveReduce(data, shape, ds, op), tol);
      }
    }
  });

  test('matmul [M, K] x [K, N], odd sizes', async () => {
    const r = rng(32);
    for (const [m, k, n] of [
      [1, 1, 1],
      [5, 9, 3],
      [17, 33, 11],
      [randInt(r, 1, 30), randInt(r, 1, 30), randInt(r, 1, 30)],
    ]) {
      const a = randnArray(r, m! * k!);
      const b = randnArray(r, k! * n!);
      const want = new Float64Array(m! * n!);
      for (let i = 0; i < m!; i++) for (let j = 0; j < n!; j++) for (let q = 0; q < k!; q++) want[i * n! + j]! += a[i * k! + q]! * b[q * n! + j]!;
      using ta = tensor(a, [m!, k!], { device: dev });
      using tb = tensor(b, [k!, n!], { device: dev });
      const c = F.matmul(ta, tb);
      expect(c.shape).toEqual([m, n]);
      expect(await read(c)).toBeAllClose(want, reductionTol(k!, 3));
    }
  });
});
