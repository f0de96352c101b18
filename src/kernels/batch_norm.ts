import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, ELEMENTWISE, grid1d, sumOf, variantOf, type Constants, type KernelSpec } from './define_kernel.js';

/** Params of the per-chunk reduction kernels: one box of items x channels, its chunks and their place in `part`. */
export const BN_REDUCE_PARAMS = {
  nwork: 'u32', nk: 'u32', chunk: 'u32', mtot: 'u32', hw: 'u32', chw: 'u32', c0: 'u32', ktot: 'u32', kbase: 'u32', xo: 'u32',
} as const;

type BnReduceP = Readonly<Record<keyof typeof BN_REDUCE_PARAMS, number>>;

/** Element of channel `cl` (box-relative), sequence position m: see shaders/batchnorm2d_stats.wgsl. */
const at = (p: BnReduceP, cl: number, m: number) => {
  const n = Math.floor(m / p.hw);
  return p.xo + cl * p.hw + n * p.chw + (m - n * p.hw);
};

/** The per-chunk (count, mean, M2) contract both batchnorm2d_stats variants share (corrected two-pass). */
function statsRef({ x }: { x: NumArray }, { part }: { part: NumArray }, p: BnReduceP): void {
  for (let wk = 0; wk < p.nwork; wk++) {
    const cl = Math.floor(wk / p.nk);
    const k = wk % p.nk;
    const m0 = k * p.chunk;
    const m1 = Math.min(p.mtot, m0 + p.chunk);
    const cnt = m1 - m0;
    let s = 0;
    for (let m = m0; m < m1; m++) s += x[at(p, cl, m)]!;
    const mean1 = s / cnt;
    let sd = 0;
    let q = 0;
    for (let m = m0; m < m1; m++) {
      const d = x[at(p, cl, m)]! - mean1;
      sd += d;
      q += d * d;
    }
    const o = 3 * ((p.c0 + cl) * p.ktot + p.kbase + k);
    part[o] = cnt;
    part[o + 1] = mean1 + sd / cnt;
    part[o + 2] = q - (sd * sd) / cnt;
  }
}

/** The chunked geometry the two per-chunk reductions share: one invocation per (box channel, chunk), two passes each. */
const BN_CHUNKED = {
  params: BN_REDUCE_PARAMS,
  grid: (p: BnReduceP, k: Constants) => grid1d(p.nwork, k.WG as number),
  tolerance: (p: BnReduceP) => sumOf(p.chunk * 2),
} as const;

const statsCost = (p: BnReduceP) => ({ flops: 4 * (p.nwork / p.nk) * p.mtot, bytes: 4 * ((p.nwork / p.nk) * p.mtot + 3 * p.nwork) });

/**
 * batchnorm2d_stats: per (box channel, chunk) of x [N, C, HW], part[3 * (c * ktot + kbase + k) + {0, 1, 2}] =
 * (count, mean, M2) of the chunk by the corrected two-pass algorithm (see the shader). Portable.
 */
export const batchnorm2d_stats = defineKernel({
  name: 'batchnorm2d_stats',
  family: 'batchnorm2d_stats',
  reads: { x: 'f32' },
  writes: { part: 'f32' },
  ...BN_CHUNKED,
  constants: { WG: 64 },
  description: 'per (channel, chunk) of x [N, C, HW]: (count, mean, M2) by the corrected two-pass algorithm',
  cost: statsCost,
  ref: statsRef,
});

/** batchnorm2d_stats with x read as vec4: needs HW, chunk and xo multiples of 4 (the op checks, useVec4 in src/tensor/ops/batch_norm.ts). */
export const batchnorm2d_stats_vec4 = variantOf(batchnorm2d_stats, {
  name: 'batchnorm2d_stats_vec4',
  description: 'batchnorm2d_stats with x read as vec4 (HW, chunk and xo multiples of 4)',
});

