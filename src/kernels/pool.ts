import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, grid1d, isK2S2, sumOf, variantOf, type KernelSpec } from './define_kernel.js';

/** Shared params of the maxpool2d kernels: geometry of one plane, window, and the block's residual offsets. */
export const MAXPOOL2D_PARAMS = {
  total: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', dh: 'u32', dw: 'u32',
  xo: 'u32', yo: 'u32',
} as const;

const isNaN32 = (v: number) => v !== v;

/**
 * maxpool2d_fwd: y, idx [planes, OH, OW] from x [planes, H, W] (see shaders/maxpool2d_fwd.wgsl). idx is the flat
 * index within the plane (ih * W + iw), ties keep the first in (kh, kw) scan order, NaN wins; padding never wins
 * (a window with no in-bounds element, possible only when the dilation skips a tiny input: -inf, index -1).
 * `total` = planes * OH * OW of this block; xo / yo: residual offsets of the block in the x and y/idx windows.
 */
export const maxpool2d_fwd = defineKernel({
  name: 'maxpool2d_fwd',
  reads: { x: 'f32' },
  writes: { y: 'f32', idx: 'i32' },
  params: MAXPOOL2D_PARAMS,
  constants: { WG: 64, INDICES: true },
  description: 'y, idx [planes, OH, OW] = max and its flat argmax over windows of x [planes, H, W] (INDICES: write idx)',
  grid: (p, c) => grid1d(p.total, c.WG as number),
  cost: (p, c) => ({ flops: p.total * p.kh * p.kw, bytes: 4 * ((p.total / (p.oh * p.ow)) * p.h * p.w + (c.INDICES ? 2 : 1) * p.total) }),
  tolerance: () => 'exact',
  labConstants: [{ INDICES: false }],
  ref({ x }, { y, idx }, p, c) {
    const ohw = p.oh * p.ow;
    for (let i = 0; i < p.total; i++) {
      const q = Math.floor(i / ohw);
      const oy = Math.floor((i % ohw) / p.ow);
      const ox = i % p.ow;
      const plane = p.xo + q * p.h * p.w;
      let m = 0;
      let mi = -1;
      for (let a = 0; a < p.kh; a++) {
        const iy = oy * p.sh - p.ph + a * p.dh;
        if (iy < 0 || iy >= p.h) continue;
        for (let b = 0; b < p.kw; b++) {
          const ix = ox * p.sw - p.pw + b * p.dw;
          if (ix < 0 || ix >= p.w) continue;
          const v = x[plane + iy * p.w + ix]!;
          if (mi < 0 || v > m || isNaN32(v)) {
            m = v;
            mi = iy * p.w + ix;
          }
        }
      }
      y[p.yo + i] = mi < 0 ? -Infinity : m;
      if (c.INDICES) idx[p.yo + i] = mi;
    }
  },
});

/**
 * maxpool2d_fwd_k2s2: maxpool2d_fwd for 2x2 stride-2 windows without padding or dilation on rows a multiple of 8
 * wide: one invocation per 4 outputs of a row, x, y and idx as vec4 (shaders/maxpool2d_fwd_k2s2.wgsl).
 */
export const maxpool2d_fwd_k2s2 = variantOf(maxpool2d_fwd, {
  name: 'maxpool2d_fwd_k2s2',
  description: 'maxpool2d_fwd for 2x2 stride-2 windows on rows a multiple of 8 wide: 4 outputs per invocation, x, y and idx as vec4',
  grid: (p, c) => grid1d(p.total / 4, c.WG as number),
});

/** Whether maxpool2d_fwd_k2s2 computes this pooling: 2x2 stride 2 without padding or dilation (isK2S2), rows a multiple of 8 wide. */
export const fwdK2S2Fits = (p: Parameters<typeof isK2S2>[0] & { w: number }) => isK2S2(p) && p.w % 8 === 0;

