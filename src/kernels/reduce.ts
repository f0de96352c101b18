import { defineGroup, defineKernel, grid1d, sumOf } from './define_kernel.js';

export const REDUCE_PARAMS = {
  total: 'u32', nchunks: 'u32', chunk: 'u32', r: 'u32', scale: 'f32',
  k1: 'u32', k2: 'u32', k3: 'u32', k4: 'u32', k5: 'u32',
  ks0: 'u32', ks1: 'u32', ks2: 'u32', ks3: 'u32', ks4: 'u32', ks5: 'u32',
  r1: 'u32', r2: 'u32', r3: 'u32', r4: 'u32', r5: 'u32',
  rs0: 'u32', rs1: 'u32', rs2: 'u32', rs3: 'u32', rs4: 'u32', rs5: 'u32',
} as const;

/** OP override: 0 = sum, 1 = max. */
export const REDUCE_OPS = { sum: 0, max: 1 } as const;

/**
 * reduce: y[o * nchunks + s] = scale * OP over chunk s of the reduced index space of x (see shaders/reduce.wgsl).
 * x: the input with kept dims k0..k5 and reduced dims r0..r5 (sizes and element strides, leading dims implied).
 */
export const reduce = defineKernel({
  name: 'reduce',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: REDUCE_PARAMS,
  constants: { WG: 64, OP: 0 },
  description: 'y = scale * sum or max over chunks of the reduced dims of a strided x (kept dims k, reduced dims r)',
  grid: (p, c) => grid1d(p.total, c.WG as number),
  cost: (p) => ({ flops: (p.total / Math.max(1, p.nchunks)) * p.r, bytes: 4 * ((p.total / Math.max(1, p.nchunks)) * p.r + p.total) }),
  tolerance: (p) => sumOf(p.chunk),
  ref({ x }, { y }, p, c) {
    const kd = [0, p.k1, p.k2, p.k3, p.k4, p.k5];
    const ks = [p.ks0, p.ks1, p.ks2, p.ks3, p.ks4, p.ks5];
    const rd = [0, p.r1, p.r2, p.r3, p.r4, p.r5];
    const rs = [p.rs0, p.rs1, p.rs2, p.rs3, p.rs4, p.rs5];
    const isMax = c.OP === 1;
    const decompose = (v: number, d: number[], s: number[]) => {
      let off = 0;
      for (let k = 5; k >= 1; k--) {
        off += (v % d[k]!) * s[k]!;
        v = Math.floor(v / d[k]!);
      }
      return off + v * s[0]!;
    };
    for (let i = 0; i < p.total; i++) {
      const s = i % p.nchunks;
      const base = decompose(Math.floor(i / p.nchunks), kd, ks);
      const j1 = Math.min(p.r, (s + 1) * p.chunk);
      let acc = isMax ? -3.4028234663852886e38 : 0;
      for (let j = s * p.chunk; j < j1; j++) {
        const v = x[base + decompose(j, rd, rs)]!;
        acc = isMax ? Math.max(acc, v) : acc + v;
      }
      y[i] = acc * p.scale;
    }
  },
});

/** The reduce kernel: one source group. */
export const REDUCE_KERNELS = defineGroup('reduce', { reduce });
