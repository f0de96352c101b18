import { describe, expect, test } from 'vitest';
import { MOVEMENT_KERNELS, PAD_PARAMS } from '../../src/kernels/movement.js';
import { stridesOf } from '../../src/tensor/shape.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng } from '../helpers/random.js';
import { runKernel, type KernelRun } from '../helpers/run_kernel.js';
import type { Rng } from '../../src/tensor/random.js';

const { skip, dev } = await gpuSuite();

const EXACT = { rtol: 0, atol: 0 };
const K = MOVEMENT_KERNELS;

/** GPU vs the f32 CPU reference (bit-exact kernels) and returns both. */
async function both(name: keyof typeof K, run: KernelRun, ref = cpu32) {
  const got = await runKernel(dev, K[name], run);
  const want = await runKernel(ref, K[name], run);
  return { got, want };
}

describe.skipIf(skip)('concat kernel: GPU vs CPU reference (bit-exact)', () => {
  test('random block copies with strides and residual offsets', async () => {
    const r = rng(1);
    for (let t = 0; t < 12; t++) {
      const rows = randInt(r, 1, 40);
      const len = randInt(r, 1, 300);
      // forward-like (src packed, dst strided) and backward-like (src strided, dst packed) layouts
      const gap = randInt(r, 0, 9);
      const [sstride, dstride] = t % 2 ? [len, len + gap] : [len + gap, len];
      const soff = randInt(r, 0, 7);
      const doff = randInt(r, 0, 7);
      const src = randnArray(r, soff + (rows - 1) * sstride + len);
      const params = { n: rows * len, len, soff, sstride, doff, dstride };
      const { got, want } = await both('concat', { reads: { src }, writes: { dst: doff + (rows - 1) * dstride + len }, params });
      expect(got.dst).toBeAllClose(want.dst, EXACT);
      // spot-check the contract independently: the last element of the last block
      expect(want.dst[doff + (rows - 1) * dstride + len - 1]).toBe(src[soff + (rows - 1) * sstride + len - 1]);
    }
  });
});

/** Random pad-kernel params for one launch over rows [o0, o0 + cnt) of dim 0, with x bound from row r0 - resid. */
function padCase(r: Rng, vec4 = false) {
  const dims = Array.from({ length: 6 }, () => randInt(r, 1, 4));
  dims[0] = randInt(r, 2, 7);
  if (vec4) dims[5] = randInt(r, 3, 13);
  const X = dims.map((d, k) => (k === 0 || (vec4 && k === 5) || r.uniform() < 0.6 ? d : 1));
  const B = X.map(() => randInt(r, -2, 2));
  const A = X.map(() => randInt(r, -1, 2));
  const Y = X.map((x, k) => Math.max(1, x + B[k]! + A[k]!));
  // vec4: the innermost output dim rounded up to a multiple of 4 (a longer end pad).
  if (vec4) Y[5] = 4 * Math.ceil(Y[5]! / 4);
  const Xs = stridesOf(X);
  const Ys = stridesOf(Y);
  const o0 = randInt(r, 0, Y[0]! - 1);
  const cnt = randInt(r, 1, Y[0]! - o0);
  const r0 = Math.max(0, Math.min(X[0]!, o0 - B[0]!));
  const resid = randInt(r, 0, 5);
  const xfull = randnArray(r, X.reduce((a, b) => a * b, 1));
  const xbuf = new Float32Array(resid + xfull.length - r0 * Xs[0]! + 1);
  xbuf.fill(123.5);
  xbuf.set(xfull.subarray(r0 * Xs[0]!), resid);
  const yoff = vec4 ? 4 * randInt(r, 0, 2) : randInt(r, 0, 6);
  const params: Record<keyof typeof PAD_PARAMS, number> = {
    n: cnt * Ys[0]!, o0, yoff, xbase: resid - r0 * Xs[0]!, value: r.normal(),
    y1: Y[1]!, y2: Y[2]!, y3: Y[3]!, y4: Y[4]!, y5: Y[5]!,
    x0: X[0]!, x1: X[1]!, x2: X[2]!, x3: X[3]!, x4: X[4]!, x5: X[5]!,
    b0: B[0]!, b1: B[1]!, b2: B[2]!, b3: B[3]!, b4: B[4]!, b5: B[5]!,
    xs0: Xs[0]!, xs1: Xs[1]!, xs2: Xs[2]!, xs3: Xs[3]!, xs4: Xs[4]!, xs5: Xs[5]!,
  };
  return { params, xbuf, ylen: yoff + cnt * Ys[0]! };
}