/**
 * batchnorm2d_finalize: per channel, mean and invstd [C] for normalising. TRAINING: from the ktot chunk partials
 * (biased variance; mean = r + sum n_k (mean_k - r) / M with r the first chunk's mean, then
 * M2 = sum M2_k + n_k (mean_k - mean)^2), and with UPDATE the running statistics updated in place (unbiased variance, momentum);
 * !TRAINING: from the running statistics (part unread).
 */
export const batchnorm2d_finalize = defineKernel<'part', 'mean' | 'invstd' | 'rmean' | 'rvar', 'c' | 'ktot' | 'eps' | 'momentum'>({
  name: 'batchnorm2d_finalize',
  reads: { part: 'f32' },
  writes: { mean: 'f32', invstd: 'f32', rmean: 'f32', rvar: 'f32' },
  inPlace: ['rmean', 'rvar'],
  params: { c: 'u32', ktot: 'u32', eps: 'f32', momentum: 'f32' },
  constants: { WG: 64, TRAINING: true, UPDATE: true },
  description: 'per channel mean and invstd from the chunk partials (TRAINING; UPDATE: running statistics in place) or the running statistics',
  grid: (p, k) => grid1d(p.c, k.WG as number),
  cost: (p, k) => ({
    flops: p.c * (k.TRAINING ? 10 * p.ktot : 2),
    bytes: 4 * p.c * (k.TRAINING ? 3 * p.ktot + 2 + (k.UPDATE ? 4 : 0) : 4),
  }),
  tolerance: (p) => sumOf(p.ktot * 2),
  ref({ part }, { mean, invstd, rmean, rvar }, p, k) {
    for (let c = 0; c < p.c; c++) {
      if (!k.TRAINING) {
        mean[c] = rmean[c]!;
        invstd[c] = 1 / Math.sqrt(rvar[c]! + p.eps);
        continue;
      }
      // The shader's two passes: mean from the differences to the first chunk's mean, then M2 around it.
      const row = 3 * c * p.ktot;
      let r = 0;
      for (let j = 0; j < p.ktot; j++) {
        if (part[row + 3 * j]! > 0) {
          r = part[row + 3 * j + 1]!;
          break;
        }
      }
      let n = 0;
      let sd = 0;
      for (let j = 0; j < p.ktot; j++) {
        n += part[row + 3 * j]!;
        sd += part[row + 3 * j]! * (part[row + 3 * j + 1]! - r);
      }
      const mu = r + sd / n;
      let m2 = 0;
      for (let j = 0; j < p.ktot; j++) m2 += part[row + 3 * j + 2]! + part[row + 3 * j]! * (part[row + 3 * j + 1]! - mu) ** 2;
      mean[c] = mu;
      invstd[c] = 1 / Math.sqrt(m2 / n + p.eps);
      if (k.UPDATE) {
        rmean[c] = (1 - p.momentum) * rmean[c]! + p.momentum * mu;
        rvar[c] = (1 - p.momentum) * rvar[c]! + p.momentum * (m2 / (n - 1));
      }
    }
  },
});

/** Per-channel scale and shift of the forward: y = (x - mean) * scale + shift (then max(., 0) with RELU). */
const BN_APPLY_CONSTANTS = { HAS_W: true, HAS_B: true, RELU: false } as const;

type FwdP = { n: number; base: number; hw: number; c: number };

/** The forward contract both batchnorm2d_fwd variants share, element by element over [base, base + n). */
function fwdRef({ x, mean, invstd, weight, bias }: Record<'x' | 'mean' | 'invstd' | 'weight' | 'bias', NumArray>, { y }: { y: NumArray }, p: FwdP, k: Constants): void {
  for (let i = 0; i < p.n; i++) {
    const c = Math.floor((p.base + i) / p.hw) % p.c;
    const s = k.HAS_W ? invstd[c]! * weight[c]! : invstd[c]!;
    let v = (x[i]! - mean[c]!) * s;
    if (k.HAS_B) v += bias[c]!;
    y[i] = k.RELU && v <= 0 ? 0 : v; // NaN stays NaN (PyTorch's relu)
  }
}

