import { describe, expect, test } from 'vitest';
import { kernelsOf } from '../../src/kernels/index.js';
import {
  batchnorm2d_bwd_finalize,
  batchnorm2d_finalize,
  batchnorm2d_stats,
  bnRuns,
} from '../../src/kernels/batch_norm.js';
import type { KernelSpec } from '../../src/kernels/define_kernel.js';
import type { Rng } from '../../src/tensor/random.js';
import { reductionTol } from '../helpers/close.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng, uniformArray } from '../helpers/random.js';
import { runKernel } from '../helpers/run_kernel.js';

const { skip, dev } = await gpuSuite();

/** Every variant of a family with whether it needs vec4-friendly sizes (HW, chunk, offsets multiples of 4). */
const variants = (family: string): [string, KernelSpec, boolean][] => kernelsOf(family).map((k) => [k.name, k, k.name.endsWith('_vec4')]);

/**
 * N, C in {1, 3}, data around a mean of 3. Portable kernels: an odd plane (HW = 1 sometimes: the [N, C] case);
 * vec4 kernels: a plane of 4 * odd elements (HW = 4 sometimes), odd W or odd H.
 */
function problem(r: Rng, vec4 = false) {
  const n = randInt(r, 1, 3);
  const c = r.uniform() < 0.5 ? 1 : 3;
  const odd = () => 2 * randInt(r, 2, 9) + 1;
  const hw = vec4 ? (r.uniform() < 0.2 ? 4 : 4 * odd() * (r.uniform() < 0.5 ? 1 : odd())) : r.uniform() < 0.2 ? 1 : odd() * odd();
  const x = randnArray(r, n * c * hw, 1.5).map((v) => v + 3);
  return { n, c, hw, x };
}

/**
 * The reduction boxes a split op uses: the whole tensor, or channels [c0, c0 + cb) of item n0 bound as a window at
 * a residual offset xo (a prefix of junk before it), with its chunks placed at kbase of ktot.
 */
function boxes(r: Rng, n: number, c: number, hw: number, chunk: number, vec4 = false) {
  const nk = Math.ceil((n * hw) / chunk);
  const whole = { n0: 0, nb: n, c0: 0, cb: c, nk, kbase: 0, ktot: nk, xo: 0 };
  const n0 = randInt(r, 0, n - 1);
  const c0 = randInt(r, 0, c - 1);
  const nk1 = Math.ceil(hw / chunk);
  const kbase = randInt(r, 0, 3);
  const xo = vec4 ? 4 * randInt(r, 1, 15) : randInt(r, 1, 63);
  const part = { n0, nb: 1, c0, cb: randInt(r, 1, c - c0), nk: nk1, kbase, ktot: kbase + nk1 + randInt(r, 0, 2), xo };
  return [whole, part];
}

function boxInput<T extends { n0: number; nb: number; c0: number; cb: number; xo: number }>(r: Rng, x: Float32Array, b: T, c: number, hw: number) {
  const start = b.n0 * c * hw + b.c0 * hw;
  const count = (b.nb - 1) * c * hw + b.cb * hw;
  const out = new Float32Array(b.xo + count);
  out.set(randnArray(r, b.xo), 0);
  out.set(x.subarray(start, start + count), b.xo);
  return out;
}

function reduceParams(b: { nb: number; c0: number; cb: number; nk: number; kbase: number; ktot: number; xo: number }, c: number, hw: number, chunk: number) {
  return { nwork: b.cb * b.nk, nk: b.nk, chunk, mtot: b.nb * hw, hw, chw: c * hw, c0: b.c0, ktot: b.ktot, kbase: b.kbase, xo: b.xo };
}

/** A chunk length: the ops' 4096 or a small one (a multiple of 4 for the vec4 kernels). */
const chunkOf = (r: Rng, vec4: boolean) => (r.uniform() < 0.3 ? 4096 : vec4 ? 4 * randInt(r, 5, 37) : randInt(r, 17, 150));

