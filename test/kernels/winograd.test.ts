import { describe, expect, test } from 'vitest';
import { WINOGRAD_KERNELS } from '../../src/kernels/winograd.js';
import type { KernelSpec } from '../../src/index.js';
import type { Rng } from '../../src/tensor/random.js';
import { reductionTol, sumBound, type CloseOptions } from '../helpers/close.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng } from '../helpers/random.js';
import { runKernel, termMagnitudes, type KernelRun } from '../helpers/run_kernel.js';

// The Winograd F(4x4, 3x3) passes (filter, data, products, output) against their float64 references, each on random
// odd geometries, and the four chained against a plain direct correlation written here (the independent check that
// the transforms compute a 3x3 convolution at all).

const { skip, dev } = await gpuSuite();

const K = WINOGRAD_KERNELS;
const cdiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * GPU vs the float64 reference. `products`: the kernel's writes are sums of products of its inputs (the contractions,
 * not the transforms, whose signed coefficients cancel): the tolerance adds two float32 rounding units of each write's
 * sum |terms| (sumBound), which only matters where a result cancels.
 */
async function compare(spec: KernelSpec, run: KernelRun, tol: CloseOptions, products = false) {
  const got = await runKernel(dev, spec, run);
  const want = await runKernel(cpu64, spec, run);
  const mag = products ? await termMagnitudes(cpu64, spec, run) : null;
  for (const k of Object.keys(want)) expect(got[k], `${spec.name} write '${k}' ${JSON.stringify(run.params)}`).toBeAllClose(want[k]!, { ...tol, atolOf: mag ? sumBound(mag[k]!) : undefined });
  return got;
}

/** A random band: odd output sizes, pads 0-2, batch 1-3, a window of a bigger tensor (offsets, item strides). */
function band(r: Rng) {
  const [ph, pw] = [randInt(r, 0, 2), randInt(r, 0, 2)];
  const [h, w] = [randInt(r, 3, 17) | 1, randInt(r, 3, 23) | 1];
  const [oh, ow] = [h + 2 * ph - 2, w + 2 * pw - 2];
  const th = cdiv(oh, 4);
  const ty0 = randInt(r, 0, th - 1);
  return { nn: randInt(r, 1, 3), h, w, ph, pw, oh, ow, th, ty0, bt: randInt(r, 1, th - ty0), tg: cdiv(cdiv(ow, 4), 4) };
}

/** The params of the data transform (x side) and of the output transform (y side) of a band. */
const inGeo = (b: { h: number; w: number; ph: number; pw: number; ty0: number; bt: number; tg: number; nn: number }) => ({ h: b.h, w: b.w, ph: b.ph, pw: b.pw, ty0: b.ty0, bt: b.bt, tg: b.tg, nn: b.nn });
const outGeo = (b: { oh: number; ow: number; ty0: number; bt: number; tg: number; nn: number }) => ({ oh: b.oh, ow: b.ow, ty0: b.ty0, bt: b.bt, tg: b.tg, nn: b.nn });