const bwdCost = (p: Readonly<Record<keyof typeof MAXPOOL2D_PARAMS, number>>) => ({
  flops: (p.total / (p.h * p.w)) * p.oh * p.ow,
  bytes: 4 * (2 * (p.total / (p.h * p.w)) * p.oh * p.ow + p.total),
});

/** The backward contract both maxpool2d_bwd variants share: a scatter-add of gy at the saved indices, in output order. */
function bwdRef({ idx, gy }: { idx: NumArray; gy: NumArray }, { gx }: { gx: NumArray }, p: Readonly<Record<keyof typeof MAXPOOL2D_PARAMS, number>>): void {
  const hw = p.h * p.w;
  const ohw = p.oh * p.ow;
  const planes = Math.floor(p.total / hw);
  gx.fill(0, p.xo, p.xo + p.total);
  for (let q = 0; q < planes; q++) {
    for (let o = 0; o < ohw; o++) {
      const j = idx[p.yo + q * ohw + o]!;
      gx[p.xo + q * hw + j] = gx[p.xo + q * hw + j]! + gy[p.yo + q * ohw + o]!;
    }
  }
}

/**
 * maxpool2d_bwd: gx [planes, H, W] = scatter-add of gy [planes, OH, OW] at the saved flat indices (the reference
 * scatters in output order, PyTorch's CPU order; the shader gathers in the same order: the same floats).
 * `total` = planes * H * W of this block; xo: residual offset in the gx window, yo: in the idx / gy windows. Portable.
 */
export const maxpool2d_bwd = defineKernel({
  name: 'maxpool2d_bwd',
  family: 'maxpool2d_bwd',
  reads: { idx: 'i32', gy: 'f32' },
  writes: { gx: 'f32' },
  params: MAXPOOL2D_PARAMS,
  constants: { WG: 64 },
  description: 'gx [planes, H, W] = scatter-add of gy at the saved argmax indices, in output order (a gather per input element)',
  grid: (p, c) => grid1d(p.total, c.WG as number),
  cost: bwdCost,
  // Each gx element sums its gy values in the reference's order.
  tolerance: () => 'exact',
  ref: bwdRef,
});

/**
 * maxpool2d_bwd for kernel 2x2, stride 2, no padding, dilation 1 (the U-Net's pool; floor or ceil mode): one
 * invocation per 2x2 cell of the input, which writes gy at the argmax and 0 elsewhere (windows never overlap).
 */
export const maxpool2d_bwd_k2s2 = variantOf(maxpool2d_bwd, {
  name: 'maxpool2d_bwd_k2s2',
  description: 'maxpool2d_bwd for 2x2 stride-2 windows: one invocation per 2x2 input cell writes gy at the argmax, 0 elsewhere',
  grid: (p, c) => grid1d((p.total / (p.h * p.w)) * Math.ceil(p.h / 2) * Math.ceil(p.w / 2), c.WG as number),
});

/**
 * Shared params of the avgpool2d kernels (shaders/lib/avgpool2d_window.wgsl): plane and window geometry, divisor
 * (divisor_override; 0: none), count_pad (1: count_include_pad), and the block's residual offsets xo / yo.
 */
export const AVGPOOL2D_PARAMS = {
  total: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32',
  divisor: 'i32', count_pad: 'u32', xo: 'u32', yo: 'u32',
} as const;

type AvgP = Readonly<Record<keyof typeof AVGPOOL2D_PARAMS, number>>;

/**
 * The window of output (oy, ox) (PyTorch's AvgPoolKernel): rows [y0, y1) x columns [x0, x1) in bounds, and its
 * divisor: the override, else the area cut at the far padding edge (count_pad) or the in-bounds count.
 */
function avgWindow(p: AvgP, oy: number, ox: number): { y0: number; y1: number; x0: number; x1: number; div: number } {
  const hs = oy * p.sh - p.ph;
  const ws = ox * p.sw - p.pw;
  const he = Math.min(hs + p.kh, p.h + p.ph);
  const we = Math.min(ws + p.kw, p.w + p.pw);
  const y0 = Math.max(hs, 0);
  const x0 = Math.max(ws, 0);
  const y1 = Math.min(he, p.h);
  const x1 = Math.min(we, p.w);
  const div = p.divisor !== 0 ? p.divisor : p.count_pad ? (he - hs) * (we - ws) : (y1 - y0) * (x1 - x0);
  return { y0, y1, x0, x1, div };
}

