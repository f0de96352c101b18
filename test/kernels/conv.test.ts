import { describe, expect, test } from 'vitest';
import { CONV_KERNELS } from '../../src/kernels/conv.js';
import type { Rng } from '../../src/tensor/random.js';
import type { KernelSpec } from '../../src/index.js';
import type { Constants } from '../../src/kernels/define_kernel.js';
import { reductionTol, sumBound, type CloseOptions } from '../helpers/close.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng } from '../helpers/random.js';
import { runKernel, termMagnitudes, type KernelRun } from '../helpers/run_kernel.js';

const { skip, dev } = await gpuSuite();

const K = CONV_KERNELS;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[randInt(r, 0, xs.length - 1)]!;
const odd = (r: Rng, lo: number, hi: number) => randInt(r, lo, hi) | 1;

/**
 * Runs a kernel on the GPU and on the float64 reference with the same inputs; compares every write. Every conv
 * kernel's output is a sum of products of its inputs (and the accumulated old value), so the reference on their
 * magnitudes gives each output's sum |terms|: the tolerance adds two float32 rounding units of it (sumBound), which
 * only matters where a result cancels (e.g. 0.067 out of terms summing to ~60 in magnitude).
 */
async function compare(spec: KernelSpec, run: KernelRun, tol: CloseOptions) {
  const got = await runKernel(dev, spec, run);
  const want = await runKernel(cpu64, spec, run);
  const mag = await termMagnitudes(cpu64, spec, run);
  for (const k of Object.keys(want)) expect(got[k], `${spec.name} write '${k}' ${JSON.stringify(run.params)}`).toBeAllClose(want[k]!, { ...tol, atolOf: sumBound(mag[k]!) });
}

/** Random conv geometry: odd sizes, C = 1 / 3 / other, stride and dilation 1-2, begin pads, batch up to 3. */
function randGeo(r: Rng, transposed: boolean) {
  for (;;) {
    const kh = randInt(r, 1, 4);
    const kw = randInt(r, 1, 4);
    const [sh, sw] = [randInt(r, 1, 2), randInt(r, 1, 2)];
    const [dh, dw] = [randInt(r, 1, 2), randInt(r, 1, 2)];
    const [h, w] = [odd(r, 1, 11), odd(r, 3, 15)];
    const [ekh, ekw] = [dh * (kh - 1) + 1, dw * (kw - 1) + 1];
    const [ph, pw] = [randInt(r, 0, ekh - 1), randInt(r, 0, ekw - 1)];
    let oh: number, ow: number;
    if (transposed) {
      // Any output_padding below max(stride, dilation).
      oh = (h - 1) * sh - 2 * ph + ekh + randInt(r, 0, Math.max(sh, dh) - 1);
      ow = (w - 1) * sw - 2 * pw + ekw + randInt(r, 0, Math.max(sw, dw) - 1);
    } else {
      // Begin pad ph and any end pad (asymmetric, like 'same' with an odd total).
      oh = Math.floor((h + ph + randInt(r, 0, ekh - 1) - ekh) / sh) + 1;
      ow = Math.floor((w + pw + randInt(r, 0, ekw - 1) - ekw) / sw) + 1;
    }
    if (oh < 1 || ow < 1) continue;
    return {
      n: randInt(r, 1, 3), cin: pick(r, [1, 3, randInt(r, 2, 9)]), cout: pick(r, [1, 3, randInt(r, 2, 13)]),
      h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw,
    };
  }
}

