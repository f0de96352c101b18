import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, grid1d, sumOf, variantOf, type Constants, type KernelSpec } from './define_kernel.js';

const WG = 64;
const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** Params shared by the two forward kernels (see shaders/conv2d_fwd.wgsl); ph, pw are the begin pads. */
export const CONV_FWD_PARAMS = {
  n: 'u32', cin: 'u32', h: 'u32', w: 'u32', cout: 'u32', oh: 'u32', ow: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'i32', pw: 'i32', dh: 'u32', dw: 'u32',
  x_off: 'u32', x_ns: 'u32', y_off: 'u32', y_ns: 'u32', w_ci0: 'u32', w_co4: 'u32', w_ld4: 'u32', b_co0: 'u32',
} as const;

type FwdP = Readonly<Record<keyof typeof CONV_FWD_PARAMS, number>>;

const fmtConv = (p: FwdP) => `${p.n}x${p.cin}x${p.h}x${p.w} -> ${p.cout}x${p.oh}x${p.ow} k${p.kh}x${p.kw} s${p.sh} p${p.ph}`;

/** y = base + acc with base = y (ACCUMULATE), bias (HAS_BIAS) or 0: the epilogue both forward kernels share. */
function storeFwd(y: { [i: number]: number }, bias: ArrayLike<number>, p: FwdP, c: Record<string, number | boolean>, n: number, co: number, oy: number, ox: number, acc: number) {
  const idx = p.y_off + n * p.y_ns + co * p.oh * p.ow + oy * p.ow + ox;
  const base = c.ACCUMULATE ? y[idx]! : c.HAS_BIAS ? bias[p.b_co0 + co]! : 0;
  y[idx] = acc + base;
}

/** The input coordinate output o meets through tap k along one axis (-1: none), for size, stride, begin pad, dilation. */
type TapMap = (o: number, k: number, size: number, s: number, pad: number, d: number) => number;

/** Direct conv: i = o*s - pad + k*d. */
const directTap: TapMap = (o, k, size, s, pad, d) => {
  const i = o * s - pad + k * d;
  return i >= 0 && i < size ? i : -1;
};

/** Transposed conv: o = i*s - pad + k*d, so i = (o + pad - k*d) / s where that is a whole index. */
const transposedTap: TapMap = (o, k, size, s, pad, d) => {
  const t = o + pad - k * d;
  return t >= 0 && t % s === 0 && t / s < size ? t / s : -1;
};

/** The CPU reference both forward kernel families share; `tap` maps output to input coordinates. */
function fwdRef({ x, wp, bias }: Record<'x' | 'wp' | 'bias', NumArray>, { y }: Record<'y', NumArray>, p: FwdP, c: Record<string, number | boolean>, tap: TapMap) {
  const kk = p.kh * p.kw;
  const hw = p.h * p.w;
  const ld = p.w_ld4 * 4;
  for (let n = 0; n < p.n; n++) {
    for (let co = 0; co < p.cout; co++) {
      const wcol = p.w_co4 * 4 + co;
      for (let oy = 0; oy < p.oh; oy++) {
        for (let ox = 0; ox < p.ow; ox++) {
          let acc = 0;
          for (let ky = 0; ky < p.kh; ky++) {
            const iy = tap(oy, ky, p.h, p.sh, p.ph, p.dh);
            if (iy < 0) continue;
            for (let kx = 0; kx < p.kw; kx++) {
              const ix = tap(ox, kx, p.w, p.sw, p.pw, p.dw);
              if (ix < 0) continue;
              const xi = p.x_off + n * p.x_ns + iy * p.w + ix;
              for (let ci = 0; ci < p.cin; ci++) {
                acc += x[xi + ci * hw]! * wp[((p.w_ci0 + ci) * kk + ky * p.kw + kx) * ld + wcol]!;
              }
            }
          }
          storeFwd(y, bias, p, c, n, co, oy, ox, acc);
        }
      }
    }
  }
}