/**
 * avgpool2d_fwd: y [planes, OH, OW] = mean of x [planes, H, W] over each window (see shaders/avgpool2d_fwd.wgsl):
 * padding adds nothing and counts per count_pad / divisor; a window with no in-bounds element gives 0.
 * `total` = planes * OH * OW of this block; xo / yo: residual offsets of the block in the x and y windows.
 */
export const avgpool2d_fwd = defineKernel({
  name: 'avgpool2d_fwd',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: AVGPOOL2D_PARAMS,
  constants: { WG: 64 },
  description: 'y [planes, OH, OW] = sum of x [planes, H, W] over each window / divisor (count_include_pad, divisor_override)',
  grid: (p, c) => grid1d(p.total, c.WG as number),
  cost: (p) => ({ flops: p.total * p.kh * p.kw, bytes: 4 * ((p.total / (p.oh * p.ow)) * p.h * p.w + p.total) }),
  tolerance: (p) => sumOf(p.kh * p.kw),
  ref({ x }, { y }, p) {
    const ohw = p.oh * p.ow;
    for (let i = 0; i < p.total; i++) {
      const q = Math.floor(i / ohw);
      const oy = Math.floor((i % ohw) / p.ow);
      const ox = i % p.ow;
      const { y0, y1, x0, x1, div } = avgWindow(p, oy, ox);
      const plane = p.xo + q * p.h * p.w;
      let s = 0;
      for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += x[plane + iy * p.w + ix]!;
      y[p.yo + i] = y0 < y1 && x0 < x1 ? s / div : 0;
    }
  },
});

/**
 * avgpool2d_bwd: gx [planes, H, W] = sum of gy [planes, OH, OW] / divisor over the windows that hold each element (the
 * reference scatters in output order, PyTorch's CPU order; the shader gathers in that order). `total` = planes * H * W
 * of this block; xo: residual offset in the gx window, yo: in the gy window.
 */
export const avgpool2d_bwd = defineKernel({
  name: 'avgpool2d_bwd',
  reads: { gy: 'f32' },
  writes: { gx: 'f32' },
  params: AVGPOOL2D_PARAMS,
  constants: { WG: 64 },
  description: 'gx [planes, H, W] = sum of gy / divisor over the windows holding each element (a gather per input element)',
  grid: (p, c) => grid1d(p.total, c.WG as number),
  cost: (p) => ({ flops: p.total * Math.ceil(p.kh / p.sh) * Math.ceil(p.kw / p.sw), bytes: 4 * (2 * p.total + (p.total / (p.h * p.w)) * p.oh * p.ow) }),
  tolerance: (p) => sumOf(Math.ceil(p.kh / p.sh) * Math.ceil(p.kw / p.sw)),
  ref({ gy }, { gx }, p) {
    const hw = p.h * p.w;
    const ohw = p.oh * p.ow;
    gx.fill(0, p.xo, p.xo + p.total);
    for (let q = 0; q < Math.floor(p.total / hw); q++) {
      for (let o = 0; o < ohw; o++) {
        const { y0, y1, x0, x1, div } = avgWindow(p, Math.floor(o / p.ow), o % p.ow);
        const g = gy[p.yo + q * ohw + o]! / div;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) gx[p.xo + q * hw + iy * p.w + ix]! += g;
      }
    }
  },
});

/** The pool kernels (specs + CPU references). */
export const POOL_KERNELS = defineGroup('pool', { maxpool2d_fwd, maxpool2d_fwd_k2s2, maxpool2d_bwd, maxpool2d_bwd_k2s2, avgpool2d_fwd, avgpool2d_bwd } satisfies Record<string, KernelSpec>);