/**
 * A flat range [base, base + cnt) of the whole [N, C, HW] (the op's windows start at aligned offsets): the whole
 * tensor, or one starting at a multiple of 64 and ending anywhere (a multiple of 4 for vec4), mid-plane at both ends.
 */
function range(r: Rng, total: number, rep: number, vec4: boolean) {
  if (rep % 2 === 0) return { base: 0, cnt: total };
  const base = 64 * randInt(r, 0, Math.floor((total - 1) / 64));
  const room = total - base;
  const cnt = vec4 ? 4 * randInt(r, 1, room / 4) : randInt(r, 1, room);
  return { base, cnt };
}

const APPLY: { HAS_W: boolean; HAS_B: boolean; RELU: boolean }[] = [
  { HAS_W: true, HAS_B: true, RELU: false },
  { HAS_W: false, HAS_B: true, RELU: false },
  { HAS_W: true, HAS_B: false, RELU: false },
  { HAS_W: false, HAS_B: false, RELU: false },
  { HAS_W: true, HAS_B: true, RELU: true },
  { HAS_W: false, HAS_B: true, RELU: true },
  { HAS_W: true, HAS_B: false, RELU: true },
  { HAS_W: false, HAS_B: false, RELU: true },
];

test('every batchnorm2d family has its portable kernel and its vec4 variant', () => {
  for (const f of ['batchnorm2d_stats', 'batchnorm2d_fwd', 'batchnorm2d_bwd_reduce', 'batchnorm2d_bwd_dx']) {
    expect(kernelsOf(f).map((k) => k.name)).toEqual([f, `${f}_vec4`]);
  }
});

test('bnRuns: the runs cover exactly the planes a range touches', () => {
  // hw = 20 (5 vec4s, RUN 2 -> 3 runs a plane); [64, 64 + 40) touches planes 3..5.
  expect(bnRuns(64, 40, 20, 2)).toEqual({ q0: 3, rpp: 3, nruns: 9 });
  expect(bnRuns(0, 80, 20, 4)).toEqual({ q0: 0, rpp: 2, nruns: 8 });
  expect(bnRuns(0, 4, 4, 4)).toEqual({ q0: 0, rpp: 1, nruns: 1 });
});