const fwdCost = (p: FwdP, k: Constants) => ({ flops: (2 + (k.HAS_B ? 1 : 0) + (k.RELU ? 1 : 0)) * p.n, bytes: 4 * (2 * p.n + 4 * p.c) });

/**
 * batchnorm2d_fwd: y = (x - mean[c]) * invstd[c] * weight[c] + bias[c] over a flat range [base, base + n) of
 * [N, C, HW]; RELU: y = max(that, 0) (batchNormRelu). Portable: one invocation per element.
 */
export const batchnorm2d_fwd = defineKernel({
  name: 'batchnorm2d_fwd',
  family: 'batchnorm2d_fwd',
  reads: { x: 'f32', mean: 'f32', invstd: 'f32', weight: 'f32', bias: 'f32' },
  writes: { y: 'f32' },
  params: { n: 'u32', base: 'u32', hw: 'u32', c: 'u32' },
  constants: { WG: 256, ...BN_APPLY_CONSTANTS },
  description: 'y = (x - mean[c]) * invstd[c] * weight[c] + bias[c] (RELU: then max(., 0)), one invocation per element',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: fwdCost,
  tolerance: () => ELEMENTWISE,
  ref: fwdRef,
});

/**
 * Runs of RUN vec4s inside one plane covering the flat range [base, base + n) of planes of hw elements (hw % 4 == 0):
 * the grid-shaping params of the *_vec4 elementwise kernels (q0: the range's first plane, rpp: runs per plane).
 */
export function bnRuns(base: number, n: number, hw: number, run: number): { q0: number; rpp: number; nruns: number } {
  const q0 = Math.floor(base / hw);
  const q1 = Math.floor((base + Math.max(n, 1) - 1) / hw);
  const rpp = Math.ceil(hw / 4 / run);
  return { q0, rpp, nruns: (q1 - q0 + 1) * rpp };
}

/**
 * batchnorm2d_fwd with x and y as vec4, a run of RUN vec4s of one plane per invocation (channel values loaded
 * once per run): needs HW % 4 == 0; params add bnRuns(base, n, hw, RUN).
 */
export const batchnorm2d_fwd_vec4 = variantOf(batchnorm2d_fwd, {
  name: 'batchnorm2d_fwd_vec4',
  params: { n: 'u32', base: 'u32', hw: 'u32', c: 'u32', q0: 'u32', rpp: 'u32', nruns: 'u32' },
  constants: { WG: 64, RUN: 4, ...BN_APPLY_CONSTANTS },
  description: 'batchnorm2d_fwd on vec4s, a run of RUN vec4s of one plane per invocation (HW % 4 == 0)',
  grid: (p, c) => grid1d(p.nruns, c.WG as number),
});

/** The (sum dz, sum dz * (x - mean)) contract both batchnorm2d_bwd_reduce variants share. */
function bwdReduceRef(
  { x, g, mean, invstd, weight, bias }: Record<'x' | 'g' | 'mean' | 'invstd' | 'weight' | 'bias', NumArray>,
  { part }: { part: NumArray },
  p: BnReduceP,
  k: Constants,
): void {
  for (let wk = 0; wk < p.nwork; wk++) {
    const cl = Math.floor(wk / p.nk);
    const kk = wk % p.nk;
    const c = p.c0 + cl;
    const sc = k.HAS_W ? invstd[c]! * weight[c]! : invstd[c]!;
    let sg = 0;
    let sgx = 0;
    for (let m = kk * p.chunk; m < Math.min(p.mtot, (kk + 1) * p.chunk); m++) {
      const e = at(p, cl, m);
      let gv = g[e]!;
      if (k.RELU) {
        let z = (x[e]! - mean[c]!) * sc;
        if (k.HAS_B) z += bias[c]!;
        if (z <= 0) gv = 0; // NaN passes g (PyTorch's threshold_backward)
      }
      sg += gv;
      sgx += gv * (x[e]! - mean[c]!);
    }
    const o = 2 * (c * p.ktot + p.kbase + kk);
    part[o] = sg;
    part[o + 1] = sgx;
  }
}

