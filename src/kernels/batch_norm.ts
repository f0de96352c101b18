import { defineKernel, grid1d, type KernelSpec } from './define_kernel.js';

/** Params of the per-chunk reduction kernels: one box of items x channels, its chunks and their place in `part`. */
export const BN_REDUCE_PARAMS = {
  nwork: 'u32', nk: 'u32', chunk: 'u32', mtot: 'u32', hw: 'u32', chw: 'u32', c0: 'u32', ktot: 'u32', kbase: 'u32', xo: 'u32',
} as const;

/** Element of channel `cl` (box-relative), sequence position m: see shaders/batchnorm2d_stats.wgsl. */
const at = (p: Readonly<Record<string, number>>, cl: number, m: number) => {
  const n = Math.floor(m / p.hw!);
  return p.xo! + cl * p.hw! + n * p.chw! + (m - n * p.hw!);
};

/**
 * batchnorm2d_stats: per (box channel, chunk) of x [N, C, HW], part[3 * (c * ktot + kbase + k) + {0, 1, 2}] =
 * (count, mean, M2) of the chunk, the mean first and then the squares around it (see the shader).
 */
export const batchnorm2d_stats = defineKernel({
  name: 'batchnorm2d_stats',
  reads: { x: 'f32' },
  writes: { part: 'f32' },
  params: BN_REDUCE_PARAMS,
  constants: { WG: 64 },
  grid: (p) => grid1d(p.nwork, 1),
  cost: (p) => ({ flops: 4 * (p.nwork / p.nk) * p.mtot, bytes: 4 * ((p.nwork / p.nk) * p.mtot + 3 * p.nwork) }),
  ref({ x }, { part }, p) {
    for (let wk = 0; wk < p.nwork; wk++) {
      const cl = Math.floor(wk / p.nk);
      const k = wk % p.nk;
      const m0 = k * p.chunk;
      const m1 = Math.min(p.mtot, m0 + p.chunk);
      let s = 0;
      for (let m = m0; m < m1; m++) s += x[at(p, cl, m)]!;
      const mean = s / (m1 - m0);
      let q = 0;
      for (let m = m0; m < m1; m++) q += (x[at(p, cl, m)]! - mean) ** 2;
      const o = 3 * ((p.c0 + cl) * p.ktot + p.kbase + k);
      part[o] = m1 - m0;
      part[o + 1] = mean;
      part[o + 2] = q;
    }
  },
});

/**
 * batchnorm2d_finalize: per channel, mean and invstd [C] for normalising. TRAINING: from the ktot chunk partials
 * (biased variance), and with UPDATE the running statistics updated in place (unbiased variance, momentum);
 * !TRAINING: from the running statistics (part unread).
 */
export const batchnorm2d_finalize = defineKernel<'part', 'mean' | 'invstd' | 'rmean' | 'rvar', 'c' | 'ktot' | 'eps' | 'momentum'>({
  name: 'batchnorm2d_finalize',
  reads: { part: 'f32' },
  writes: { mean: 'f32', invstd: 'f32', rmean: 'f32', rvar: 'f32' },
  inPlace: ['rmean', 'rvar'],
  params: { c: 'u32', ktot: 'u32', eps: 'f32', momentum: 'f32' },
  constants: { WG: 64, TRAINING: true, UPDATE: true },
  grid: (p) => grid1d(p.c, 1),
  cost: (p, k) => ({
    flops: p.c * (k.TRAINING ? 10 * p.ktot : 2),
    bytes: 4 * p.c * (k.TRAINING ? 3 * p.ktot + 2 + (k.UPDATE ? 4 : 0) : 4),
  }),
  ref({ part }, { mean, invstd, rmean, rvar }, p, k) {
    for (let c = 0; c < p.c; c++) {
      if (!k.TRAINING) {
        mean[c] = rmean[c]!;
        invstd[c] = 1 / Math.sqrt(rvar[c]! + p.eps);
        continue;
      }
      // Chan et al.'s pairwise merge, in partial order.
      let n = 0;
      let mu = 0;
      let m2 = 0;
      for (let j = 0; j < p.ktot; j++) {
        const o = 3 * (c * p.ktot + j);
        const nb = part[o]!;
        if (nb === 0) continue;
        const tot = n + nb;
        const d = part[o + 1]! - mu;
        mu += (d * nb) / tot;
        m2 += part[o + 2]! + (d * d * n * nb) / tot;
        n = tot;
      }
      mean[c] = mu;
      invstd[c] = 1 / Math.sqrt(m2 / n + p.eps);
      if (k.UPDATE) {
        rmean[c] = (1 - p.momentum) * rmean[c]! + p.momentum * mu;
        rvar[c] = (1 - p.momentum) * rvar[c]! + p.momentum * (m2 / (n - 1));
      }
    }
  },
});