/**
 * conv2d_fwd: y [n, cout, oh, ow] (+)= conv of x [n, cin, h, w] with packed weights (conv_weight_pack), begin pads ph, pw,
 * stride, dilation; windows via x_off/x_ns, y_off/y_ns, weight block via w_ci0, w_co4 (see shaders/conv2d_fwd.wgsl).
 * Variants (constants): HAS_BIAS, ACCUMULATE, CO8 (8 or 4 output channels per invocation: same results).
 */
export const conv2d_fwd = defineKernel({
  name: 'conv2d_fwd',
  family: 'conv2d_fwd',
  reads: { x: 'f32', wp: 'f32', bias: 'f32' },
  writes: { y: 'f32' },
  params: CONV_FWD_PARAMS,
  constants: { WG, HAS_BIAS: false, ACCUMULATE: false, CO8: true, TRANSPOSED: false },
  description: 'y (+)= direct conv of x with packed weights (+ bias): 4 pixels x 8 (CO8) or 4 output channels per invocation',
  grid: (p, c) => grid1d(p.n * cdiv(p.cout, c.CO8 ? 8 : 4) * p.oh * cdiv(p.ow, 4), c.WG as number),
  cost: (p, c) => ({
    flops: 2 * p.n * p.cout * p.oh * p.ow * p.cin * p.kh * p.kw,
    bytes: 4 * (p.n * p.cin * p.h * p.w + p.cin * p.kh * p.kw * p.cout + p.n * p.cout * p.oh * p.ow * (c.ACCUMULATE ? 2 : 1)),
  }),
  tolerance: (p) => sumOf(p.cin * p.kh * p.kw + 1),
  labConstants: [{ CO8: false }, { ACCUMULATE: true }],
  describe: fmtConv,
  ref: (r, w, p, c) => fwdRef(r, w, p, c, directTap),
});

/**
 * conv_transpose2d_fwd: y [n, cout, oh, ow] (+)= transposed conv of x [n, cin, h, w] with packed weights, begin pads
 * ph, pw (oy = iy*sh - ph + ky*dh), stride, dilation, output size given (shaders/conv2d_fwd.wgsl with TRANSPOSED).
 */
export const conv_transpose2d_fwd = variantOf(conv2d_fwd, {
  name: 'conv_transpose2d_fwd',
  shader: 'conv2d_fwd',
  family: 'conv_transpose2d_fwd',
  constants: { WG, HAS_BIAS: false, ACCUMULATE: false, CO8: true, TRANSPOSED: true },
  description: 'y (+)= transposed conv of x with packed weights (+ bias): conv2d_fwd.wgsl with TRANSPOSED',
  grid: (p, c) => grid1d(p.n * cdiv(p.cout, c.CO8 ? 8 : 4) * p.oh * p.sw * cdiv(cdiv(p.ow, p.sw), 4), c.WG as number),
  // Every input element meets every weight of its channel once.
  cost: (p, c) => ({
    flops: 2 * p.n * p.cin * p.h * p.w * p.cout * p.kh * p.kw,
    bytes: 4 * (p.n * p.cin * p.h * p.w + p.cin * p.kh * p.kw * p.cout + p.n * p.cout * p.oh * p.ow * (c.ACCUMULATE ? 2 : 1)),
  }),
  ref: (r, w, p, c) => fwdRef(r, w, p, c, transposedTap),
});

/** Output channels per invocation of the subgroup forward variants: 16 (CO16), 8 (CO8) or 4. */
const sgChannels = (c: Record<string, number | boolean>) => (c.CO16 ? 16 : c.CO8 ? 8 : 4);

/** Output columns per workgroup of the subgroup forward variants: WG lanes x 2 pixels (PX2), or 1. */
const sgColumns = (c: Record<string, number | boolean>) => (c.WG as number) * (c.PX2 ? 2 : 1);

/** The subgroup forward kernels' channel tiles and pixel counts the lab also checks (the ops pick CO16 / CO8 by cout, PX2 by ow). */
const SG_LAB_CONSTANTS: readonly Constants[] = [{ CO16: false }, { CO16: false, CO8: false }, { PX2: false }, { ACCUMULATE: true }];

/**
 * conv2d_fwd_sg: conv2d_fwd's contract for adapters with subgroups of >= 8 lanes (lavapipe): each lane loads the
 * weights of one of 8 input channels and the subgroup shares them with subgroupBroadcast; 2 pixels (1 when !PX2) x 16
 * (CO16), 8 (CO8) or 4 output channels per invocation; workgroups of WG = the subgroup size (see shaders/conv2d_fwd_sg.wgsl).
 */