describe.skipIf(skip)('pad kernel: GPU vs CPU reference (bit-exact)', () => {
  test('6-D asymmetric / negative pads, partial row ranges, windows with residuals', async () => {
    const r = rng(2);
    for (let t = 0; t < 16; t++) {
      const { params, xbuf, ylen } = padCase(r);
      const { got, want } = await both('pad', { reads: { x: xbuf }, writes: { y: ylen }, params });
      expect(got.y).toBeAllClose(want.y, EXACT);
    }
  });

  test('pad_vec4: the same cases with the innermost output dim and the offset made multiples of 4 (bit-exact)', async () => {
    const r = rng(4);
    for (let t = 0; t < 16; t++) {
      const { params, xbuf, ylen } = padCase(r, true);
      expect(params.y5 % 4).toBe(0);
      const { got, want } = await both('pad_vec4', { reads: { x: xbuf }, writes: { y: ylen }, params });
      expect(got.y).toBeAllClose(want.y, EXACT);
    }
  });

  test('x0 = 0 (rows with no input) writes the value everywhere', async () => {
    const r = rng(3);
    const { params, xbuf, ylen } = padCase(r);
    params.x0 = 0;
    const { got, want } = await both('pad', { reads: { x: xbuf }, writes: { y: ylen }, params });
    expect(got.y).toBeAllClose(want.y, EXACT);
    for (let i = params.yoff; i < ylen; i++) expect(got.y[i]).toBe(Math.fround(params.value));
  });
});

/** Random interpolation geometry: sizes up and down, odd, with PyTorch-style ratios (size or scale factor). */
function interpCase(r: Rng, mode: 'nearest' | 'bilinear') {
  const planes = randInt(r, 1, 4);
  const ih = randInt(r, 1, 11);
  const iw = randInt(r, 1, 11);
  const useScale = r.uniform() < 0.5;
  const sf = [0.5, 0.7, 1.3, 2, 2.5, 3][randInt(r, 0, 5)]!;
  const oh = useScale ? Math.max(1, Math.floor(ih * sf)) : randInt(r, 1, 17);
  const ow = useScale ? Math.max(1, Math.floor(iw * sf)) : randInt(r, 1, 17);
  const align = mode === 'bilinear' && r.uniform() < 0.5 ? 1 : 0;
  const ratio = (i: number, o: number) =>
    align ? (o > 1 ? Math.fround((i - 1) / (o - 1)) : 0) : Math.fround(useScale ? 1 / sf : i / o);
  const xoff = randInt(r, 0, 5);
  const yoff = randInt(r, 0, 5);
  return { planes, ih, iw, oh, ow, xoff, yoff, sh: ratio(ih, oh), sw: ratio(iw, ow), align };
}