const bwdReduceCost = (p: BnReduceP) => ({ flops: 4 * (p.nwork / p.nk) * p.mtot, bytes: 4 * (2 * (p.nwork / p.nk) * p.mtot + 2 * p.nwork) });

/**
 * batchnorm2d_bwd_reduce: per (box channel, chunk), part[2 * (c * ktot + kbase + k) + {0, 1}] =
 * (sum dz, sum dz * (x - mean[c])), dz = g, or with RELU g masked by the recomputed z > 0 (invstd / weight / bias
 * only read with RELU); boxes and chunks as batchnorm2d_stats. Portable.
 */
export const batchnorm2d_bwd_reduce = defineKernel({
  name: 'batchnorm2d_bwd_reduce',
  family: 'batchnorm2d_bwd_reduce',
  reads: { x: 'f32', g: 'f32', mean: 'f32', invstd: 'f32', weight: 'f32', bias: 'f32' },
  writes: { part: 'f32' },
  ...BN_CHUNKED,
  constants: { WG: 64, ...BN_APPLY_CONSTANTS },
  description: 'per (channel, chunk): (sum dz, sum dz * (x - mean)), dz = g (RELU: masked by the recomputed z > 0)',
  cost: bwdReduceCost,
  ref: bwdReduceRef,
});

/** batchnorm2d_bwd_reduce with x and g read as vec4: needs HW, chunk and xo multiples of 4 (the op checks, useVec4 in src/tensor/ops/batch_norm.ts). */
export const batchnorm2d_bwd_reduce_vec4 = variantOf(batchnorm2d_bwd_reduce, {
  name: 'batchnorm2d_bwd_reduce_vec4',
  description: 'batchnorm2d_bwd_reduce with x and g read as vec4 (HW, chunk and xo multiples of 4)',
});

/** batchnorm2d_bwd_finalize: dbias[c] = sum g, dweight[c] = invstd[c] * sum g * (x - mean), from the ktot partials. */
export const batchnorm2d_bwd_finalize = defineKernel({
  name: 'batchnorm2d_bwd_finalize',
  reads: { part: 'f32', invstd: 'f32' },
  writes: { dweight: 'f32', dbias: 'f32' },
  params: { c: 'u32', ktot: 'u32' },
  constants: { WG: 64 },
  description: 'dbias[c] = sum g, dweight[c] = invstd[c] * sum g * (x - mean), from the chunk partials',
  grid: (p, k) => grid1d(p.c, k.WG as number),
  cost: (p) => ({ flops: p.c * (2 * p.ktot + 1), bytes: 4 * p.c * (2 * p.ktot + 3) }),
  tolerance: (p) => sumOf(p.ktot * 2),
  ref({ part, invstd }, { dweight, dbias }, p) {
    for (let c = 0; c < p.c; c++) {
      let sg = 0;
      let sgx = 0;
      for (let k = 0; k < p.ktot; k++) {
        sg += part[2 * (c * p.ktot + k)]!;
        sgx += part[2 * (c * p.ktot + k) + 1]!;
      }
      dbias[c] = sg;
      dweight[c] = sgx * invstd[c]!;
    }
  },
});

type DxP = { n: number; base: number; hw: number; c: number; inv_m: number };
type DxReads = 'x' | 'g' | 'mean' | 'invstd' | 'weight' | 'bias' | 'sum_gxhat' | 'sum_g';

