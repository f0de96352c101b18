import { beforeAll, describe, expect, test } from 'vitest';
import type { WebGpuDevice } from '../../src/index.js';
import {
  batchnorm2d_bwd_dx,
  batchnorm2d_bwd_finalize,
  batchnorm2d_bwd_reduce,
  batchnorm2d_finalize,
  batchnorm2d_fwd,
  batchnorm2d_stats,
} from '../../src/kernels/batch_norm.js';
import type { Rng } from '../../src/tensor/random.js';
import { reductionTol } from '../helpers/close.js';
import { cpu64, gpu, skipGpu } from '../helpers/gpu.js';
import { randInt, randnArray, rng, uniformArray } from '../helpers/random.js';
import { runKernel } from '../helpers/run_kernel.js';

const skip = await skipGpu();
let dev: WebGpuDevice;
beforeAll(async () => {
  if (!skip) dev = await gpu();
});

/** N, C in {1, 3}, an odd plane (HW = 1 sometimes: the [N, C] case), data around a mean of 3. */
function problem(r: Rng) {
  const n = randInt(r, 1, 3);
  const c = r.uniform() < 0.5 ? 1 : 3;
  const hw = r.uniform() < 0.2 ? 1 : (2 * randInt(r, 2, 9) + 1) * (2 * randInt(r, 2, 9) + 1);
  const x = randnArray(r, n * c * hw, 1.5).map((v) => v + 3);
  return { n, c, hw, x };
}

/**
 * The reduction boxes a split op uses: the whole tensor, or channels [c0, c0 + cb) of item n0 bound as a window at
 * a residual offset xo (a prefix of junk before it), with its chunks placed at kbase of ktot.
 */
function boxes(r: Rng, n: number, c: number, hw: number, chunk: number) {
  const nk = Math.ceil((n * hw) / chunk);
  const whole = { n0: 0, nb: n, c0: 0, cb: c, nk, kbase: 0, ktot: nk, xo: 0 };
  const n0 = randInt(r, 0, n - 1);
  const c0 = randInt(r, 0, c - 1);
  const nk1 = Math.ceil(hw / chunk);
  const kbase = randInt(r, 0, 3);
  const part = { n0, nb: 1, c0, cb: randInt(r, 1, c - c0), nk: nk1, kbase, ktot: kbase + nk1 + randInt(r, 0, 2), xo: randInt(r, 1, 63) };
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

describe.skipIf(skip)('batchnorm2d kernels: GPU vs CPU reference', () => {
  test('batchnorm2d_stats: chunk count, mean, M2 (whole tensor and windowed channel boxes)', async () => {
    const r = rng(900);
    for (let rep = 0; rep < 6; rep++) {
      const { n, c, hw, x } = problem(r);
      const chunk = r.uniform() < 0.3 ? 4096 : randInt(r, 17, 150);
      for (const b of boxes(r, n, c, hw, chunk)) {
        const run = { reads: { x: boxInput(r, x, b, c, hw) }, writes: { part: 3 * c * b.ktot }, params: reduceParams(b, c, hw, chunk) };
        const got = await runKernel(dev, batchnorm2d_stats, run);
        const want = await runKernel(cpu64, batchnorm2d_stats, run);
        const k = Math.min(chunk, n * hw);
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

  test('batchnorm2d_fwd: with and without weight / bias, at a flat offset', async () => {
    const r = rng(902);
    for (let rep = 0; rep < 4; rep++) {
      const { c, hw, x } = problem(r);
      const base = rep % 2 ? 64 * randInt(r, 1, 3) : 0;
      const cnt = x.length;
      const reads = { x, mean: randnArray(r, c), invstd: uniformArray(r, c, 0.3, 2), weight: randnArray(r, c), bias: randnArray(r, c) };
      for (const [HAS_W, HAS_B] of [[true, true], [false, true], [true, false], [false, false]] as const) {
        const run = { reads, writes: { y: cnt }, params: { n: cnt, base, hw, c }, constants: { HAS_W, HAS_B } };
        const got = await runKernel(dev, batchnorm2d_fwd, run);
        const want = await runKernel(cpu64, batchnorm2d_fwd, run);
        expect(got.y).toBeAllClose(want.y, { rtol: 1e-5, atol: 1e-5 });
      }
    }
  });

  test('batchnorm2d_bwd_reduce and batchnorm2d_bwd_finalize', async () => {
    const r = rng(903);
    for (let rep = 0; rep < 6; rep++) {
      const { n, c, hw, x } = problem(r);
      const g = randnArray(r, x.length);
      const mean = randnArray(r, c).map((v) => v + 3);
      const chunk = r.uniform() < 0.3 ? 4096 : randInt(r, 17, 150);
      for (const b of boxes(r, n, c, hw, chunk)) {
        // x and g share the window (same shape, same offsets).
        const run = {
          reads: { x: boxInput(r, x, b, c, hw), g: boxInput(r, g, b, c, hw), mean },
          writes: { part: 2 * c * b.ktot },
          params: reduceParams(b, c, hw, chunk),
        };
        const got = await runKernel(dev, batchnorm2d_bwd_reduce, run);
        const want = await runKernel(cpu64, batchnorm2d_bwd_reduce, run);
        expect(got.part).toBeAllClose(want.part, reductionTol(Math.min(chunk, n * hw), 4));
      }
      const ktot = randInt(r, 1, 200);
      const fin = { reads: { part: randnArray(r, 2 * c * ktot), invstd: uniformArray(r, c, 0.3, 2) }, writes: { dweight: c, dbias: c }, params: { c, ktot } };
      const got = await runKernel(dev, batchnorm2d_bwd_finalize, fin);
      const want = await runKernel(cpu64, batchnorm2d_bwd_finalize, fin);
      expect(got.dweight).toBeAllClose(want.dweight, reductionTol(ktot, 2));
      expect(got.dbias).toBeAllClose(want.dbias, reductionTol(ktot));
    }
  });

  test('batchnorm2d_bwd_dx: training and evaluation, with and without weight', async () => {
    const r = rng(905);
    for (let rep = 0; rep < 4; rep++) {
      const { n, c, hw, x } = problem(r);
      const base = rep % 2 ? 64 * randInt(r, 1, 3) : 0;
      const cnt = x.length;
      const reads = {
        x, g: randnArray(r, cnt), mean: randnArray(r, c).map((v) => v + 3), invstd: uniformArray(r, c, 0.3, 2),
        weight: randnArray(r, c), sum_gxhat: randnArray(r, c, 5), sum_g: randnArray(r, c, 5),
      };
      for (const TRAINING of [true, false]) {
        for (const HAS_W of [true, false]) {
          const run = { reads, writes: { dx: cnt }, params: { n: cnt, base, hw, c, inv_m: 1 / (n * hw) }, constants: { TRAINING, HAS_W } };
          const got = await runKernel(dev, batchnorm2d_bwd_dx, run);
          const want = await runKernel(cpu64, batchnorm2d_bwd_dx, run);
          expect(got.dx).toBeAllClose(want.dx, { rtol: 1e-5, atol: 1e-5 });
        }
      }
    }
  });
});