describe.skipIf(skip)('Winograd F(4x4, 3x3) kernels: GPU vs float64 reference', () => {
  test.each([0, 1, 2, 3, 4, 5])('winograd_weight case %i (both weight layouts, channel blocks)', async (k) => {
    const r = rng(500 + k);
    const cin = [1, 3, randInt(r, 2, 20)][k % 3]!;
    const cout = [1, 5, randInt(r, 2, 21)][(k + 1) % 3]!;
    const [ci0, co0] = k >= 2 ? [randInt(r, 0, 3), randInt(r, 0, 9)] : [0, 0];
    const [cin_t, cout_t] = [ci0 + cin + (k >= 4 ? randInt(r, 1, 3) : 0), co0 + cout + (k >= 3 ? randInt(r, 1, 3) : 0)];
    const cp = 8 * cdiv(cout, 8);
    const w = randnArray(r, cin_t * cout_t * 9);
    const params = { cin, cout, cp, transposed: k % 2, ci0, co0, cin_t, cout_t };
    await compare(K.winograd_weight, { reads: { w }, writes: { u: 36 * cin * cp }, params }, { rtol: 1e-5, atol: 1e-6 });
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_input case %i', async (k) => {
    const r = rng(600 + k);
    const b = band(r);
    const cin = [1, 3, randInt(r, 2, 11)][k % 3]!;
    const extra = k >= 3 ? randInt(r, 1, 2) : 0;
    const x_off = k >= 3 ? randInt(r, 1, 40) : 0;
    const x_ns = (cin + extra) * b.h * b.w;
    const x = randnArray(r, x_off + (b.nn - 1) * x_ns + cin * b.h * b.w + randInt(r, 0, 5));
    const t4 = b.nn * b.bt * b.tg;
    // 36-term sums with coefficients up to 25 (B^T's 5 squared).
    await compare(K.winograd_input, { reads: { x }, writes: { v: 36 * cin * t4 * 4 }, params: { cin, ...inGeo(b), x_off, x_ns } }, reductionTol(36, 25));
  });

  // The vector variants: vec4 on rows a multiple of 4 wide (odd multiples included), vec2 on rows 2 mod 4 wide (the
  // rows it is chosen for).
  const VW = [[4, 'winograd_input_vec4'], [2, 'winograd_input_vec2']] as const;
  test.each(VW.flatMap(([vw, name]) => [0, 1, 2, 3, 4, 5, 6, 7].map((k) => [name, k, vw] as const)))('%s case %i (every SHIFT, windows, rows past the input)', async (name, k, vw) => {
    const r = rng(650 + 10 * (vw === 2 ? 1 : 0) + k);
    // w a multiple of 4 (vec4) or 2 mod 4 (vec2), pads 0-3 (SHIFT (-pw) mod vw), h odd or even; at least one output
    // column (w = 2 with pw = 0 has none: a launch the ops never make, whose empty v cannot be bound as vec4).
    const pw = k % 4;
    const ph = randInt(r, 0, 3);
    const [h, w] = [randInt(r, 3, 17), vw === 2 ? 4 * randInt(r, pw === 0 ? 1 : 0, 6) + 2 : 4 * randInt(r, 1, 7)];
    const [oh, ow] = [h + 2 * ph - 2, w + 2 * pw - 2];
    const th = cdiv(oh, 4);
    const ty0 = randInt(r, 0, th - 1);
    const b = { nn: randInt(r, 1, 3), h, w, ph, pw, ty0, bt: randInt(r, 1, th - ty0), tg: cdiv(cdiv(ow, 4), 4) };
    const cin = [1, 3, randInt(r, 2, 11)][k % 3]!;
    const extra = k >= 4 ? randInt(r, 1, 2) : 0;
    const x_off = k >= 4 ? vw * randInt(r, 1, 40 / vw) : 0;
    const x_ns = (cin + extra) * h * w;
    const x = randnArray(r, x_off + (b.nn - 1) * x_ns + cin * h * w + vw * randInt(r, 0, 2));
    const t4 = b.nn * b.bt * b.tg;
    const run = { reads: { x }, writes: { v: 36 * cin * t4 * 4 }, params: { cin, ...inGeo(b), x_off, x_ns }, constants: { SHIFT: (vw - (pw % vw)) % vw } };
    await compare(K[name], run, reductionTol(36, 25));
    // The same values as the scalar kernel's, bit for bit (same loads, same arithmetic).
    const [a, c] = [await runKernel(dev, K[name], run), await runKernel(dev, K.winograd_input, { ...run, constants: {} })];
    expect(a.v).toEqual(c.v);
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_gemm case %i (cin tails, several 8-channel blocks, lanes past the tiles)', async (k) => {
    const r = rng(700 + k);
    const cin = [1, 8, randInt(r, 2, 30)][k % 3]!;
    const cp = 8 * randInt(r, 1, 5);
    const t4 = randInt(r, 1, 23);
    // A block of input channels from u_ci0 of u's u_cin rows (k >= 3), accumulating onto m.
    const u_ci0 = k >= 3 ? randInt(r, 1, 5) : 0;
    const u_cin = u_ci0 + cin + (k >= 3 ? randInt(r, 0, 4) : 0);
    const reads = { u: randnArray(r, 36 * u_cin * cp), v: randnArray(r, 36 * cin * t4 * 4) };
    const params = { cin, cp, t4, u_cin, u_ci0 };
    const init = { m: randnArray(r, 36 * cp * t4 * 4) };
    for (const [WG, CO] of [[8, 8], [16, 8], [8, 16], [8, 32], [16, 32]]) {
      for (const ACCUMULATE of [false, true]) {
        await compare(K.winograd_gemm, { reads, writes: { m: 36 * cp * t4 * 4 }, init: ACCUMULATE ? init : undefined, params, constants: { WG, CO, ACCUMULATE } }, reductionTol(cin + 1, 2), true);
      }
    }
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_output case %i (bias, windows, partial tiles)', async (k) => {
    const r = rng(800 + k);
    const b = band(r);
    const cout = [1, 3, randInt(r, 2, 13)][k % 3]!;
    const cp = 8 * cdiv(cout, 8);
    const extra = k >= 3 ? randInt(r, 1, 2) : 0;
    const y_off = k >= 3 ? randInt(r, 1, 40) : 0;
    const y_ns = (cout + extra) * b.oh * b.ow;
    const b_co0 = k >= 3 ? randInt(r, 1, 4) : 0;
    const t4 = b.nn * b.bt * b.tg;
    const ys = y_off + (b.nn - 1) * y_ns + cout * b.oh * b.ow + randInt(r, 0, 5);
    const reads = { m: randnArray(r, 36 * cp * t4 * 4), bias: randnArray(r, b_co0 + cout) };
    for (const HAS_BIAS of [false, true]) {
      // Outputs outside the band stay poisoned on both sides (compared as NaN == NaN).
      // 36-term sums with coefficients up to 64 (A^T's 8 squared): rounding scales with them.
      await compare(K.winograd_output, { reads, writes: { y: ys }, params: { cout, cp, ...outGeo(b), y_off, y_ns, b_co0 }, constants: { HAS_BIAS } }, reductionTol(36, 64));
    }
  });

  const OUT_VW = [[4, 'winograd_output_vec4'], [2, 'winograd_output_vec2']] as const;
  test.each(OUT_VW.flatMap(([vw, name]) => [0, 1, 2, 3, 4, 5].map((k) => [name, k, vw] as const)))('%s case %i (bias, windows, partial tiles)', async (name, k, vw) => {
    const r = rng(850 + 10 * (vw === 2 ? 1 : 0) + k);
    // ow a multiple of 4 (vec4) or 2 mod 4 (vec2); tile quads past it: partial quads; oh any.
    const [oh, ow] = [randInt(r, 1, 17), vw === 2 ? 4 * randInt(r, 0, 8) + 2 : 4 * randInt(r, 1, 9)];
    const th = cdiv(oh, 4);
    const ty0 = randInt(r, 0, th - 1);
    const b = { nn: randInt(r, 1, 3), oh, ow, ty0, bt: randInt(r, 1, th - ty0), tg: cdiv(cdiv(ow, 4), 4) };
    const cout = [1, 3, randInt(r, 2, 13)][k % 3]!;
    const cp = 8 * cdiv(cout, 8);
    const extra = k >= 3 ? randInt(r, 1, 2) : 0;
    const y_off = k >= 3 ? vw * randInt(r, 1, 40 / vw) : 0;
    const y_ns = (cout + extra) * oh * ow;
    const b_co0 = k >= 3 ? randInt(r, 1, 4) : 0;
    const t4 = b.nn * b.bt * b.tg;
    const ys = y_off + (b.nn - 1) * y_ns + cout * oh * ow + vw * randInt(r, 0, 2);
    const reads = { m: randnArray(r, 36 * cp * t4 * 4), bias: randnArray(r, b_co0 + cout) };
    for (const HAS_BIAS of [false, true]) {
      const run = { reads, writes: { y: ys }, params: { cout, cp, ...outGeo(b), y_off, y_ns, b_co0 }, constants: { HAS_BIAS } };
      await compare(K[name], run, reductionTol(36, 64));
      const [a, c] = [await runKernel(dev, K[name], run), await runKernel(dev, K.winograd_output, run)];
      expect(a.y).toEqual(c.y);
    }
  });

  test.each([0, 1, 2, 3, 4, 5, 6, 7])('winograd_fused case %i (channel tails, windows, bias, partial tile quads, lanes past the tiles)', async (k) => {
    const r = rng(870 + k);
    // Rows a multiple of 4 wide in and out: pw odd (ow = w + 2pw - 2), SHIFT = (-pw) mod 4; oh any.
    const pw = [1, 3][k % 2]!;
    const ph = randInt(r, 0, 2);
    const [h, w] = [randInt(r, 3, 17), 4 * randInt(r, 1, 7)];
    const [oh, ow] = [h + 2 * ph - 2, w + 2 * pw - 2];
    const th = cdiv(oh, 4);
    const ty0 = randInt(r, 0, th - 1);
    const b = { nn: randInt(r, 1, 3), ty0, bt: randInt(r, 1, th - ty0), tg: cdiv(cdiv(ow, 4), 4) };
    const cin = [1, 8, randInt(r, 2, 20)][k % 3]!;
    const cout = [randInt(r, 1, 7), 8, randInt(r, 9, 21)][(k + 1) % 3]!;
    const cp = 8 * cdiv(cout, 8);
    const win = k >= 4;
    const [x_off, y_off] = win ? [4 * randInt(r, 1, 10), 4 * randInt(r, 1, 10)] : [0, 0];
    const x_ns = (cin + (win ? randInt(r, 1, 2) : 0)) * h * w;
    const y_ns = (cout + (win ? randInt(r, 1, 2) : 0)) * oh * ow;
    const b_co0 = win ? randInt(r, 1, 4) : 0;
    const reads = {
      x: randnArray(r, x_off + (b.nn - 1) * x_ns + cin * h * w + 4 * randInt(r, 0, 2)),
      u: randnArray(r, 36 * cin * cp),
      bias: randnArray(r, b_co0 + cout),
    };
    const ys = y_off + (b.nn - 1) * y_ns + cout * oh * ow + 4 * randInt(r, 0, 2);
    const params = { cin, cp, cout, h, w, ph, pw, x_off, x_ns, oh, ow, y_off, y_ns, b_co0, ...b };
    // One constant set per case, four in all (each pipeline of this kernel takes ~15 s to compile on lavapipe with an
    // empty shader cache), each SHIFT with and without the bias.
    const [WG, CO, HAS_BIAS] = ([[8, 8, false], [8, 8, true], [16, 8, true], [8, 4, false]] as const)[k % 4]!;
    // Outputs outside the band stay poisoned on both sides. The chained sums: 36 data terms (coefficients up to 25),
    // cin products, 36 output terms (up to 64).
    await compare(K.winograd_fused, { reads, writes: { y: ys }, params, constants: { WG, CO, HAS_BIAS, SHIFT: (4 - pw) % 4 } }, reductionTol(36 * cin * 36, 25 * 64));
  });

  test.each([0, 1, 2, 3])('the four passes chained = a direct 3x3 correlation (case %i, weights in both layouts)', async (k) => {
    const r = rng(900 + k);
    const b = band(r);
    const [cin, cout] = [randInt(r, 1, 19), randInt(r, 1, 17)];
    const transposed = k % 2;
    const cp = 8 * cdiv(cout, 8);
    const t4 = b.nn * b.th * b.tg;
    const x = randnArray(r, b.nn * cin * b.h * b.w);
    const w = randnArray(r, cin * cout * 9, 0.3);
    const bias = randnArray(r, cout);
    const geo = { ...b, ty0: 0, bt: b.th };
    const { u } = await runKernel(dev, K.winograd_weight, { reads: { w }, writes: { u: 36 * cin * cp }, params: { cin, cout, cp, transposed, ci0: 0, co0: 0, cin_t: cin, cout_t: cout } });
    const { v } = await runKernel(dev, K.winograd_input, { reads: { x }, writes: { v: 36 * cin * t4 * 4 }, params: { cin, ...inGeo(geo), x_off: 0, x_ns: cin * b.h * b.w } });
    const { m } = await runKernel(dev, K.winograd_gemm, { reads: { u: u!, v: v! }, writes: { m: 36 * cp * t4 * 4 }, params: { cin, cp, t4, u_cin: cin, u_ci0: 0 } });
    const { y } = await runKernel(dev, K.winograd_output, {
      reads: { m: m!, bias }, writes: { y: b.nn * cout * b.oh * b.ow },
      params: { cout, cp, ...outGeo(geo), y_off: 0, y_ns: cout * b.oh * b.ow, b_co0: 0 }, constants: { HAS_BIAS: true },
    });
    const want = new Float64Array(b.nn * cout * b.oh * b.ow);
    for (let n = 0; n < b.nn; n++) {
      for (let co = 0; co < cout; co++) {
        for (let oy = 0; oy < b.oh; oy++) {
          for (let ox = 0; ox < b.ow; ox++) {
            let acc = bias[co]!;
            for (let ci = 0; ci < cin; ci++) {
              for (let ky = 0; ky < 3; ky++) {
                for (let kx = 0; kx < 3; kx++) {
                  const iy = oy - b.ph + ky;
                  const ix = ox - b.pw + kx;
                  if (iy < 0 || iy >= b.h || ix < 0 || ix >= b.w) continue;
                  const wi = transposed ? ((ci * cout + co) * 3 + 2 - ky) * 3 + 2 - kx : ((co * cin + ci) * 3 + ky) * 3 + kx;
                  acc += x[((n * cin + ci) * b.h + iy) * b.w + ix]! * w[wi]!;
                }
              }
            }
            want[((n * cout + co) * b.oh + oy) * b.ow + ox] = acc;
          }
        }
      }
    }
    // The transforms' intermediate values are larger than the inputs (|B^T| and |A^T| entries up to 8): a looser bound.
    expect(y).toBeAllClose(want, reductionTol(cin * 9 + 1, 20));
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_grad case %i (partial tiles, windows)', async (k) => {
    const r = rng(1000 + k);
    const b = band(r);
    const a = [1, 3, randInt(r, 2, 11)][k % 3]!;
    const extra = k >= 3 ? randInt(r, 1, 2) : 0;
    const g_off = k >= 3 ? randInt(r, 1, 40) : 0;
    const g_ns = (a + extra) * b.oh * b.ow;
    const gr = randnArray(r, g_off + (b.nn - 1) * g_ns + a * b.oh * b.ow + randInt(r, 0, 5));
    const t4 = b.nn * b.bt * b.tg;
    const params = { a, gh: b.oh, gw: b.ow, g_off, g_ns, ty0: b.ty0, bt: b.bt, tg: b.tg, nn: b.nn };
    // 16-term sums with coefficients up to 64.
    await compare(K.winograd_grad, { reads: { gr }, writes: { gt: 36 * a * t4 * 4 }, params }, reductionTol(16, 64));
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_grad_vec4 case %i (partial tiles, windows, rows past the gradient)', async (k) => {
    const r = rng(1050 + k);
    // gw a multiple of 4 (tile quads past it: partial quads), gh any.
    const [gh, gw] = [randInt(r, 1, 17), 4 * randInt(r, 1, 9)];
    const th = cdiv(gh, 4);
    const ty0 = randInt(r, 0, th - 1);
    const b = { nn: randInt(r, 1, 3), ty0, bt: randInt(r, 1, th - ty0), tg: cdiv(cdiv(gw, 4), 4) };
    const a = [1, 3, randInt(r, 2, 11)][k % 3]!;
    const extra = k >= 3 ? randInt(r, 1, 2) : 0;
    const g_off = k >= 3 ? 4 * randInt(r, 1, 10) : 0;
    const g_ns = (a + extra) * gh * gw;
    const gr = randnArray(r, g_off + (b.nn - 1) * g_ns + a * gh * gw + 4 * randInt(r, 0, 2));
    const t4 = b.nn * b.bt * b.tg;
    const run = { reads: { gr }, writes: { gt: 36 * a * t4 * 4 }, params: { a, gh, gw, g_off, g_ns, ...b } };
    await compare(K.winograd_grad_vec4, run, reductionTol(16, 64));
    // The same values as the scalar kernel's, bit for bit.
    const [x, y] = [await runKernel(dev, K.winograd_grad_vec4, run), await runKernel(dev, K.winograd_grad, run)];
    expect(x.gt).toEqual(y.gt);
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_wgrad_gemm case %i (slices, slot offset, channel tails)', async (k) => {
    const r = rng(1100 + k);
    const [a, b] = [[1, 16, randInt(r, 2, 40)][k % 3]!, [1, 33, randInt(r, 2, 70)][(k + 1) % 3]!];
    const t4 = randInt(r, 1, 40);
    const s_len = randInt(r, 1, t4);
    const nslices = Math.ceil(t4 / s_len);
    const slot0 = randInt(r, 0, 2);
    const reads = { gt: randnArray(r, 36 * a * t4 * 4), v: randnArray(r, 36 * b * t4 * 4) };
    const writes = { pw: (slot0 + nslices) * 36 * a * b };
    const init = { pw: randnArray(r, writes.pw) };
    for (const [WG, ACCUMULATE] of [[8, false], [16, false], [8, true], [16, true]] as const) {
      // Slots before slot0 are not this launch's: poisoned (or initial values) on both sides.
      const run = { reads, writes, init: ACCUMULATE ? init : undefined, params: { a, b, t4, s_len, nslices, slot0 } };
      const got = await runKernel(dev, K.winograd_wgrad_gemm, { ...run, constants: { WG, ACCUMULATE } });
      const want = await runKernel(cpu64, K.winograd_wgrad_gemm, { ...run, constants: { ACCUMULATE } });
      const mag = await termMagnitudes(cpu64, K.winograd_wgrad_gemm, { ...run, constants: { ACCUMULATE } });
      expect(got.pw, `WG ${WG} ACCUMULATE ${ACCUMULATE}`).toBeAllClose(want.pw!, { ...reductionTol(s_len * 4 + 1, 2), atolOf: sumBound(mag.pw!) });
    }
  });

  test.each([0, 1, 2, 3, 4, 5])('winograd_wgrad_output case %i (slots summed, accumulate)', async (k) => {
    const r = rng(1200 + k);
    // Cases 4, 5: a*b a multiple of 4 (the V4 form), b odd in case 4.
    const [a, b, nslots] = [k === 4 ? 4 * randInt(r, 1, 3) : randInt(r, 1, 9), k === 4 ? 2 * randInt(r, 1, 6) + 1 : k === 5 ? 4 * randInt(r, 1, 4) : randInt(r, 1, 13), randInt(r, 1, 5)];
    // A block from (a0, b0) of a bigger dw (k >= 2): the rest keeps its initial values on both sides.
    const [a0, b0] = k >= 2 ? [randInt(r, 0, 3), randInt(r, 0, 4)] : [0, 0];
    const [a_tot, b_tot] = [a0 + a + (k >= 2 ? randInt(r, 0, 2) : 0), b0 + b + (k >= 2 ? randInt(r, 0, 2) : 0)];
    const reads = { pw: randnArray(r, nslots * 36 * a * b) };
    const params = { a, b, nslots, b_tot, a0, b0 };
    for (const ACCUMULATE of [false, true]) {
      await compare(K.winograd_wgrad_output, { reads, writes: { dw: a_tot * b_tot * 9 }, init: ACCUMULATE ? { dw: randnArray(r, a_tot * b_tot * 9) } : undefined, params, constants: { ACCUMULATE } }, reductionTol(36 * nslots, 4));
    }
    // The 4-pairs-per-invocation form where a*b allows, with the 4 pairs crossing a rows when b % 4 != 0.
    if ((a * b) % 4 === 0) await compare(K.winograd_wgrad_output, { reads, writes: { dw: a_tot * b_tot * 9 }, init: { dw: randnArray(r, a_tot * b_tot * 9) }, params, constants: { ACCUMULATE: true, V4: true } }, reductionTol(36 * nslots, 4));
  });

  test.each([0, 1, 2, 3])('the weight-gradient passes chained = a direct weight gradient (case %i)', async (k) => {
    const r = rng(1300 + k);
    const b = band(r);
    const [a, c] = [randInt(r, 1, 19), randInt(r, 1, 21)];
    const t4 = b.nn * b.th * b.tg;
    const x = randnArray(r, b.nn * c * b.h * b.w);
    const g = randnArray(r, b.nn * a * b.oh * b.ow);
    const geo = { ty0: 0, bt: b.th, tg: b.tg, nn: b.nn };
    const { v } = await runKernel(dev, K.winograd_input, { reads: { x }, writes: { v: 36 * c * t4 * 4 }, params: { cin: c, h: b.h, w: b.w, ph: b.ph, pw: b.pw, x_off: 0, x_ns: c * b.h * b.w, ...geo } });
    const { gt } = await runKernel(dev, K.winograd_grad, { reads: { gr: g }, writes: { gt: 36 * a * t4 * 4 }, params: { a, gh: b.oh, gw: b.ow, g_off: 0, g_ns: a * b.oh * b.ow, ...geo } });
    const s_len = Math.max(1, Math.ceil(t4 / 3));
    const nslices = Math.ceil(t4 / s_len);
    const { pw } = await runKernel(dev, K.winograd_wgrad_gemm, { reads: { gt: gt!, v: v! }, writes: { pw: nslices * 36 * a * c }, params: { a, b: c, t4, s_len, nslices, slot0: 0 } });
    const { dw } = await runKernel(dev, K.winograd_wgrad_output, { reads: { pw: pw! }, writes: { dw: a * c * 9 }, params: { a, b: c, nslots: nslices, b_tot: c, a0: 0, b0: 0 } });
    // Each element against a direct sum, within a bound on the sum of |terms|: Winograd's transformed values reach ~100x
    // the inputs (A^T entries up to 8 squared, B^T's up to 5 squared), so rounding scales with that, not with the result.
    for (let ai = 0; ai < a; ai++) {
      for (let ci = 0; ci < c; ci++) {
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            let [acc, abs] = [0, 0];
            for (let n = 0; n < b.nn; n++) {
              for (let oy = 0; oy < b.oh; oy++) {
                for (let ox = 0; ox < b.ow; ox++) {
                  const [iy, ix] = [oy - b.ph + ky, ox - b.pw + kx];
                  if (iy < 0 || iy >= b.h || ix < 0 || ix >= b.w) continue;
                  const t = g[((n * a + ai) * b.oh + oy) * b.ow + ox]! * x[((n * c + ci) * b.h + iy) * b.w + ix]!;
                  acc += t;
                  abs += Math.abs(t);
                }
              }
            }
            const i = ((ai * c + ci) * 3 + ky) * 3 + kx;
            expect(Math.abs(dw![i]! - acc), `dW[${i}]: got ${dw![i]}, want ${acc} (sum |terms| ${abs})`).toBeLessThanOrEqual(3e-5 * abs + 1e-5);
          }
        }
      }
    }
  });
});