describe.skipIf(skip)('batchnorm2d kernels: GPU vs CPU reference', () => {
  test.each(variants('batchnorm2d_stats'))('%s: chunk count, mean, M2 (whole tensor and windowed channel boxes)', async (_n, spec, vec4) => {
    const r = rng(900 + +vec4);
    for (let rep = 0; rep < 6; rep++) {
      const { n, c, hw, x } = problem(r, vec4);
      const chunk = chunkOf(r, vec4);
      for (const b of boxes(r, n, c, hw, chunk, vec4)) {
        const run = { reads: { x: boxInput(r, x, b, c, hw) }, writes: { part: 3 * c * b.ktot }, params: reduceParams(b, c, hw, chunk) };
        const got = await runKernel(dev, spec, run);
        const want = await runKernel(cpu64, spec, run);
        const k = Math.min(chunk, n * hw);
        // Partials of channels outside the box stay poisoned in both (NaN == NaN for the matcher).
        const pick = (a: ArrayLike<number>, j: number) => Array.from(a).filter((_, i) => i % 3 === j);
        expect(pick(got.part, 0)).toEqual(pick(want.part, 0));
        expect(pick(got.part, 1)).toBeAllClose(pick(want.part, 1), reductionTol(k, 5));
        expect(pick(got.part, 2)).toBeAllClose(pick(want.part, 2), { rtol: 1e-4, atol: 1e-5 });
      }
    }
  });

  test('batchnorm2d_finalize: training (with and without the running update) and evaluation', async () => {
    const r = rng(901);
    for (let rep = 0; rep < 4; rep++) {
      const { n, c, hw, x } = problem(r);
      const chunk = randInt(r, 5, 40);
      const b = boxes(r, n, c, hw, chunk)[0]!;
      const part = (await runKernel(cpu64, batchnorm2d_stats, { reads: { x }, writes: { part: 3 * c * b.ktot }, params: reduceParams(b, c, hw, chunk) })).part;
      const init = { rmean: randnArray(r, c), rvar: uniformArray(r, c, 0.5, 2) };
      const eps = [1e-5, 1e-3, 0.1][rep % 3]!;
      const momentum = [0.1, 0.3, 1][rep % 3]!;
      for (const constants of [{ TRAINING: true, UPDATE: true }, { TRAINING: true, UPDATE: false }, { TRAINING: false, UPDATE: false }]) {
        const run = { reads: { part: Float32Array.from(part) }, writes: { mean: c, invstd: c, rmean: c, rvar: c }, init, params: { c, ktot: b.ktot, eps, momentum }, constants };
        const got = await runKernel(dev, batchnorm2d_finalize, run);
        const want = await runKernel(cpu64, batchnorm2d_finalize, run);
        const tol = { rtol: 2e-5, atol: 1e-5 };
        expect(got.mean).toBeAllClose(want.mean, tol);
        expect(got.invstd).toBeAllClose(want.invstd, tol);
        expect(got.rmean).toBeAllClose(want.rmean, tol);
        expect(got.rvar).toBeAllClose(want.rvar, tol);
        if (!constants.UPDATE) {
          expect(got.rmean).toBeAllClose(init.rmean, { rtol: 0, atol: 0 });
          expect(got.rvar).toBeAllClose(init.rvar, { rtol: 0, atol: 0 });
        }
      }
    }
  });

  test('batchnorm2d_finalize: more channels than a workgroup, many partials', async () => {
    const r = rng(906);
    const c = 67;
    const ktot = 150;
    const part = new Float32Array(3 * c * ktot);
    for (let i = 0; i < c * ktot; i++) {
      part[3 * i] = randInt(r, 1, 4096);
      part[3 * i + 1] = 50 + r.normal();
      part[3 * i + 2] = part[3 * i]! * (1 + r.uniform());
    }
    const run = { reads: { part }, writes: { mean: c, invstd: c, rmean: c, rvar: c }, init: { rmean: randnArray(r, c), rvar: uniformArray(r, c, 0.5, 2) }, params: { c, ktot, eps: 1e-5, momentum: 0.1 } };
    const got = await runKernel(dev, batchnorm2d_finalize, run);
    const want = await runKernel(cpu64, batchnorm2d_finalize, run);
    for (const k of ['mean', 'invstd', 'rmean', 'rvar']) expect(got[k]!, k).toBeAllClose(want[k]!, { rtol: 2e-5, atol: 1e-5 });
  });

  test.each(variants('batchnorm2d_fwd'))('%s: with and without weight / bias / ReLU, on a flat range', async (_n, spec, vec4) => {
    const r = rng(902 + +vec4);
    const seen = { zero: 0, pos: 0 };
    for (let rep = 0; rep < 4; rep++) {
      const { c, hw, x } = problem(r, vec4);
      const { base, cnt } = range(r, x.length, rep, vec4);
      const reads = { x: x.subarray(base, base + cnt), mean: randnArray(r, c).map((v) => v + 3), invstd: uniformArray(r, c, 0.3, 2), weight: randnArray(r, c), bias: randnArray(r, c) };
      for (const constants of APPLY) {
        const p = { n: cnt, base, hw, c, ...(vec4 ? bnRuns(base, cnt, hw, spec.constants.RUN as number) : {}) };
        const run = { reads, writes: { y: cnt }, params: p, constants };
        const got = await runKernel(dev, spec, run);
        const want = await runKernel(cpu64, spec, run);
        expect(got.y, JSON.stringify(constants)).toBeAllClose(want.y, { rtol: 1e-5, atol: 1e-5 });
        if (constants.RELU) for (const v of got.y) seen[v === 0 ? 'zero' : 'pos']++;
      }
    }
    // The ReLU cases did cut something and keep something.
    expect(seen.zero).toBeGreaterThan(0);
    expect(seen.pos).toBeGreaterThan(0);
  });

  test.each(variants('batchnorm2d_bwd_reduce'))('%s, then batchnorm2d_bwd_finalize (with and without the ReLU mask)', async (_n, spec, vec4) => {
    const r = rng(903 + +vec4);
    for (let rep = 0; rep < 6; rep++) {
      const { n, c, hw, x } = problem(r, vec4);
      const g = randnArray(r, x.length);
      const chan = { mean: randnArray(r, c).map((v) => v + 3), invstd: uniformArray(r, c, 0.3, 2), weight: randnArray(r, c), bias: randnArray(r, c) };
      const chunk = chunkOf(r, vec4);
      for (const b of boxes(r, n, c, hw, chunk, vec4)) {
        for (const constants of [APPLY[0]!, APPLY[rep % 2 ? 4 : 5]!, APPLY[rep % 2 ? 6 : 7]!]) {
          // x and g share the window (same shape, same offsets).
          const run = {
            reads: { x: boxInput(r, x, b, c, hw), g: boxInput(r, g, b, c, hw), ...chan },
            writes: { part: 2 * c * b.ktot },
            params: reduceParams(b, c, hw, chunk),
            constants,
          };
          const got = await runKernel(dev, spec, run);
          const want = await runKernel(cpu64, spec, run);
          expect(got.part, JSON.stringify(constants)).toBeAllClose(want.part, reductionTol(Math.min(chunk, n * hw), 4));
        }
      }
      const ktot = randInt(r, 1, 200);
      const cc = rep === 5 ? 70 : c;
      const fin = { reads: { part: randnArray(r, 2 * cc * ktot), invstd: uniformArray(r, cc, 0.3, 2) }, writes: { dweight: cc, dbias: cc }, params: { c: cc, ktot } };
      const got = await runKernel(dev, batchnorm2d_bwd_finalize, fin);
      const want = await runKernel(cpu64, batchnorm2d_bwd_finalize, fin);
      expect(got.dweight).toBeAllClose(want.dweight, reductionTol(ktot, 2));
      expect(got.dbias).toBeAllClose(want.dbias, reductionTol(ktot));
    }
  });

  test.each(variants('batchnorm2d_bwd_dx'))('%s: training and evaluation, with and without weight / bias / ReLU mask', async (_n, spec, vec4) => {
    const r = rng(905 + +vec4);
    for (let rep = 0; rep < 4; rep++) {
      const { n, c, hw, x } = problem(r, vec4);
      const { base, cnt } = range(r, x.length, rep, vec4);
      const reads = {
        x: x.subarray(base, base + cnt), g: randnArray(r, cnt), mean: randnArray(r, c).map((v) => v + 3), invstd: uniformArray(r, c, 0.3, 2),
        weight: randnArray(r, c), bias: randnArray(r, c), sum_gxhat: randnArray(r, c, 5), sum_g: randnArray(r, c, 5),
      };
      for (const TRAINING of [true, false]) {
        for (const apply of APPLY) {
          const constants = { TRAINING, ...apply };
          const p = { n: cnt, base, hw, c, inv_m: 1 / (n * hw), ...(vec4 ? bnRuns(base, cnt, hw, spec.constants.RUN as number) : {}) };
          const run = { reads, writes: { dx: cnt }, params: p, constants };
          const got = await runKernel(dev, spec, run);
          const want = await runKernel(cpu64, spec, run);
          expect(got.dx, JSON.stringify(constants)).toBeAllClose(want.dx, { rtol: 1e-5, atol: 1e-5 });
        }
      }
    }
  });
});