export const conv2d_fwd_sg = variantOf(conv2d_fwd, {
  name: 'conv2d_fwd_sg',
  constants: { WG: 8, HAS_BIAS: false, ACCUMULATE: false, CO16: true, CO8: true, PX2: true, TRANSPOSED: false },
  description: 'conv2d_fwd with each weight loaded once per lane and shared by subgroupBroadcast (subgroups of >= 8 lanes)',
  grid: (p, c) => grid1d(p.n * cdiv(p.cout, sgChannels(c)) * p.oh * cdiv(p.ow, sgColumns(c)), 1),
  labConstants: SG_LAB_CONSTANTS,
});

/**
 * conv_transpose2d_fwd_sg: conv_transpose2d_fwd's contract with the weights shared through the subgroup, as
 * conv2d_fwd_sg (shaders/conv2d_fwd_sg.wgsl with TRANSPOSED).
 */
export const conv_transpose2d_fwd_sg = variantOf(conv_transpose2d_fwd, {
  name: 'conv_transpose2d_fwd_sg',
  shader: 'conv2d_fwd_sg',
  constants: { WG: 8, HAS_BIAS: false, ACCUMULATE: false, CO16: true, CO8: true, PX2: true, TRANSPOSED: true },
  description: 'conv_transpose2d_fwd with the weights shared through the subgroup: conv2d_fwd_sg.wgsl with TRANSPOSED',
  grid: (p, c) => grid1d(p.n * cdiv(p.cout, sgChannels(c)) * p.oh * p.sw * cdiv(cdiv(p.ow, p.sw), sgColumns(c)), 1),
  labConstants: SG_LAB_CONSTANTS,
});

/** Workgroups of a 2x2 stride-2 launch: channel blocks of CO x runs of WG column quads of the small grid. */
function k2s2Grid(p: FwdP, c: Constants, transposed: boolean): number[] {
  const quads = transposed ? (p.n * p.h * p.w) / 4 : (p.n * p.oh * p.ow) / 4;
  return grid1d(cdiv(p.cout, c.CO as number) * cdiv(quads, c.WG as number), 1);
}

/**
 * conv2d_fwd_k2s2: conv2d_fwd's contract for 2x2 taps at stride 2, no padding (the transposed up-conv's input
 * gradient): a GEMM per pixel over blocks of 2 input channels x 4 taps, x loaded and y stored as vec4, weights
 * shared through the subgroup; 4 output columns x CO output channels per invocation (shaders/conv2d_fwd_k2s2.wgsl; the launcher checks its
 * geometry and alignment assumptions).
 */
export const conv2d_fwd_k2s2 = variantOf(conv2d_fwd, {
  name: 'conv2d_fwd_k2s2',
  constants: { WG: 8, CO: 16, HAS_BIAS: false, ACCUMULATE: false, TRANSPOSED: false },
  description: 'conv2d_fwd for 2x2 taps at stride 2: x and y as vec4, 4 columns x CO channels per lane, weights by subgroupBroadcast',
  grid: (p, c) => k2s2Grid(p, c, false),
  labConstants: [{ CO: 4 }, { CO: 8 }, { CO: 32 }, { ACCUMULATE: true }],
});

/**
 * conv_transpose2d_fwd_k2s2: conv_transpose2d_fwd's contract for 2x2 taps at stride 2, no padding (the U-Net's
 * up-conv): each input quad's 4 taps x CO channels per invocation (conv2d_fwd_k2s2.wgsl with TRANSPOSED).
 */
export const conv_transpose2d_fwd_k2s2 = variantOf(conv_transpose2d_fwd, {
  name: 'conv_transpose2d_fwd_k2s2',
  shader: 'conv2d_fwd_k2s2',
  constants: { WG: 8, CO: 8, HAS_BIAS: false, ACCUMULATE: false, TRANSPOSED: true },
  description: 'conv_transpose2d_fwd for 2x2 taps at stride 2: conv2d_fwd_k2s2.wgsl with TRANSPOSED',
  grid: (p, c) => k2s2Grid(p, c, true),
  labConstants: [{ CO: 4 }, { ACCUMULATE: true }],
});

