import { defineGroup, defineKernel, grid1d, sumOf } from './define_kernel.js';

/**
 * matmul: c [batch, M, N] (+)= op(a) · op(b), op = transpose when ta / tb is 1 (a stored [K, M], b stored [N, K]);
 * sa / sb are the batch strides of a and b (0: shared by every batch), oa / ob / oc the residuals of windowed
 * bindings, acc = 1 adds to c (split-K launches).
 */
export const matmul = defineKernel({
  name: 'matmul',
  reads: { a: 'f32', b: 'f32' },
  writes: { c: 'f32' },
  params: { m: 'u32', n: 'u32', k: 'u32', ta: 'u32', tb: 'u32', batch: 'u32', sa: 'u32', sb: 'u32', oa: 'u32', ob: 'u32', oc: 'u32', acc: 'u32' },
  constants: { WG: 64 },
  description: 'c [B, M, N] (+)= op(a) op(b), op a transpose when ta / tb; batched, windowed, split-K accumulate',
  grid: (p, c) => grid1d(p.batch * p.m * p.n, c.WG as number),
  cost: (p) => ({
    flops: 2 * p.batch * p.m * p.n * p.k,
    bytes: 4 * ((p.sa ? p.batch : 1) * p.m * p.k + (p.sb ? p.batch : 1) * p.k * p.n + (p.acc ? 2 : 1) * p.batch * p.m * p.n),
  }),
  tolerance: (p) => sumOf(p.k),
  ref({ a, b }, { c }, p) {
    const { m, n, k } = p;
    for (let bi = 0; bi < p.batch; bi++) {
      const a0 = p.oa + bi * p.sa;
      const b0 = p.ob + bi * p.sb;
      for (let row = 0; row < m; row++) {
        for (let col = 0; col < n; col++) {
          let acc = 0;
          for (let q = 0; q < k; q++) {
            const av = p.ta ? a[a0 + q * m + row]! : a[a0 + row * k + q]!;
            const bv = p.tb ? b[b0 + col * k + q]! : b[b0 + q * n + col]!;
            acc += av * bv;
          }
          const o = p.oc + (bi * m + row) * n + col;
          c[o] = p.acc ? c[o]! + acc : acc;
        }
      }
    }
  },
  describe: (p) => `${p.batch}x[${p.m}, ${p.k}]x[${p.k}, ${p.n}]${p.ta ? ' aT' : ''}${p.tb ? ' bT' : ''}${p.acc ? ' +=' : ''}`,
});

/** The matmul kernel: one source group. */
export const MATMUL_KERNELS = defineGroup('matmul', { matmul });
