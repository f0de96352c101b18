import { describe, expect, test } from 'vitest';
import { kernelsOf } from '../../src/index.js';
import { isK2S2 } from '../../src/kernels/define_kernel.js';
import { avgpool2d_bwd, avgpool2d_fwd, fwdK2S2Fits, maxpool2d_bwd, maxpool2d_bwd_k2s2, maxpool2d_fwd, maxpool2d_fwd_k2s2 } from '../../src/kernels/pool.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng } from '../helpers/random.js';
import { runKernel } from '../helpers/run_kernel.js';
import type { Rng } from '../../src/tensor/random.js';

const { skip, dev } = await gpuSuite();

const EXACT = { rtol: 0, atol: 0 };

interface Cfg {
  name: string;
  k: [number, number];
  s: [number, number];
  p: [number, number];
  d: [number, number];
  ceil: boolean;
}

/** The U-Net's 2x2/2 and the usual variants; rectangular ones mix the two axes. */
const CASES: Cfg[] = [
  { name: 'k2 s2 (U-Net)', k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false },
  { name: 'k2 s2 ceil_mode', k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true },
  { name: 'k3 s2 p1', k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false },
  { name: 'k3 s1 p1 (overlapping)', k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], ceil: false },
  { name: 'k3 s1 p1 dilation 2', k: [3, 3], s: [1, 1], p: [1, 1], d: [2, 2], ceil: false },
  { name: 'k3 s2 ceil_mode', k: [3, 3], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true },
  { name: 'k2 s2 p1 ceil_mode', k: [2, 2], s: [2, 2], p: [1, 1], d: [1, 1], ceil: true },
  { name: 'k [2, 3] s [1, 2] p [1, 0] d [1, 2]', k: [2, 3], s: [1, 2], p: [1, 0], d: [1, 2], ceil: false },
];

