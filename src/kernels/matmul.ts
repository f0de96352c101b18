import { defineGroup, defineKernel, grid1d, sumOf } from './define_kernel.js';

/** matmul: c [M, N] = op(a) · op(b), op = transpose when ta / tb is 1 (a stored [K, M], b stored [N, K]). */
export const matmul = defineKernel({
  name: 'matmul',
  reads: { a: 'f32', b: 'f32' },
  writes: { c: 'f32' },
  params: { m: 'u32', n: 'u32', k: 'u32', ta: 'u32', tb: 'u32' },
  constants: { WG: 64 },
  description: 'c [M, N] = op(a) op(b), op a transpose when ta / tb',
  grid: (p, c) => grid1d(p.m * p.n, c.WG as number),
  cost: (p) => ({ flops: 2 * p.m * p.n * p.k, bytes: 4 * (p.m * p.k + p.k * p.n + p.m * p.n) }),
  tolerance: (p) => sumOf(p.k),
  ref({ a, b }, { c }, p) {
    const { m, n, k } = p;
    for (let row = 0; row < m; row++) {
      for (let col = 0; col < n; col++) {
        let acc = 0;
        for (let q = 0; q < k; q++) {
          const av = p.ta ? a[q * m + row]! : a[row * k + q]!;
          const bv = p.tb ? b[col * k + q]! : b[q * n + col]!;
          acc += av * bv;
        }
        c[row * n + col] = acc;
      }
    }
  },
});

/** The matmul kernel: one source group. */
export const MATMUL_KERNELS = defineGroup('matmul', { matmul });
