import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, grid1d, variantOf, type KernelSpec } from './define_kernel.js';

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

/** Whether maxpool2d_bwd_k2s2 computes this pooling (2x2 windows, stride 2, no padding, no dilation). */
export const isK2S2 = (p: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number }) =>
  p.kh === 2 && p.kw === 2 && p.sh === 2 && p.sw === 2 && p.ph === 0 && p.pw === 0 && p.dh === 1 && p.dw === 1;

/** The pool kernels (specs + CPU references). */
export const POOL_KERNELS = defineGroup('pool', { maxpool2d_fwd, maxpool2d_bwd, maxpool2d_bwd_k2s2 } satisfies Record<string, KernelSpec>);