/** PyTorch's pooling_output_shape, written out again (not imported from the op). */
function outSize(n: number, k: number, p: number, s: number, d: number, ceil: boolean): number {
  const num = n + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

function shapeFor(r: Rng, cfg: Cfg) {
  const n = randInt(r, 1, 3);
  const c = r.uniform() < 0.5 ? 1 : 3;
  const odd = (lo: number) => 2 * randInt(r, lo, lo + 8) + 1;
  const h = odd(cfg.d[0] * (cfg.k[0] - 1));
  const w = odd(cfg.d[1] * (cfg.k[1] - 1));
  const oh = outSize(h, cfg.k[0], cfg.p[0], cfg.s[0], cfg.d[0], cfg.ceil);
  const ow = outSize(w, cfg.k[1], cfg.p[1], cfg.s[1], cfg.d[1], cfg.ceil);
  return { n, c, h, w, oh, ow };
}

function params(cfg: Cfg, s: { h: number; w: number; oh: number; ow: number }, total: number, xo = 0, yo = 0) {
  return {
    total, h: s.h, w: s.w, oh: s.oh, ow: s.ow, kh: cfg.k[0], kw: cfg.k[1], sh: cfg.s[0], sw: cfg.s[1],
    ph: cfg.p[0], pw: cfg.p[1], dh: cfg.d[0], dw: cfg.d[1], xo, yo,
  };
}

describe('maxpool2d reference (hand-checked against PyTorch 1.13)', () => {
  test('ties keep the first maximum; padding never wins; all -inf points at the first in-bounds element', async () => {
    const cfg: Cfg = { name: '', k: [2, 2], s: [1, 1], p: [1, 1], d: [1, 1], ceil: false };
    const s = { h: 3, w: 3, oh: 4, ow: 4 };
    const want = [0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8];
    for (const v of [2, -Infinity]) {
      const got = await runKernel(cpu64, maxpool2d_fwd, { reads: { x: new Array(9).fill(v) }, writes: { y: 16, idx: 16 }, params: params(cfg, s, 16) });
      expect([...got.idx]).toEqual(want);
      expect([...got.y]).toEqual(new Array(16).fill(v));
    }
  });

  test('NaN wins (the last NaN of the window, as PyTorch CPU)', async () => {
    const cfg: Cfg = { name: '', k: [3, 3], s: [1, 1], p: [0, 0], d: [1, 1], ceil: false };
    const x = [1, NaN, 3, NaN, 0, 1, 2, 2, 2];
    const got = await runKernel(cpu64, maxpool2d_fwd, { reads: { x }, writes: { y: 1, idx: 1 }, params: params(cfg, { h: 3, w: 3, oh: 1, ow: 1 }, 1) });
    expect(Number.isNaN(got.y[0])).toBe(true);
    expect(got.idx[0]).toBe(3);
  });

  test('a 4x4 plane, 2x2 stride 2, by hand; backward routes to the argmax', async () => {
    const cfg: Cfg = { name: '', k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false };
    const x = [1, 5, 2, 0, 3, 4, 8, 8, -1, -2, 0, 7, -3, -4, 6, 1];
    const s = { h: 4, w: 4, oh: 2, ow: 2 };
    const got = await runKernel(cpu64, maxpool2d_fwd, { reads: { x }, writes: { y: 4, idx: 4 }, params: params(cfg, s, 4) });
    expect([...got.y]).toEqual([5, 8, -1, 7]);
    expect([...got.idx]).toEqual([1, 6, 8, 11]);
    const b = await runKernel(cpu64, maxpool2d_bwd, { reads: { idx: got.idx, gy: [10, 20, 30, 40] }, writes: { gx: 16 }, params: params(cfg, s, 16) });
    expect([...b.gx]).toEqual([0, 10, 0, 0, 0, 0, 20, 0, 30, 0, 0, 40, 0, 0, 0, 0]);
  });
});

/**
 * `spec` (maxpool2d_fwd or a variant) on the GPU against maxpool2d_fwd's float64 reference, with and without indices:
 * bit-exact values and indices; without, idx is left as the runner's poison.
 */
async function expectForward(spec: typeof maxpool2d_fwd, x: Float32Array, p: ReturnType<typeof params>, len: number) {
  for (const INDICES of [true, false]) {
    const run = { reads: { x }, writes: { y: len, idx: len }, params: p, constants: { INDICES } };
    const got = await runKernel(dev, spec, run);
    const want = await runKernel(cpu64, maxpool2d_fwd, run);
    expect(got.y, spec.name).toBeAllClose(want.y, EXACT);
    if (INDICES) expect([...got.idx], spec.name).toEqual([...want.idx]);
    else expect(got.idx.every((v) => v === (0xdeadbeef | 0)), spec.name).toBe(true);
  }
}

describe.skipIf(skip)('maxpool2d kernels: GPU vs CPU reference (bit-exact)', () => {
  test('every kernel of the family is covered', () => {
    expect(kernelsOf('maxpool2d_fwd').map((k) => k.name)).toEqual(['maxpool2d_fwd', 'maxpool2d_fwd_k2s2']);
    expect(kernelsOf('maxpool2d_bwd').map((k) => k.name)).toEqual(['maxpool2d_bwd', 'maxpool2d_bwd_k2s2']);
    // The 2x2 stride-2 variant serves exactly the non-overlapping, unpadded, undilated 2x2 cases.
    expect(CASES.filter((c) => isK2S2({ kh: c.k[0], kw: c.k[1], sh: c.s[0], sw: c.s[1], ph: c.p[0], pw: c.p[1], dh: c.d[0], dw: c.d[1] })).map((c) => c.name)).toEqual([
      'k2 s2 (U-Net)',
      'k2 s2 ceil_mode',
    ]);
  });

  test.each(CASES.map((c, i) => [c.name, i] as const))('%s: forward values and indices, backward gather', async (_name, ci) => {
    const cfg = CASES[ci]!;
    const r = rng(700 + ci);
    for (let rep = 0; rep < 3; rep++) {
      const s = shapeFor(r, cfg);
      const planes = s.n * s.c;
      const nx = planes * s.h * s.w;
      const ny = planes * s.oh * s.ow;
      // rep 1 has many ties (values on a coarse grid); rep 2 binds at residual offsets (xo, yo) past a prefix.
      const x0 = randnArray(r, nx);
      if (rep === 1) for (let i = 0; i < nx; i++) x0[i] = Math.round(x0[i]! * 2) / 2;
      const xo = rep === 2 ? randInt(r, 1, 63) : 0;
      const yo = rep === 2 ? randInt(r, 1, 63) : 0;
      const x = new Float32Array(xo + nx);
      x.set(randnArray(r, xo), 0);
      x.set(x0, xo);
      const p = params(cfg, s, ny, xo, yo);
      await expectForward(maxpool2d_fwd, x, p, yo + ny);
      const idx = (await runKernel(cpu64, maxpool2d_fwd, { reads: { x }, writes: { y: yo + ny, idx: yo + ny }, params: p })).idx;
      const gy = new Float32Array(yo + ny);
      gy.set(randnArray(r, ny), yo);
      const pb = params(cfg, s, nx, xo, yo);
      const bw = { reads: { idx: Int32Array.from(idx), gy }, writes: { gx: xo + nx }, params: pb };
      // On float32 arrays the reference's scatter rounds every add to f32, as the GPU's gather does: same order, same floats.
      const wantB = await runKernel(cpu32, maxpool2d_bwd, bw);
      const k2s2 = isK2S2(pb);
      for (const spec of k2s2 ? [maxpool2d_bwd, maxpool2d_bwd_k2s2] : [maxpool2d_bwd]) {
        const gotB = await runKernel(dev, spec, bw);
        expect(gotB.gx.subarray(xo), spec.name).toBeAllClose(wantB.gx.subarray(xo), EXACT);
      }
    }
  });

  // maxpool2d_fwd_k2s2 (the op's choice for 2x2 stride-2 pooling on rows a multiple of 8 wide): floor and ceil mode
  // on odd and even heights, ties (values on a coarse grid), NaN (single, first in a window, several in one window)
  // and -inf, residual offsets (multiples of 4), with and without indices.
  test.each([0, 1, 2, 3, 4, 5])('maxpool2d_fwd_k2s2 case %i: bit-exact values and indices against the reference', async (k) => {
    const r = rng(760 + k);
    const cfg = CASES[k % 2]!;
    const n = randInt(r, 1, 3);
    const c = randInt(r, 1, 4);
    const h = randInt(r, 2, 9);
    const w = 8 * randInt(r, 1, 4);
    const oh = outSize(h, 2, 0, 2, 1, cfg.ceil);
    const ow = outSize(w, 2, 0, 2, 1, cfg.ceil);
    expect(fwdK2S2Fits({ kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, w })).toBe(true);
    const nx = n * c * h * w;
    const ny = n * c * oh * ow;
    const x0 = randnArray(r, nx);
    if (k >= 2) for (let i = 0; i < nx; i++) x0[i] = Math.round(x0[i]! * 2) / 2;
    if (k >= 4) {
      for (let i = 0; i < nx; i += 7) x0[i] = NaN;
      for (let i = 3; i < nx; i += 11) x0[i] = -Infinity;
      x0[1] = NaN;
    }
    const xo = k % 3 === 2 ? 4 * randInt(r, 1, 15) : 0;
    const yo = k % 3 === 2 ? 4 * randInt(r, 1, 15) : 0;
    const x = new Float32Array(xo + nx);
    x.set(randnArray(r, xo), 0);
    x.set(x0, xo);
    await expectForward(maxpool2d_fwd_k2s2, x, params(cfg, { h, w, oh, ow }, ny, xo, yo), yo + ny);
  });

  test('backward sums are the same floats as the f32 scatter (PyTorch CPU order)', async () => {
    const cfg = CASES.find((c) => c.name === 'k3 s1 p1 (overlapping)')!; // overlapping 3x3 stride 1: an element collects up to 9 gradients
    const r = rng(790);
    const s = { n: 2, c: 3, h: 9, w: 11, oh: 9, ow: 11 };
    const nx = s.n * s.c * s.h * s.w;
    // A plateau: every window's argmax is its first in-bounds element, so many windows share one target.
    const x = new Float32Array(nx).fill(1);
    const idx = (await runKernel(cpu64, maxpool2d_fwd, { reads: { x }, writes: { y: nx, idx: nx }, params: params(cfg, s, nx) })).idx;
    const gy = randnArray(r, nx);
    const want = new Float32Array(nx);
    const ohw = s.oh * s.ow;
    for (let q = 0; q < s.n * s.c; q++) for (let o = 0; o < ohw; o++) want[q * s.h * s.w + idx[q * ohw + o]!]! += gy[q * ohw + o]!;
    const got = await runKernel(dev, maxpool2d_bwd, { reads: { idx: Int32Array.from(idx), gy }, writes: { gx: nx }, params: params(cfg, s, nx) });
    expect(got.gx).toBeAllClose(want, EXACT);
  });

  test('a window with no in-bounds element (dilation 3 over a 2x2 plane): -inf and index -1 (PyTorch: -inf)', async () => {
    const cfg: Cfg = { name: '', k: [2, 2], s: [1, 1], p: [1, 1], d: [3, 3], ceil: false };
    const run = { reads: { x: [0, 1, 2, 3] }, writes: { y: 1, idx: 1 }, params: params(cfg, { h: 2, w: 2, oh: 1, ow: 1 }, 1) };
    for (const d of [dev, cpu64]) {
      const got = await runKernel(d, maxpool2d_fwd, run);
      expect(got.y[0]).toBe(-Infinity);
      expect(got.idx[0]).toBe(-1);
    }
  });

  test('NaN propagates on the GPU too', async () => {
    const cfg: Cfg = { name: '', k: [3, 3], s: [1, 1], p: [0, 0], d: [1, 1], ceil: false };
    const x = [1, NaN, 3, NaN, 0, 1, 2, 2, 2];
    const got = await runKernel(dev, maxpool2d_fwd, { reads: { x }, writes: { y: 1, idx: 1 }, params: params(cfg, { h: 3, w: 3, oh: 1, ow: 1 }, 1) });
    expect(Number.isNaN(got.y[0])).toBe(true);
    expect(got.idx[0]).toBe(3);
  });
});

// ---------------------------------------------------------------- avgpool2d

interface AvgCfg {
  name: string;
  k: [number, number];
  s: [number, number];
  p: [number, number];
  ceil: boolean;
  countPad: boolean;
  divisor: number;
}

const AVG_CASES: AvgCfg[] = [
  { name: 'k2 s2', k: [2, 2], s: [2, 2], p: [0, 0], ceil: false, countPad: true, divisor: 0 },
  { name: 'k2 s2 ceil_mode (a cut last window)', k: [2, 2], s: [2, 2], p: [0, 0], ceil: true, countPad: true, divisor: 0 },
  { name: 'k3 s2 p1 ceil_mode, count_include_pad', k: [3, 3], s: [2, 2], p: [1, 1], ceil: true, countPad: true, divisor: 0 },
  { name: 'k3 s1 p1, count_include_pad False', k: [3, 3], s: [1, 1], p: [1, 1], ceil: false, countPad: false, divisor: 0 },
  { name: 'k [2, 3] s [1, 2] p [1, 0] ceil_mode, count_include_pad False', k: [2, 3], s: [1, 2], p: [1, 0], ceil: true, countPad: false, divisor: 0 },
  { name: 'k3 s2 p1 divisor_override 5', k: [3, 3], s: [2, 2], p: [1, 1], ceil: false, countPad: true, divisor: 5 },
  { name: 'k2 s3 (gaps between windows) divisor_override -2', k: [2, 2], s: [3, 3], p: [0, 0], ceil: true, countPad: false, divisor: -2 },
];

function avgParams(cfg: AvgCfg, s: { h: number; w: number; oh: number; ow: number }, total: number, xo = 0, yo = 0) {
  return {
    total, h: s.h, w: s.w, oh: s.oh, ow: s.ow, kh: cfg.k[0], kw: cfg.k[1], sh: cfg.s[0], sw: cfg.s[1],
    ph: cfg.p[0], pw: cfg.p[1], divisor: cfg.divisor, count_pad: cfg.countPad ? 1 : 0, xo, yo,
  };
}

describe('avgpool2d reference (values from PyTorch 1.13 F.avg_pool2d on x = 1..9 as [1, 1, 3, 3])', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const s3 = (oh: number, ow: number) => ({ h: 3, w: 3, oh, ow });
  const cfg = (k: number, s: number, p: number, countPad = true, divisor = 0): AvgCfg => ({ name: '', k: [k, k], s: [s, s], p: [p, p], ceil: true, countPad, divisor });
  test.each([
    ['k2 s1 p1', cfg(2, 1, 1), 4, [0.25, 0.75, 1.25, 0.75, 1.25, 3, 4, 2.25, 2.75, 6, 7, 3.75, 1.75, 3.75, 4.25, 2.25]],
    ['k2 s1 p1 count_include_pad False', cfg(2, 1, 1, false), 4, [1, 1.5, 2.5, 3, 2.5, 3, 4, 4.5, 5.5, 6, 7, 7.5, 7, 7.5, 8.5, 9]],
    ['k2 s2 p1 ceil', cfg(2, 2, 1), 2, [0.25, 1.25, 2.75, 7]],
    ['k2 s2 ceil (the last window cut at the edge: divisor 2, 2, 1)', cfg(2, 2, 0), 2, [3, 4.5, 7.5, 9]],
    ['k2 s2 ceil divisor_override 3', cfg(2, 2, 0, true, 3), 2, [4, 3, 5, 3]],
  ] as const)('%s', async (_name, c, o, want) => {
    const got = await runKernel(cpu64, avgpool2d_fwd, { reads: { x }, writes: { y: o * o }, params: avgParams(c, s3(o, o), o * o) });
    expect(got.y).toBeAllClose(want, { rtol: 1e-15, atol: 0 });
  });

  test('backward of k2 s2 ceil: each element gets 1 / its window divisor (PyTorch: x.grad of sum)', async () => {
    const got = await runKernel(cpu64, avgpool2d_bwd, { reads: { gy: [1, 1, 1, 1] }, writes: { gx: 9 }, params: avgParams(cfg(2, 2, 0), s3(2, 2), 9) });
    expect(got.gx).toBeAllClose([0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1], { rtol: 1e-15, atol: 0 });
  });
});