// Forward kernels: windows with residual offsets, item strides wider than the block, weight / bias block offsets.
describe.skipIf(skip)('conv forward kernels: GPU vs float64 reference', () => {
  // Every variant of each family on the same geometries; cases 6-8 have wide channels (the subgroup variants' 8-channel
  // blocks, their cin % 8 tails and several 16-channel blocks).
  const SG_SETS: Constants[] = [{ CO16: true }, { CO16: false, CO8: true }, { CO16: false, CO8: false }, { PX2: false }];
  // The tiled variants: the default 32 x 32 tile, a GPU-sized 64 x 64 one with 8-deep K steps, a 16 x 16 one with 4-deep.
  const TILED_SETS: Constants[] = [{}, { TP: 16, TC: 16, BK: 8 }, { TP: 4, TC: 4, BK: 4 }];
  const fwdVariants = (name: 'conv2d_fwd' | 'conv_transpose2d_fwd') =>
    [[name, name, [{ CO8: true }, { CO8: false }]], [name, `${name}_sg`, SG_SETS], [name, `${name}_tiled`, TILED_SETS]] as [typeof name, keyof typeof K, Constants[]][];
  for (const [name, variant, sets] of [...fwdVariants('conv2d_fwd'), ...fwdVariants('conv_transpose2d_fwd')]) {
    test.each([0, 1, 2, 3, 4, 5, 6, 7, 8])(`${variant} case %i`, async (k) => {
      const r = rng(1000 * (name.length + 1) + k);
      const g = randGeo(r, name === 'conv_transpose2d_fwd');
      if (k >= 6) [g.cin, g.cout] = [randInt(r, 8, 27), randInt(r, 9, 40)];
      const kk = g.kh * g.kw;
      const windowed = k >= 3;
      const extraC = windowed ? randInt(r, 1, 3) : 0;
      const x_off = windowed ? randInt(r, 1, 70) : 0;
      const y_off = windowed ? randInt(r, 1, 70) : 0;
      const x_ns = (g.cin + extraC) * g.h * g.w;
      const y_ns = (g.cout + extraC) * g.oh * g.ow;
      const w_ci0 = windowed ? randInt(r, 1, 3) : 0;
      const w_co4 = windowed ? randInt(r, 1, 2) : 0;
      const w_ld4 = w_co4 + 2 * Math.ceil(g.cout / 8) + randInt(r, 0, 1);
      const b_co0 = windowed ? randInt(r, 1, 5) : 0;
      const xs = x_off + (g.n - 1) * x_ns + g.cin * g.h * g.w + randInt(r, 0, 5);
      const ys = y_off + (g.n - 1) * y_ns + g.cout * g.oh * g.ow + randInt(r, 0, 5);
      const reads = {
        x: randnArray(r, xs),
        wp: randnArray(r, (w_ci0 + g.cin) * kk * w_ld4 * 4),
        bias: randnArray(r, b_co0 + g.cout),
      };
      const params = { ...g, x_off, x_ns, y_off, y_ns, w_ci0, w_co4, w_ld4, b_co0 };
      const tol = reductionTol(g.cin * kk + 1, 2);
      for (const set of sets) {
        for (const [HAS_BIAS, ACCUMULATE] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const init = ACCUMULATE ? { y: randnArray(r, ys) } : undefined;
          await compare(K[variant], { reads, writes: { y: ys }, init, params, constants: { HAS_BIAS, ACCUMULATE, ...set } }, tol);
        }
      }
      // The subgroup variants also run in workgroups of two subgroups (16 lanes; one more pipeline, not twelve).
      if (variant.endsWith('_sg')) await compare(K[variant], { reads, writes: { y: ys }, params, constants: { HAS_BIAS: true, WG: 16 } }, tol);
    });
  }
  test.each(['conv2d_fwd', 'conv2d_fwd_tiled'] as const)('%s with output sizes that are not a multiple of the 4-pixel / 8-channel / 64-lane blocks or tiles', async (name) => {
    const r = rng(7);
    const g = { n: 2, cin: 3, h: 37, w: 41, cout: 9, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 37, ow: 41 };
    const params = { ...g, x_off: 0, x_ns: 3 * 37 * 41, y_off: 0, y_ns: 9 * 37 * 41, w_ci0: 0, w_co4: 0, w_ld4: 4, b_co0: 0 };
    const reads = { x: randnArray(r, 2 * 3 * 37 * 41), wp: randnArray(r, 27 * 16), bias: randnArray(r, 9) };
    await compare(K[name], { reads, writes: { y: 2 * 9 * 37 * 41 }, params, constants: { HAS_BIAS: true } }, reductionTol(28, 2));
  });
});