/** The tile constants of the tiled forward kernels: 4*TP pixels x 4*TC output channels per workgroup, BK-deep K steps. */
const TILED_FWD = { TP: 8, TC: 8, BK: 16 } as const;

/** Workgroups of a tiled forward launch: phases (sh x sw when transposed) x pixel tiles of a phase x channel tiles. */
function tiledFwdGrid(p: FwdP, c: Constants, transposed: boolean): number[] {
  const py = transposed ? p.sh : 1;
  const px = transposed ? p.sw : 1;
  const pixels = p.n * cdiv(p.oh, py) * cdiv(p.ow, px);
  return [Math.max(1, py * px * cdiv(pixels, 4 * (c.TP as number)) * cdiv(p.cout, 4 * (c.TC as number)))];
}

/**
 * conv2d_fwd_tiled: conv2d_fwd's contract as an implicit GEMM in workgroup tiles (output pixels x output channels,
 * K = taps x input channels staged in workgroup memory, 4x4 outputs per invocation): the layout a GPU wants (see
 * shaders/conv2d_fwd_tiled.wgsl). TC must be a multiple of 4.
 */
export const conv2d_fwd_tiled = variantOf(conv2d_fwd, {
  name: 'conv2d_fwd_tiled',
  constants: { ...TILED_FWD, HAS_BIAS: false, ACCUMULATE: false, TRANSPOSED: false },
  description: 'conv2d_fwd as an implicit GEMM in workgroup tiles of 4*TP pixels x 4*TC channels, 4x4 outputs per invocation',
  grid: (p, c) => tiledFwdGrid(p, c, false),
  // A GPU-sized tile (256 invocations, 64 x 64 outputs) and a shallow K step besides the default.
  labConstants: [{ TP: 16, TC: 16 }, { BK: 4, TC: 4 }, { ACCUMULATE: true }],
});

/** conv_transpose2d_fwd_tiled: conv_transpose2d_fwd's contract in conv2d_fwd_tiled's tiles, one output phase per tile. */
export const conv_transpose2d_fwd_tiled = variantOf(conv_transpose2d_fwd, {
  name: 'conv_transpose2d_fwd_tiled',
  shader: 'conv2d_fwd_tiled',
  constants: { ...TILED_FWD, HAS_BIAS: false, ACCUMULATE: false, TRANSPOSED: true },
  description: 'conv_transpose2d_fwd as an implicit GEMM in workgroup tiles: conv2d_fwd_tiled.wgsl with TRANSPOSED',
  grid: (p, c) => tiledFwdGrid(p, c, true),
  labConstants: [{ TP: 16, TC: 16 }, { BK: 4, TC: 4 }, { ACCUMULATE: true }],
});

/** Params of the weight-gradient kernels (see shaders/conv2d_bwd_weight.wgsl). */
const BWD_WEIGHT_PARAMS = {
  n: 'u32', a: 'u32', gh: 'u32', gw: 'u32', b: 'u32', xh: 'u32', xw: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'i32', pw: 'i32', dh: 'u32', dw: 'u32',
  g_off: 'u32', g_ns: 'u32', x_off: 'u32', x_ns: 'u32',
  rows: 'u32', nslices: 'u32', a_base: 'u32', b_base: 'u32', a_tot: 'u32', b_tot: 'u32',
} as const;

type BwdWeightP = Readonly<Record<keyof typeof BWD_WEIGHT_PARAMS, number>>;

const bwdWeightCost = (p: BwdWeightP) => ({
  flops: 2 * p.n * p.gh * p.gw * p.a * p.b * p.kh * p.kw,
  bytes: 4 * (p.n * p.a * p.gh * p.gw + p.n * p.b * p.xh * p.xw + p.nslices * p.a * p.b * p.kh * p.kw),
});