describe.skipIf(skip)('avgpool2d kernels: GPU vs float64 reference', () => {
  test.each(AVG_CASES.map((c, i) => [c.name, i] as const))('%s: forward, backward gather, residual offsets', async (_name, ci) => {
    const cfg = AVG_CASES[ci]!;
    const r = rng(900 + ci);
    for (let rep = 0; rep < 3; rep++) {
      const s = shapeFor(r, { ...cfg, d: [1, 1] });
      const planes = s.n * s.c;
      const nx = planes * s.h * s.w;
      const ny = planes * s.oh * s.ow;
      // rep 2 binds at residual offsets (xo, yo) past a prefix of other values.
      const xo = rep === 2 ? randInt(r, 1, 63) : 0;
      const yo = rep === 2 ? randInt(r, 1, 63) : 0;
      const x = randnArray(r, xo + nx);
      const run = { reads: { x }, writes: { y: yo + ny }, params: avgParams(cfg, s, ny, xo, yo) };
      const got = await runKernel(dev, avgpool2d_fwd, run);
      const want = await runKernel(cpu64, avgpool2d_fwd, run);
      expect(got.y.subarray(yo)).toBeAllClose(want.y.subarray(yo), { rtol: 1e-5, atol: 1e-6 });
      expect(want.y.subarray(yo).some((v) => v !== 0), 'not all zeros').toBe(true);
      const gy = randnArray(r, yo + ny);
      const bw = { reads: { gy }, writes: { gx: xo + nx }, params: avgParams(cfg, s, nx, xo, yo) };
      const gotB = await runKernel(dev, avgpool2d_bwd, bw);
      const wantB = await runKernel(cpu64, avgpool2d_bwd, bw);
      expect(gotB.gx.subarray(xo)).toBeAllClose(wantB.gx.subarray(xo), { rtol: 1e-5, atol: 1e-6 });
    }
  });
});