// The 2x2 stride-2 kernels on the geometries they take (conv_choice.ts k2s2Fits): rows of the small grid 4, 8 or 12
// quads wide, odd heights, one item or several, windows at multiples of 4, channel tails of the blocks (8 channels
// transposed, pairs direct: cin 1 and odd cin run the direct kernel's lone last channel) and channel blocks past
// cout, every CO, with and without bias and accumulation, and in 16-lane workgroups.
describe.skipIf(skip)('conv 2x2 stride-2 kernels: GPU vs float64 reference', () => {
  const SETS = { conv2d_fwd_k2s2: [4, 8, 16, 32], conv_transpose2d_fwd_k2s2: [4, 8] } as const;
  test.each(Object.keys(SETS).flatMap((name) => [0, 1, 2, 3, 4, 5].map((k) => [name as keyof typeof SETS, k] as const)))('%s case %i', async (name, k) => {
    const transposed = name === 'conv_transpose2d_fwd_k2s2';
    const r = rng(6000 + 10 * +transposed + k);
    const small = [randInt(r, 1, 5), 4 * randInt(r, 1, 3)] as const;
    // The small grid: the input's (transposed) or the output's; the direct input may have one more (odd) row.
    const [h, w, oh, ow] = transposed ? [small[0], small[1], 2 * small[0], 2 * small[1]] : [2 * small[0] + randInt(r, 0, 1), 2 * small[1], small[0], small[1]];
    const [cin, cout] = k < 2 ? [pick(r, [1, 3]), pick(r, [1, 3, 6])] : [randInt(r, 8, 27), randInt(r, 9, 40)];
    const windowed = k >= 2;
    const n = randInt(r, 1, 3);
    const extraC = windowed ? randInt(r, 1, 3) : 0;
    const x_off = windowed ? 4 * randInt(r, 1, 17) : 0;
    const y_off = windowed ? 4 * randInt(r, 1, 17) : 0;
    const x_ns = (cin + extraC) * h * w;
    const y_ns = (cout + extraC) * oh * ow;
    const w_ci0 = windowed ? randInt(r, 1, 3) : 0;
    const w_co4 = windowed ? randInt(r, 1, 2) : 0;
    const w_ld4 = w_co4 + Math.ceil(cout / 4) + 1 + randInt(r, 0, 1);
    const b_co0 = windowed ? randInt(r, 1, 5) : 0;
    const xs = x_off + (n - 1) * x_ns + cin * h * w + 4 * randInt(r, 0, 2);
    const ys = y_off + (n - 1) * y_ns + cout * oh * ow + 4 * randInt(r, 0, 2);
    const reads = { x: randnArray(r, xs), wp: randnArray(r, (w_ci0 + cin) * 4 * w_ld4 * 4), bias: randnArray(r, b_co0 + cout) };
    const params = { n, cin, h, w, cout, oh, ow, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, x_off, x_ns, y_off, y_ns, w_ci0, w_co4, w_ld4, b_co0 };
    const tol = reductionTol(cin * (transposed ? 1 : 4) + 1, 2);
    // Every bias / accumulate pair on the launcher's CO (the spec's default), one pair on each other CO: a cold Mesa
    // shader cache compiles each pipeline in 1.5-12 s (CO = 32 the longest), so not all sixteen.
    const PAIRS = [[false, false], [true, false], [false, true], [true, true]] as const;
    for (const CO of SETS[name]) {
      for (const [HAS_BIAS, ACCUMULATE] of CO === K[name].constants.CO ? PAIRS : [PAIRS[(CO + k) % 4]!]) {
        const init = ACCUMULATE ? { y: randnArray(r, ys) } : undefined;
        await compare(K[name], { reads, writes: { y: ys }, init, params, constants: { CO, HAS_BIAS, ACCUMULATE } }, tol);
      }
    }
    await compare(K[name], { reads, writes: { y: ys }, params, constants: { HAS_BIAS: true, WG: 16 } }, tol);
  });
});