/** The dx contract both batchnorm2d_bwd_dx variants share, element by element over [base, base + n). */
function dxRef({ x, g, mean, invstd, weight, bias, sum_gxhat, sum_g }: Record<DxReads, NumArray>, { dx }: { dx: NumArray }, p: DxP, k: Constants): void {
  for (let i = 0; i < p.n; i++) {
    const c = Math.floor((p.base + i) / p.hw) % p.c;
    const s = k.HAS_W ? invstd[c]! * weight[c]! : invstd[c]!;
    let gv = g[i]!;
    if (k.RELU) {
      let z = (x[i]! - mean[c]!) * s;
      if (k.HAS_B) z += bias[c]!;
      if (z <= 0) gv = 0; // NaN passes g (PyTorch's threshold_backward)
    }
    if (k.TRAINING) {
      const xhat = (x[i]! - mean[c]!) * invstd[c]!;
      dx[i] = s * (gv - sum_g[c]! * p.inv_m - xhat * (sum_gxhat[c]! * p.inv_m));
    } else {
      dx[i] = s * gv;
    }
  }
}

const dxCost = (p: DxP, k: Constants) => ({ flops: (k.TRAINING ? 8 : 1) * p.n, bytes: 4 * ((k.TRAINING || k.RELU ? 3 : 2) * p.n + 6 * p.c) });

const DX_READS = { x: 'f32', g: 'f32', mean: 'f32', invstd: 'f32', weight: 'f32', bias: 'f32', sum_gxhat: 'f32', sum_g: 'f32' } as const;

/**
 * batchnorm2d_bwd_dx over a flat range [base, base + n) of [N, C, HW], with dz = g (or with RELU g masked by the
 * recomputed z > 0): TRAINING dx = w * invstd * (dz - sum_g / M - xhat * sum_gxhat / M) (inv_m = 1 / M);
 * !TRAINING dx = w * invstd * dz. Portable: one invocation per element.
 */
export const batchnorm2d_bwd_dx = defineKernel({
  name: 'batchnorm2d_bwd_dx',
  family: 'batchnorm2d_bwd_dx',
  reads: DX_READS,
  writes: { dx: 'f32' },
  params: { n: 'u32', base: 'u32', hw: 'u32', c: 'u32', inv_m: 'f32' },
  constants: { WG: 256, TRAINING: true, ...BN_APPLY_CONSTANTS },
  description: 'dx from g and the reduced sums (TRAINING) or w * invstd * g (eval), RELU-masked, one invocation per element',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: dxCost,
  tolerance: () => ELEMENTWISE,
  ref: dxRef,
});

/** batchnorm2d_bwd_dx with x, g, dx as vec4 and runs as batchnorm2d_fwd_vec4: needs HW % 4 == 0. */
export const batchnorm2d_bwd_dx_vec4 = variantOf(batchnorm2d_bwd_dx, {
  name: 'batchnorm2d_bwd_dx_vec4',
  params: { n: 'u32', base: 'u32', hw: 'u32', c: 'u32', inv_m: 'f32', q0: 'u32', rpp: 'u32', nruns: 'u32' },
  constants: { WG: 64, RUN: 4, TRAINING: true, ...BN_APPLY_CONSTANTS },
  description: 'batchnorm2d_bwd_dx on vec4s in runs as batchnorm2d_fwd_vec4 (HW % 4 == 0)',
  grid: (p, c) => grid1d(p.nruns, c.WG as number),
});

/** The batch_norm kernels (specs + CPU references). */
export const BATCH_NORM_KERNELS = defineGroup('batch_norm', {
  batchnorm2d_stats,
  batchnorm2d_stats_vec4,
  batchnorm2d_finalize,
  batchnorm2d_fwd,
  batchnorm2d_fwd_vec4,
  batchnorm2d_bwd_reduce,
  batchnorm2d_bwd_reduce_vec4,
  batchnorm2d_bwd_finalize,
  batchnorm2d_bwd_dx,
  batchnorm2d_bwd_dx_vec4,
} satisfies Record<string, KernelSpec>);