/** The weight-gradient contract both variants share (rows in order, columns in order, into 0). */
function bwdWeightRef({ g, x }: { g: NumArray; x: NumArray }, { part }: { part: NumArray }, p: BwdWeightP): void {
  const kk = p.kh * p.kw;
  const ghw = p.gh * p.gw;
  const xhw = p.xh * p.xw;
  for (let s = 0; s < p.nslices; s++) {
    const r0 = s * p.rows;
    const r1 = Math.min(p.n * p.gh, r0 + p.rows);
    for (let a = 0; a < p.a; a++) {
      for (let b = 0; b < p.b; b++) {
        for (let ky = 0; ky < p.kh; ky++) {
          for (let kx = 0; kx < p.kw; kx++) {
            let acc = 0;
            for (let r = r0; r < r1; r++) {
              const nn = Math.floor(r / p.gh);
              const oy = r % p.gh;
              const iy = oy * p.sh - p.ph + ky * p.dh;
              if (iy < 0 || iy >= p.xh) continue;
              const gr = p.g_off + nn * p.g_ns + a * ghw + oy * p.gw;
              const xr = p.x_off + nn * p.x_ns + b * xhw + iy * p.xw;
              for (let ox = 0; ox < p.gw; ox++) {
                const ix = ox * p.sw - p.pw + kx * p.dw;
                if (ix < 0 || ix >= p.xw) continue;
                acc += g[gr + ox]! * x[xr + ix]!;
              }
            }
            part[((s * p.a_tot + p.a_base + a) * p.b_tot + p.b_base + b) * kk + ky * p.kw + kx] = acc;
          }
        }
      }
    }
  }
}

/**
 * conv2d_bwd_weight: part [nslices, a_tot, b_tot, kh, kw] (this run's block) = per-slice sums over pixels of
 * g [n, a, gh, gw] * x [n, b, xh, xw] at the tap-shifted position (see shaders/conv2d_bwd_weight.wgsl). Portable.
 */
export const conv2d_bwd_weight = defineKernel({
  name: 'conv2d_bwd_weight',
  family: 'conv2d_bwd_weight',
  reads: { g: 'f32', x: 'f32' },
  writes: { part: 'f32' },
  params: BWD_WEIGHT_PARAMS,
  constants: { WG },
  description: 'per-slice weight-gradient sums over pixels of g * the tap-shifted x (portable: one invocation per 8 x 4 weights)',
  grid: (p, c) => grid1d(p.nslices * cdiv(p.a, 8) * p.kh * p.kw * cdiv(p.b, 4), c.WG as number),
  cost: bwdWeightCost,
  tolerance: (p) => sumOf(p.rows * p.gw),
  describe: (p) => `g ${p.n}x${p.a}x${p.gh}x${p.gw} * x ${p.b}x${p.xh}x${p.xw} k${p.kh}x${p.kw} s${p.sh} slices ${p.nslices}`,
  ref: (r, w, p) => bwdWeightRef(r, w, p),
});

/**
 * conv2d_bwd_weight_sg: the same contract for adapters with subgroups of 8 or 16 (lavapipe): lanes over x channels,
 * g pixels shared with subgroupBroadcast, the windows of x for blocks of up to 3x4 taps in registers (see
 * shaders/conv2d_bwd_weight_sg.wgsl). WG: a multiple of 8 (the subgroup size). PATH: 0 picks the shader path from the
 * params (valid for every launch); 1 (3x3, stride 1), 2 (1x1, stride 1), 3 (2x2, stride 2), all with column dilation
 * 1, compile only that path; 4 the general one (any geometry).
 */
export const conv2d_bwd_weight_sg = variantOf(conv2d_bwd_weight, {
  name: 'conv2d_bwd_weight_sg',
  constants: { WG: 8, PATH: 0 },
  // Its general path, valid for every geometry.
  labConstants: [{ PATH: 4 }],
  // Tap blocks of up to 3 rows x 4 columns.
  description: 'conv2d_bwd_weight with lanes over x channels and g pixels shared by subgroupBroadcast, tap blocks in registers',
  grid: (p, c) => [Math.max(1, p.nslices * cdiv(p.a, 8) * cdiv(p.kh, 3) * cdiv(p.kw, 4) * cdiv(p.b, c.WG as number))],
});