describe.skipIf(skip)('conv gradient kernels: GPU vs float64 reference', () => {
  type BwdGeo = ReturnType<typeof randGeo>;
  /** One weight-gradient launch on `geo` (g on the output grid, x on the input grid), maybe windows of bigger tensors. */
  function bwdWeightRun(r: Rng, geo: BwdGeo, windowed: boolean, maxSlices: number) {
    const extra = windowed ? randInt(r, 1, 2) : 0;
    const a = geo.cout;
    const b = geo.cin;
    const g_off = windowed ? randInt(r, 1, 70) : 0;
    const x_off = windowed ? randInt(r, 1, 70) : 0;
    const g_ns = (a + extra) * geo.oh * geo.ow;
    const x_ns = (b + extra) * geo.h * geo.w;
    const rowsTot = geo.n * geo.oh;
    const nslices = randInt(r, 1, Math.min(maxSlices, rowsTot));
    const rows = Math.ceil(rowsTot / nslices);
    const a_base = windowed ? randInt(r, 0, 2) : 0;
    const b_base = windowed ? randInt(r, 0, 2) : 0;
    const a_tot = a + a_base + (windowed ? 1 : 0);
    const b_tot = b + b_base + (windowed ? 1 : 0);
    const kk = geo.kh * geo.kw;
    const params = {
      n: geo.n, a, gh: geo.oh, gw: geo.ow, b, xh: geo.h, xw: geo.w,
      kh: geo.kh, kw: geo.kw, sh: geo.sh, sw: geo.sw, ph: geo.ph, pw: geo.pw, dh: geo.dh, dw: geo.dw,
      g_off, g_ns, x_off, x_ns, rows, nslices: Math.ceil(rowsTot / rows), a_base, b_base, a_tot, b_tot,
    };
    const reads = {
      g: randnArray(r, g_off + (geo.n - 1) * g_ns + a * geo.oh * geo.ow + 3),
      x: randnArray(r, x_off + (geo.n - 1) * x_ns + b * geo.h * geo.w + 3),
    };
    return { run: { reads, writes: { part: params.nslices * a_tot * b_tot * kk }, params }, tol: reductionTol(rows * geo.ow, 2) };
  }

  const bwdWeight = ['conv2d_bwd_weight', 'conv2d_bwd_weight_sg', 'conv2d_bwd_weight_tiled'] as const;
  // The tiled variant's other tiles: GPU-sized (64 x 64, 256 invocations) and small (16 x 16, one K step per WG).
  const TILED_BWD_SETS: Constants[] = [{ TA: 16, TB: 16 }, { TA: 4, TB: 4 }];
  test.each(bwdWeight.flatMap((name) => [0, 1, 2, 3, 4, 5].map((k) => [name, k] as const)))('%s case %i', async (name, k) => {
    const r = rng(3000 + k);
    const { run, tol } = bwdWeightRun(r, randGeo(r, false), k >= 3, 4);
    await compare(K[name], run, tol);
    // The subgroup variant's general path (PATH 4, the launcher's choice for these geometries) as well as PATH 0.
    if (name === 'conv2d_bwd_weight_sg') await compare(K[name], { ...run, constants: { PATH: 4 } }, tol);
    if (name === 'conv2d_bwd_weight_tiled') for (const constants of TILED_BWD_SETS) await compare(K[name], { ...run, constants }, tol);
  });

  // The geometries the subgroup variant has unrolled paths for (3x3 stride 1 'same' and 'valid', 1x1, the 2x2 stride-2
  // transposed conv's gradient), on odd sizes, channel tails of the 8-channel blocks, several items per slice and slices
  // that end inside an item; images smaller than the 4-pixel groups. The variant runs with the path picked at run time
  // (PATH 0), with the launcher's path for the geometry, and in 16-lane workgroups.
  const UNET_GEOS: [string, number, Partial<BwdGeo>][] = [
    ['3x3 same', 1, { kh: 3, kw: 3, h: 9, w: 13, oh: 9, ow: 13, ph: 1, pw: 1 }],
    ['3x3 valid', 1, { kh: 3, kw: 3, h: 11, w: 10, oh: 9, ow: 8, ph: 0, pw: 0 }],
    ['3x3 same, 2x3 image', 1, { kh: 3, kw: 3, h: 2, w: 3, oh: 2, ow: 3, ph: 1, pw: 1 }],
    ['3x3 same, 5x6 image', 1, { kh: 3, kw: 3, h: 5, w: 6, oh: 5, ow: 6, ph: 1, pw: 1 }],
    ['1x1', 2, { kh: 1, kw: 1, h: 7, w: 10, oh: 7, ow: 10, ph: 0, pw: 0 }],
    ['2x2 stride 2 (transposed)', 3, { kh: 2, kw: 2, sh: 2, sw: 2, h: 10, w: 14, oh: 5, ow: 7, ph: 0, pw: 0 }],
  ];
  test.each(bwdWeight.flatMap((name) => UNET_GEOS.map(([what, path, geo], i) => [name, what, i, path, geo] as const)))('%s: %s', async (name, _what, i, PATH, geo) => {
    const r = rng(3100 + i);
    for (const windowed of [false, true]) {
      const full = { n: randInt(r, 2, 3), cin: randInt(r, 9, 20), cout: randInt(r, 9, 20), sh: 1, sw: 1, dh: 1, dw: 1, ...geo } as BwdGeo;
      const { run, tol } = bwdWeightRun(r, full, windowed, 5);
      await compare(K[name], run, tol);
      if (name === 'conv2d_bwd_weight_tiled') for (const constants of TILED_BWD_SETS) await compare(K[name], { ...run, constants }, tol);
      if (name !== 'conv2d_bwd_weight_sg') continue;
      await compare(K[name], { ...run, constants: { PATH } }, tol);
      await compare(K[name], { ...run, constants: { PATH, WG: 16 } }, tol);
    }
  });

  /**
   * A weight-gradient launch for the vec4 kernels (conv2d_bwd_weight_k2s2, conv2d_bwd_weight_few): geometry `geo`, maybe
   * windows of bigger tensors at multiples of 4 with channel bases, slices that end inside an item.
   */
  function vec4WgradRun(r: Rng, geo: { n: number; a: number; b: number; gh: number; gw: number; xh: number; xw: number; k: number; s: number; ph: number; pw: number }, windowed: boolean) {
    const { n, a, b, gh, gw, xh, xw } = geo;
    const extra = windowed ? randInt(r, 1, 2) : 0;
    const g_off = windowed ? 4 * randInt(r, 1, 17) : 0;
    const x_off = windowed ? 4 * randInt(r, 1, 17) : 0;
    const g_ns = (a + extra) * gh * gw;
    const x_ns = (b + extra) * xh * xw;
    const rowsTot = n * gh;
    const rows = Math.ceil(rowsTot / randInt(r, 1, Math.min(5, rowsTot)));
    const a_base = windowed ? randInt(r, 0, 2) : 0;
    const b_base = windowed ? randInt(r, 0, 2) : 0;
    const [a_tot, b_tot] = [a + a_base + (windowed ? 1 : 0), b + b_base + (windowed ? 1 : 0)];
    const params = {
      n, a, gh, gw, b, xh, xw, kh: geo.k, kw: geo.k, sh: geo.s, sw: geo.s, ph: geo.ph, pw: geo.pw, dh: 1, dw: 1,
      g_off, g_ns, x_off, x_ns, rows, nslices: Math.ceil(rowsTot / rows), a_base, b_base, a_tot, b_tot,
    };
    const reads = {
      g: randnArray(r, g_off + (n - 1) * g_ns + a * gh * gw + 4 * randInt(r, 0, 2)),
      x: randnArray(r, x_off + (n - 1) * x_ns + b * xh * xw + 4 * randInt(r, 0, 2)),
    };
    return { run: { reads, writes: { part: params.nslices * a_tot * b_tot * geo.k * geo.k }, params }, tol: reductionTol(rows * gw, 2) };
  }

  // conv2d_bwd_weight_k2s2 on the geometries it takes (conv_choice.ts k2s2WgradFits): g rows 4, 8 or 12 wide, x exactly
  // twice g's grid (the up-conv's gradient) or one row / 4 columns more (a direct 2x2 stride-2 conv's), windows at
  // multiples of 4, a and b tails of the AB-channel and WG-lane blocks, slices that end inside an item; AB 8 and 16,
  // and 16-lane workgroups.
  test.each([0, 1, 2, 3, 4, 5])('conv2d_bwd_weight_k2s2 case %i', async (k) => {
    const r = rng(3200 + k);
    const n = randInt(r, 1, 3);
    const [gh, gw] = [randInt(r, 1, 5), 4 * randInt(r, 1, 3)];
    const [xh, xw] = k % 2 ? [2 * gh + randInt(r, 0, 1), 2 * gw + 4 * randInt(r, 0, 1)] : [2 * gh, 2 * gw];
    const [a, b] = k < 2 ? [pick(r, [1, 3, 6]), pick(r, [1, 3, 9])] : [randInt(r, 9, 40), randInt(r, 9, 30)];
    const { run, tol } = vec4WgradRun(r, { n, a, b, gh, gw, xh, xw, k: 2, s: 2, ph: 0, pw: 0 }, k >= 2);
    for (const constants of [{ AB: 8 }, { AB: 16 }, { AB: 8, WG: 16 }] as Constants[]) await compare(K.conv2d_bwd_weight_k2s2, { ...run, constants }, tol);
  });

  // conv2d_bwd_weight_few on the geometries it takes (conv_choice.ts fewWgradFits): 3x3 stride 1, 1-4 x channels, g and
  // x rows multiples of 4 wide (x as wide as g or 4 columns wider), every begin pad 0-3 (each SHIFT) and 0-2 rows, x
  // one row shorter to two longer than g (taps past it read zeros), a tails of the 8-channel block, windows at
  // multiples of 4, slices that end inside an item.
  test.each([0, 1, 2, 3, 4, 5, 6, 7])('conv2d_bwd_weight_few case %i', async (k) => {
    const r = rng(3300 + k);
    const n = randInt(r, 1, 3);
    const pw = k % 4;
    const [gh, gw] = [randInt(r, 1, 6), 4 * randInt(r, 1, 3)];
    const [xh, xw] = [Math.max(1, gh + randInt(r, -1, 2)), gw + 4 * randInt(r, 0, 1)];
    const [a, b] = [pick(r, [1, 3, 8, 13, 20]), randInt(r, 1, 4)];
    const { run, tol } = vec4WgradRun(r, { n, a, b, gh, gw, xh, xw, k: 3, s: 1, ph: randInt(r, 0, 2), pw }, k >= 4);
    await compare(K.conv2d_bwd_weight_few, { ...run, constants: { SHIFT: (4 - (pw % 4)) % 4 } }, tol);
  });

  // The scalar kernel on any rows; the vec4 one on rows a multiple of 4 wide, windows at multiples of 4.
  test.each((['conv_bwd_bias', 'conv_bwd_bias_vec4'] as const).flatMap((name) => [0, 1, 2, 3].map((k) => [name, k] as const)))('%s case %i', async (name, k) => {
    const vec4 = name === 'conv_bwd_bias_vec4';
    const r = rng(4000 + 100 * +vec4 + k);
    const [n, c, h, w] = [randInt(r, 1, 3), pick(r, [1, 3, randInt(r, 2, 70)]), odd(r, 1, 15), vec4 ? 4 * randInt(r, 1, 9) : odd(r, 1, 15)];
    const windowed = k >= 2;
    const g_off = windowed ? (vec4 ? 4 * randInt(r, 1, 17) : randInt(r, 1, 70)) : 0;
    const g_ns = (c + (windowed ? 2 : 0)) * h * w;
    const nslices0 = randInt(r, 1, Math.min(5, n * h));
    const rows = Math.ceil((n * h) / nslices0);
    const nslices = Math.ceil((n * h) / rows);
    const c_base = windowed ? randInt(r, 1, 3) : 0;
    const c_tot = c + c_base + (windowed ? 2 : 0);
    const params = { n, c, h, w, g_off, g_ns, rows, nslices, c_base, c_tot };
    const reads = { g: randnArray(r, g_off + (n - 1) * g_ns + c * h * w) };
    await compare(K[name], { reads, writes: { part: nslices * c_tot }, params }, reductionTol(rows * w));
  });

  test.each([false, true])('conv_partial_sum (ACCUMULATE %s)', async (ACCUMULATE) => {
    const r = rng(5000 + +ACCUMULATE);
    for (const [m, s] of [[1, 1], [257, 3], [1000 + randInt(r, 0, 99), randInt(r, 1, 9)]] as const) {
      const init = ACCUMULATE ? { out: randnArray(r, m) } : undefined;
      await compare(K.conv_partial_sum, { reads: { part: randnArray(r, m * s) }, writes: { out: m }, init, params: { m, s }, constants: { ACCUMULATE } }, reductionTol(s + 1));
    }
  });

  test('conv_weight_pack (bit-exact)', async () => {
    const r = rng(6000);
    for (const [nb, nr, nc] of [[1, 1, 1], [1, 9, 27], [3, 5, 4], [randInt(r, 1, 4), randInt(r, 1, 13), randInt(r, 1, 30)]] as const) {
      const rpad = 4 * Math.ceil(nr / 4) + 4;
      await compare(K.conv_weight_pack, { reads: { w: randnArray(r, nb * nr * nc) }, writes: { out: nb * nc * rpad }, params: { nb, nr, nc, rpad } }, { rtol: 0, atol: 0 });
    }
  });
});