/** batchnorm2d_fwd: y = (x - mean[c]) * invstd[c] * weight[c] + bias[c] over a flat range [base, base + n) of [N, C, HW]. */
export const batchnorm2d_fwd = defineKernel({
  name: 'batchnorm2d_fwd',
  reads: { x: 'f32', mean: 'f32', invstd: 'f32', weight: 'f32', bias: 'f32' },
  writes: { y: 'f32' },
  params: { n: 'u32', base: 'u32', hw: 'u32', c: 'u32' },
  constants: { WG: 256, HAS_W: true, HAS_B: true },
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p, k) => ({ flops: (k.HAS_B ? 3 : 2) * p.n, bytes: 4 * (2 * p.n + 4 * p.c) }),
  ref({ x, mean, invstd, weight, bias }, { y }, p, k) {
    for (let i = 0; i < p.n; i++) {
      const c = Math.floor((p.base + i) / p.hw) % p.c;
      const s = k.HAS_W ? invstd[c]! * weight[c]! : invstd[c]!;
      const v = (x[i]! - mean[c]!) * s;
      y[i] = k.HAS_B ? v + bias[c]! : v;
    }
  },
});

/**
 * batchnorm2d_bwd_reduce: per (box channel, chunk), part[2 * (c * ktot + kbase + k) + {0, 1}] =
 * (sum g, sum g * (x - mean[c])); boxes and chunks as batchnorm2d_stats.
 */
export const batchnorm2d_bwd_reduce = defineKernel({
  name: 'batchnorm2d_bwd_reduce',
  reads: { x: 'f32', g: 'f32', mean: 'f32' },
  writes: { part: 'f32' },
  params: BN_REDUCE_PARAMS,
  constants: { WG: 64 },
  grid: (p) => grid1d(p.nwork, 1),
  cost: (p) => ({ flops: 4 * (p.nwork / p.nk) * p.mtot, bytes: 4 * (2 * (p.nwork / p.nk) * p.mtot + 2 * p.nwork) }),
  ref({ x, g, mean }, { part }, p) {
    for (let wk = 0; wk < p.nwork; wk++) {
      const cl = Math.floor(wk / p.nk);
      const k = wk % p.nk;
      const c = p.c0 + cl;
      let sg = 0;
      let sgx = 0;
      for (let m = k * p.chunk; m < Math.min(p.mtot, (k + 1) * p.chunk); m++) {
        const e = at(p, cl, m);
        sg += g[e]!;
        sgx += g[e]! * (x[e]! - mean[c]!);
      }
      const o = 2 * (c * p.ktot + p.kbase + k);
      part[o] = sg;
      part[o + 1] = sgx;
    }
  },
});

/** batchnorm2d_bwd_finalize: dbias[c] = sum g, dweight[c] = invstd[c] * sum g * (x - mean), from the ktot partials. */
export const batchnorm2d_bwd_finalize = defineKernel({
  name: 'batchnorm2d_bwd_finalize',
  reads: { part: 'f32', invstd: 'f32' },
  writes: { dweight: 'f32', dbias: 'f32' },
  params: { c: 'u32', ktot: 'u32' },
  constants: { WG: 64 },
  grid: (p) => grid1d(p.c, 1),
  cost: (p) => ({ flops: p.c * (2 * p.ktot + 1), bytes: 4 * p.c * (2 * p.ktot + 3) }),
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

/**
 * batchnorm2d_bwd_dx over a flat range [base, base + n) of [N, C, HW]: TRAINING
 * dx = w * invstd * (g - sum_g / M - xhat * sum_gxhat / M) (inv_m = 1 / M); !TRAINING dx = w * invstd * g.
 */
export const batchnorm2d_bwd_dx = defineKernel({
  name: 'batchnorm2d_bwd_dx',
  reads: { x: 'f32', g: 'f32', mean: 'f32', invstd: 'f32', weight: 'f32', sum_gxhat: 'f32', sum_g: 'f32' },
  writes: { dx: 'f32' },
  params: { n: 'u32', base: 'u32', hw: 'u32', c: 'u32', inv_m: 'f32' },
  constants: { WG: 256, TRAINING: true, HAS_W: true },
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p, k) => ({ flops: (k.TRAINING ? 8 : 1) * p.n, bytes: 4 * ((k.TRAINING ? 3 : 2) * p.n + 6 * p.c) }),
  ref({ x, g, mean, invstd, weight, sum_gxhat, sum_g }, { dx }, p, k) {
    for (let i = 0; i < p.n; i++) {
      const c = Math.floor((p.base + i) / p.hw) % p.c;
      const s = k.HAS_W ? invstd[c]! * weight[c]! : invstd[c]!;
      if (k.TRAINING) {
        const xhat = (x[i]! - mean[c]!) * invstd[c]!;
        dx[i] = s * (g[i]! - sum_g[c]! * p.inv_m - xhat * (sum_gxhat[c]! * p.inv_m));
      } else {
        dx[i] = s * g[i]!;
      }
    }
  },
});

/** The batch_norm kernels (specs + CPU references). */
export const BATCH_NORM_KERNELS = {
  batchnorm2d_stats,
  batchnorm2d_finalize,
  batchnorm2d_fwd,
  batchnorm2d_bwd_reduce,
  batchnorm2d_bwd_finalize,
  batchnorm2d_bwd_dx,
} satisfies Record<string, KernelSpec>;