/**
 * conv2d_bwd_weight_k2s2: the same contract for 2x2 taps at stride 2, no padding (the up-conv's weight gradient): lanes
 * over x channels, AB (8 or 16) g channels shared by subgroupBroadcast, 4 g pixels and the 2 x 8 x values they meet
 * loaded as vec4 per lane (shaders/conv2d_bwd_weight_k2s2.wgsl; the launcher checks its geometry and alignment).
 */
export const conv2d_bwd_weight_k2s2 = variantOf(conv2d_bwd_weight, {
  name: 'conv2d_bwd_weight_k2s2',
  constants: { WG: 8, AB: 16 },
  labConstants: [{ AB: 8 }],
  description: 'conv2d_bwd_weight for 2x2 taps at stride 2: g and x as vec4, AB g channels by subgroupBroadcast, lanes over x channels',
  grid: (p, c) => [Math.max(1, p.nslices * cdiv(p.a, c.AB as number) * cdiv(p.b, c.WG as number))],
});

/**
 * conv2d_bwd_weight_few: the same contract for 3x3 taps at stride 1, dilation 1, where x has few channels (the
 * U-Net's 1-channel first layer): lanes over quads of 4 g pixels of the slice, 8 g channels x 9 taps of vec4
 * accumulators per lane, g and x as vec4, the lanes summed by subgroupAdd (shaders/conv2d_bwd_weight_few.wgsl; the
 * launcher checks its geometry and alignment). SHIFT = (-pw) mod 4.
 */
export const conv2d_bwd_weight_few = variantOf(conv2d_bwd_weight, {
  name: 'conv2d_bwd_weight_few',
  constants: { WG: 8, SHIFT: 3 },
  description: 'conv2d_bwd_weight for 3x3 stride 1 with few x channels: lanes over 4-pixel quads of g, vec4 loads, subgroupAdd',
  grid: (p, c) => grid1d(p.nslices * cdiv(p.a, 8) * p.b, 1),
});

/**
 * conv2d_bwd_weight_tiled: the same contract as a GEMM in workgroup tiles (g channels x (x channel, tap) columns,
 * K = the slice's pixels staged in workgroup memory, 4x4 partials per invocation; see
 * shaders/conv2d_bwd_weight_tiled.wgsl). TA*TB must be a multiple of BK.
 */
export const conv2d_bwd_weight_tiled = variantOf(conv2d_bwd_weight, {
  name: 'conv2d_bwd_weight_tiled',
  constants: { TA: 8, TB: 8, BK: 16 },
  description: 'conv2d_bwd_weight as a GEMM in workgroup tiles of 4*TA g channels x 4*TB (x channel, tap) columns',
  grid: (p, c) => [Math.max(1, p.nslices * cdiv(p.a, 4 * (c.TA as number)) * cdiv(p.b * p.kh * p.kw, 4 * (c.TB as number)))],
  labConstants: [{ TA: 16, TB: 16 }, { TA: 4, TB: 4 }],
});

/** conv_bwd_bias: part [nslices, c_tot] (this run's channels) = per-slice sums of g [n, c, h, w] over rows and columns. */
export const conv_bwd_bias = defineKernel({
  name: 'conv_bwd_bias',
  reads: { g: 'f32' },
  writes: { part: 'f32' },
  params: { n: 'u32', c: 'u32', h: 'u32', w: 'u32', g_off: 'u32', g_ns: 'u32', rows: 'u32', nslices: 'u32', c_base: 'u32', c_tot: 'u32' },
  constants: { WG },
  description: 'per-slice bias-gradient sums of g over rows and columns',
  grid: (p, c) => grid1d(p.nslices * p.c, c.WG as number),
  cost: (p) => ({ flops: p.n * p.c * p.h * p.w, bytes: 4 * (p.n * p.c * p.h * p.w + p.nslices * p.c) }),
  tolerance: (p) => sumOf(p.rows * p.w),
  describe: (p) => `${p.n}x${p.c}x${p.h}x${p.w} slices ${p.nslices}`,
  ref({ g }, { part }, p) {
    for (let s = 0; s < p.nslices; s++) {
      const r1 = Math.min(p.n * p.h, (s + 1) * p.rows);
      for (let ch = 0; ch < p.c; ch++) {
        let acc = 0;
        for (let r = s * p.rows; r < r1; r++) {
          const base = p.g_off + ch * p.h * p.w + Math.floor(r / p.h) * p.g_ns + (r % p.h) * p.w;
          for (let xx = 0; xx < p.w; xx++) acc += g[base + xx]!;
        }
        part[s * p.c_tot + p.c_base + ch] = acc;
      }
    }
  },
});