describe.skipIf(skip)('interpolate kernels: GPU vs CPU reference', () => {
  test('interpolate_nearest forward (bit-exact) and backward (bit-exact: same summation order)', async () => {
    const r = rng(4);
    for (let t = 0; t < 14; t++) {
      const c = interpCase(r, 'nearest');
      const x = randnArray(r, c.xoff + c.planes * c.ih * c.iw);
      const base = { ih: c.ih, iw: c.iw, oh: c.oh, ow: c.ow, sh: c.sh, sw: c.sw };
      const f = await both('interpolate_nearest', {
        reads: { x }, writes: { y: c.yoff + c.planes * c.oh * c.ow },
        params: { ...base, n: c.planes * c.oh * c.ow, xoff: c.xoff, yoff: c.yoff },
      });
      expect(f.got.y).toBeAllClose(f.want.y, EXACT);
      const gy = randnArray(r, c.yoff + c.planes * c.oh * c.ow);
      const b = await both('interpolate_nearest_bwd', {
        reads: { gy }, writes: { gx: c.xoff + c.planes * c.ih * c.iw },
        params: { ...base, n: c.planes * c.ih * c.iw, goff: c.yoff, xoff: c.xoff },
      });
      expect(b.got.gx).toBeAllClose(b.want.gx, EXACT);
    }
  });

  test('interpolate_bilinear forward and backward, both align modes', async () => {
    const r = rng(5);
    for (let t = 0; t < 16; t++) {
      const c = interpCase(r, 'bilinear');
      c.align = t % 2;
      if (c.align) {
        c.sh = c.oh > 1 ? Math.fround((c.ih - 1) / (c.oh - 1)) : 0;
        c.sw = c.ow > 1 ? Math.fround((c.iw - 1) / (c.ow - 1)) : 0;
      }
      const x = randnArray(r, c.xoff + c.planes * c.ih * c.iw);
      const base = { ih: c.ih, iw: c.iw, oh: c.oh, ow: c.ow, sh: c.sh, sw: c.sw, align: c.align };
      const f = await both(
        'interpolate_bilinear',
        { reads: { x }, writes: { y: c.yoff + c.planes * c.oh * c.ow }, params: { ...base, n: c.planes * c.oh * c.ow, xoff: c.xoff, yoff: c.yoff } },
        cpu64,
      );
      expect(f.got.y).toBeAllClose(f.want.y, { rtol: 1e-5, atol: 1e-5 });
      const gy = randnArray(r, c.yoff + c.planes * c.oh * c.ow);
      const b = await both(
        'interpolate_bilinear_bwd',
        { reads: { gy }, writes: { gx: c.xoff + c.planes * c.ih * c.iw }, params: { ...base, n: c.planes * c.ih * c.iw, goff: c.yoff, xoff: c.xoff } },
        cpu64,
      );
      // up to (oh/ih + 2) * (ow/iw + 2) terms per input
      expect(b.got.gx).toBeAllClose(b.want.gx, { rtol: 1e-5, atol: 1e-5 * Math.sqrt((c.oh / c.ih + 2) * (c.ow / c.iw + 2)) });
    }
  });

  test('interpolate_bilinear_bwd is the adjoint of the forward: <f(x), g> == <x, f*(g)>', async () => {
    const r = rng(6);
    for (const align of [0, 1]) {
      const c = { planes: 2, ih: 5, iw: 7, oh: 11, ow: 4, sh: 0, sw: 0 };
      c.sh = align ? Math.fround(4 / 10) : Math.fround(5 / 11);
      c.sw = align ? Math.fround(6 / 3) : Math.fround(7 / 4);
      const x = randnArray(r, c.planes * c.ih * c.iw);
      const g = randnArray(r, c.planes * c.oh * c.ow);
      const base = { ih: c.ih, iw: c.iw, oh: c.oh, ow: c.ow, sh: c.sh, sw: c.sw, align };
      const y = (await runKernel(dev, K.interpolate_bilinear, { reads: { x }, writes: { y: g.length }, params: { ...base, n: g.length, xoff: 0, yoff: 0 } })).y;
      const gx = (await runKernel(dev, K.interpolate_bilinear_bwd, { reads: { gy: g }, writes: { gx: x.length }, params: { ...base, n: x.length, goff: 0, xoff: 0 } })).gx;
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < g.length; i++) lhs += y[i]! * g[i]!;
      for (let i = 0; i < x.length; i++) rhs += x[i]! * gx[i]!;
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
    }
  });
});

describe.skipIf(skip)('dropout kernel: GPU vs CPU reference (bit-exact)', () => {
  test('element and channel masks, offsets, p in (0, 1]', async () => {
    const r = rng(7);
    for (const [p, group] of [[0.5, 1], [0.1, 1], [0.9, 7], [1, 1], [0.3, 33]] as const) {
      const n = randInt(r, 200, 3000);
      const x = randnArray(r, n);
      const threshold = Math.min(2 ** 24, Math.round(p * 2 ** 24));
      const params = { n, start: randInt(r, 0, 1000), group, key: r.nextU32(), threshold, scale: p === 1 ? 0 : 1 / (1 - p) };
      const { got, want } = await both('dropout', { reads: { x }, writes: { y: n }, params });
      expect(got.y).toBeAllClose(want.y, EXACT);
      let zeros = 0;
      for (let i = 0; i < n; i++) {
        if (got.y[i] === 0) zeros++;
        else expect(got.y[i]).toBe(Math.fround(x[i]! * Math.fround(params.scale)));
      }
      if (p === 1) expect(zeros).toBe(n);
      else if (group === 1) expect(Math.abs(zeros / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-3);
      // channel groups: every element of one unit shares the decision
      for (let i = 1; i < n; i++) {
        if (Math.floor((params.start + i) / group) === Math.floor((params.start + i - 1) / group)) {
          expect(got.y[i] === 0).toBe(got.y[i - 1] === 0);
        }
      }
    }
  });
});
