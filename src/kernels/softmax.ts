import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, grid1d, sumOf, type Constants, type KernelSpec, type Tolerance } from './define_kernel.js';

// Softmax and log-softmax along one dim: one row per invocation, or for rows longer than one binding, plane by plane
// with online statistics (which cross-entropy's plane path shares). Every binding may be a window of a bigger tensor:
// kernels address global indices minus the window's start (`base`, `off` params).

const WG = 64;

const LOWEST = -3.4028234663852886e38;

/** Sums over the class dim (D, or an unknown count of planes: taken as 1024), with exp / log. */
const softmaxTol = (d = 0): Tolerance => sumOf(Math.max(d, 1024), true);

/** Cross-entropy and Dice take class-index targets as i32 or as f32 holding integers: one variant each. */
export type IndexTarget = 'i32' | 'f32';

/** lib/class_target.wgsl's CLASS_INVALID: the class of an f32 target that is no integer (never a class, never an ignore index). */
export const CLASS_INVALID = -(2 ** 31);

/**
 * The class index a target element holds (i32 storage, or f32 that should hold an integer; see lib/class_target.wgsl):
 * CLASS_INVALID for an f32 value that is no integer (1.5, NaN, Inf) or outside the i32 range.
 */
export const classOf = (v: number, f32: boolean) => (!f32 ? v : Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? v : CLASS_INVALID);

/** The first index of row r of x viewed as [outer, D, inner] (its D elements lie `inner` apart) in a window from `base`. */
export function rowStart(r: number, D: number, inner: number, base: number): number {
  const o = Math.floor(r / inner);
  return o * D * inner + (r - o * inner) - base;
}

/** The max m and the sum s of exp(x - m) of the D elements of a row from `start`, `inner` apart (log-sum-exp: m + log s). */
export function maxSumExp(x: NumArray, start: number, D: number, inner: number): [number, number] {
  let m = LOWEST;
  for (let d = 0; d < D; d++) m = Math.max(m, x[start + d * inner]!);
  let s = 0;
  for (let d = 0; d < D; d++) s += Math.exp(x[start + d * inner]! - m);
  return [m, s];
}

/** Rows of [outer, D, inner] along D, one per invocation: the geometry softmax_fwd and softmax_bwd share. */
const ROWS_PARAMS = { rows: 'u32', row0: 'u32', D: 'u32', inner: 'u32', base: 'u32' } as const;
type RowsP = Readonly<Record<keyof typeof ROWS_PARAMS, number>>;
const ROWS = {
  params: ROWS_PARAMS,
  constants: { WG, LOG: false },
  grid: (p: RowsP, c: Constants) => grid1d(p.rows, c.WG as number),
  tolerance: (p: RowsP) => softmaxTol(p.D),
} as const;

/**
 * softmax_fwd: y = softmax (LOG false) / log_softmax (LOG true) of x viewed as [outer, D, inner] along D, rows
 * [row0, row0 + rows) of this launch; x and y are windows starting at global element `base` (shaders/softmax_fwd.wgsl).
 */
export const softmax_fwd = defineKernel({
  name: 'softmax_fwd',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  ...ROWS,
  description: 'softmax (or log_softmax with LOG) of x viewed as [outer, D, inner] along D, one row per invocation',
  cost: (p) => ({ flops: 5 * p.rows * p.D, bytes: 8 * p.rows * p.D }),
  ref({ x }, { y }, p, c) {
    for (let l = 0; l < p.rows; l++) {
      const start = rowStart(p.row0 + l, p.D, p.inner, p.base);
      const [m, s] = maxSumExp(x, start, p.D, p.inner);
      const shift = m + Math.log(s);
      for (let d = 0; d < p.D; d++) {
        const k = start + d * p.inner;
        y[k] = c.LOG ? x[k]! - shift : Math.exp(x[k]! - m) / s;
      }
    }
  },
});

/** softmax_bwd: gx = y * (g - sum g y) (softmax) or g - exp(y) * sum g (LOG); geometry as softmax_fwd. */
export const softmax_bwd = defineKernel({
  name: 'softmax_bwd',
  reads: { y: 'f32', g: 'f32' },
  writes: { gx: 'f32' },
  ...ROWS,
  description: 'gx = y * (g - sum g y) (softmax) or g - exp(y) * sum g (LOG), one row per invocation',
  cost: (p) => ({ flops: 4 * p.rows * p.D, bytes: 12 * p.rows * p.D }),
  ref({ y, g }, { gx }, p, c) {
    for (let l = 0; l < p.rows; l++) {
      const start = rowStart(p.row0 + l, p.D, p.inner, p.base);
      let s = 0;
      for (let d = 0; d < p.D; d++) {
        const k = start + d * p.inner;
        s += c.LOG ? g[k]! : g[k]! * y[k]!;
      }
      for (let d = 0; d < p.D; d++) {
        const k = start + d * p.inner;
        gx[k] = c.LOG ? g[k]! - Math.exp(y[k]!) * s : y[k]! * (g[k]! - s);
      }
    }
  },
});

// ---- plane-wise softmax for rows longer than one binding (online statistics, one plane per launch) ----