/**
 * conv_bwd_bias_vec4: conv_bwd_bias with g read as vec4 where w, g_off and g_ns are multiples of 4
 * (shaders/conv_bwd_bias_vec4.wgsl; 4 column phases summed apart, then added; the scalar kernel's reference, whose
 * float64 sum differs from either order only by rounding).
 */
export const conv_bwd_bias_vec4 = variantOf(conv_bwd_bias, {
  name: 'conv_bwd_bias_vec4',
  description: 'conv_bwd_bias with g as vec4 (w, g_off and g_ns multiples of 4)',
});

/** conv_partial_sum: out [m] (+)= sum over s of part [s, m], slices added in order (deterministic split reductions). */
export const conv_partial_sum = defineKernel({
  name: 'conv_partial_sum',
  reads: { part: 'f32' },
  writes: { out: 'f32' },
  params: { m: 'u32', s: 'u32' },
  constants: { WG, ACCUMULATE: false },
  description: 'out (+)= the sum of the slices of part, in order (deterministic split reductions)',
  grid: (p, c) => grid1d(p.m, c.WG as number),
  cost: (p, c) => ({ flops: p.m * p.s, bytes: 4 * (p.m * p.s + p.m * (c.ACCUMULATE ? 2 : 1)) }),
  tolerance: (p) => sumOf(p.s + 1),
  labConstants: [{ ACCUMULATE: true }],
  ref({ part }, { out }, p, c) {
    for (let i = 0; i < p.m; i++) {
      let acc = 0;
      for (let k = 0; k < p.s; k++) acc += part[k * p.m + i]!;
      out[i] = c.ACCUMULATE ? out[i]! + acc : acc;
    }
  },
});

/**
 * conv_weight_pack: out [nb*nc, rpad] = the transposes of w [nb][nr][nc], rows zero-padded to rpad (forward weight
 * layout); rpad a multiple of 4 (stored as vec4).
 */
export const conv_weight_pack = defineKernel({
  name: 'conv_weight_pack',
  reads: { w: 'f32' },
  writes: { out: 'f32' },
  params: { nb: 'u32', nr: 'u32', nc: 'u32', rpad: 'u32' },
  constants: { WG },
  description: 'packs weights into the forward layout: transposes of w blocks, rows zero-padded to a multiple of 4',
  grid: (p, c) => grid1d((p.nb * p.nc * p.rpad) / 4, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * (p.nb * p.nr * p.nc + p.nb * p.nc * p.rpad) }),
  tolerance: () => 'exact',
  ref({ w }, { out }, p) {
    for (let bb = 0; bb < p.nb; bb++) {
      for (let cc = 0; cc < p.nc; cc++) {
        for (let rr = 0; rr < p.rpad; rr++) {
          out[(bb * p.nc + cc) * p.rpad + rr] = rr < p.nr ? w[(bb * p.nr + rr) * p.nc + cc]! : 0;
        }
      }
    }
  },
});

/** The direct conv kernels (specs + CPU references); Winograd's are in winograd.ts. */
export const CONV_KERNELS = defineGroup('conv', {
  conv2d_fwd,
  conv2d_fwd_sg,
  conv_transpose2d_fwd,
  conv_transpose2d_fwd_sg,
  conv2d_fwd_k2s2,
  conv_transpose2d_fwd_k2s2,
  conv2d_fwd_tiled,
  conv_transpose2d_fwd_tiled,
  conv2d_bwd_weight,
  conv2d_bwd_weight_sg,
  conv2d_bwd_weight_k2s2,
  conv2d_bwd_weight_few,
  conv2d_bwd_weight_tiled,
  conv_bwd_bias,
  conv_bwd_bias_vec4,
  conv_partial_sum,
  conv_weight_pack,
} satisfies Record<string, KernelSpec>);