function planeStats(name: string, tdt: IndexTarget) {
  return defineKernel({
    name,
    shader: 'softmax_plane_stats',
    family: 'softmax_plane_stats',
    reads: { x: 'f32', tgt: tdt },
    writes: { st: 'f32' },
    inPlace: ['st'],
    params: { np: 'u32', xoff: 'u32', toff: 'u32', d: 'u32', first: 'u32' },
    constants: { WG, GATHER: false, TGT_F32: tdt === 'f32' },
    description: `online softmax statistics (max, sum of exp; GATHER: the target's logit) over one class plane${tdt === 'f32' ? ', f32 class indices' : ''}`,
    grid: (p, c) => grid1d(p.np, c.WG as number),
    cost: (p, c) => ({ flops: 5 * p.np, bytes: 4 * p.np * (c.GATHER ? 8 : 7) }),
    tolerance: () => softmaxTol(),
    ref({ x, tgt }, { st }, p, c) {
      for (let k = 0; k < p.np; k++) {
        const v = x[p.xoff + k]!;
        if (p.first) {
          st[k] = v;
          st[p.np + k] = 1;
        } else {
          const m2 = Math.max(st[k]!, v);
          st[p.np + k] = st[p.np + k]! * Math.exp(st[k]! - m2) + Math.exp(v - m2);
          st[k] = m2;
        }
        if (c.GATHER) {
          if (classOf(tgt[p.toff + k]!, !!c.TGT_F32) === p.d) st[2 * p.np + k] = v;
          else if (p.first) st[2 * p.np + k] = 0;
        }
      }
    },
  });
}

/** softmax_plane_apply: y = exp(x - m) / s (or x - m - log s with LOG) of one plane of a chunk, from its statistics. */
export const softmax_plane_apply = defineKernel({
  name: 'softmax_plane_apply',
  reads: { x: 'f32', st: 'f32' },
  writes: { y: 'f32' },
  params: { np: 'u32', off: 'u32' },
  constants: { WG, LOG: false },
  description: 'y = exp(x - m) / s (or x - m - log s with LOG) of one class plane from its statistics',
  grid: (p, c) => grid1d(p.np, c.WG as number),
  cost: (p) => ({ flops: 3 * p.np, bytes: 16 * p.np }),
  tolerance: () => softmaxTol(),
  ref({ x, st }, { y }, p, c) {
    for (let k = 0; k < p.np; k++) {
      const v = x[p.off + k]!;
      y[p.off + k] = c.LOG ? v - (st[k]! + Math.log(st[p.np + k]!)) : Math.exp(v - st[k]!) / st[p.np + k]!;
    }
  },
});

/** softmax_plane_dot: acc (=, first plane / +=) g * y (or g with LOG) of one plane of a chunk. */
export const softmax_plane_dot = defineKernel({
  name: 'softmax_plane_dot',
  reads: { y: 'f32', g: 'f32' },
  writes: { acc: 'f32' },
  inPlace: ['acc'],
  params: { np: 'u32', off: 'u32', first: 'u32' },
  constants: { WG, LOG: false },
  description: 'acc (=, first plane / +=) g * y (or g with LOG) of one class plane: the softmax backward sum',
  grid: (p, c) => grid1d(p.np, c.WG as number),
  cost: (p) => ({ flops: 2 * p.np, bytes: 16 * p.np }),
  tolerance: () => softmaxTol(),
  ref({ y, g }, { acc }, p, c) {
    for (let k = 0; k < p.np; k++) {
      const v = c.LOG ? g[p.off + k]! : g[p.off + k]! * y[p.off + k]!;
      acc[k] = p.first ? v : acc[k]! + v;
    }
  },
});

/** softmax_plane_bwd: gx = y * (g - acc) (or g - exp(y) * acc with LOG) of one plane of a chunk. */
export const softmax_plane_bwd = defineKernel({
  name: 'softmax_plane_bwd',
  reads: { y: 'f32', g: 'f32', acc: 'f32' },
  writes: { gx: 'f32' },
  params: { np: 'u32', off: 'u32' },
  constants: { WG, LOG: false },
  description: 'gx = y * (g - acc) (or g - exp(y) * acc with LOG) of one class plane',
  grid: (p, c) => grid1d(p.np, c.WG as number),
  cost: (p) => ({ flops: 3 * p.np, bytes: 16 * p.np }),
  tolerance: () => softmaxTol(),
  ref({ y, g, acc }, { gx }, p, c) {
    for (let k = 0; k < p.np; k++) {
      const i = p.off + k;
      gx[i] = c.LOG ? g[i]! - Math.exp(y[i]!) * acc[k]! : y[i]! * (g[i]! - acc[k]!);
    }
  },
});

export const softmax_plane_stats = planeStats('softmax_plane_stats', 'i32');
export const softmax_plane_stats_f32_index = planeStats('softmax_plane_stats_f32_index', 'f32');

/** The softmax kernels (specs + CPU references). */
export const SOFTMAX_KERNELS = defineGroup('softmax', {
  softmax_fwd,
  softmax_bwd,
  softmax_plane_stats,
  softmax_plane_stats_f32_index,
  softmax_plane_apply,
  softmax_plane_dot,
  softmax_plane_bwd,
} satisfies Record<string, KernelSpec>);
