import type { Backend } from './backend.js';
import { defineGroup, defineKernel, grid1d, sumOf, variantOf, type Constants, type KernelSpec } from './define_kernel.js';
import type { KernelPolicy } from './policy.js';
import { matmulBucket, tunedChoice } from './tuning.js';

/**
 * matmul: c [batch, M, N] (+)= op(a) · op(b), op = transpose when ta / tb is 1 (a stored [K, M], b stored [N, K]);
 * sa / sb are the batch strides of a and b (0: shared by every batch), oa / ob / oc the residuals of windowed
 * bindings, acc = 1 adds to c (split-K launches).
 */
export const matmul = defineKernel({
  name: 'matmul',
  family: 'matmul',
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

/** Output tiles of matmul_tiled (rows x cols per workgroup). */
export const MATMUL_TILE = 32;

/**
 * matmul_tiled: the same contract, in 32x32 output tiles staged through workgroup memory (16-deep K steps, 4x4
 * outputs per invocation): the layout a GPU wants. Sums in k order as matmul.
 */
export const matmul_tiled = variantOf(matmul, {
  name: 'matmul_tiled',
  constants: {},
  description: 'matmul in 32x32 output tiles staged through workgroup memory, 4x4 outputs per invocation',
  grid: (p) => [Math.max(1, p.batch * Math.ceil(p.m / MATMUL_TILE) * Math.ceil(p.n / MATMUL_TILE))],
});

/** Invocations of the 4x4-block kernels: one per 4x4 block of c. */
const blocks4 = (p: { batch: number; m: number; n: number }, c: Constants) => grid1d(p.batch * Math.ceil(p.m / 4) * Math.ceil(p.n / 4), c.WG as number);

/** matmul_reg: a 4x4 block of outputs per invocation in registers, operands read from memory (any sizes). */
export const matmul_reg = variantOf(matmul, {
  name: 'matmul_reg',
  description: 'matmul with a 4x4 block of outputs per invocation in registers, operands read from memory',
  grid: blocks4,
});

/**
 * matmul_vec4: matmul_reg with a and b read as vec4 along their contiguous dims (TA / TB constants equal to ta / tb):
 * needs those dims, oa / ob and the batch strides multiples of 4 (matmulVec4Fits).
 */
export const matmul_vec4 = variantOf(matmul, {
  name: 'matmul_vec4',
  constants: { WG: 64, TA: false, TB: false },
  description: 'matmul_reg with a and b read as vec4 along their contiguous dims (multiples of 4)',
  grid: blocks4,
});

/** Whether matmul_vec4 can run a launch: the contiguous dims of a and b, their residuals and batch strides, multiples of 4. */
export function matmulVec4Fits(p: { m: number; n: number; k: number; ta: number; tb: number; oa: number; ob: number }): boolean {
  const aIn = p.ta ? p.m : p.k;
  const bIn = p.tb ? p.k : p.n;
  return aIn % 4 === 0 && bIn % 4 === 0 && p.oa % 4 === 0 && p.ob % 4 === 0;
}

/** The matmul kernels: one source group. */
export const MATMUL_KERNELS = defineGroup('matmul', { matmul, matmul_tiled, matmul_reg, matmul_vec4 });

/** The policy's matmul choice for one launch: under 'auto', the device's tuning table's choice for its bucket when measured. */
export function matmulChoice(dev: Backend, p: { m: number; n: number; k: number; ta: number; tb: number; oa: number; ob: number }): KernelPolicy['matmul'] {
  const choice = dev.policy.matmul;
  if (choice !== 'auto') return choice;
  return (tunedChoice(dev, matmulBucket(p, matmulVec4Fits(p))) as KernelPolicy['matmul'] | null) ?? 'auto';
}

/**
 * The kernel and constants for one launch under the device policy's choice. 'auto' is 'vec4' (matmul_vec4 where the
 * contiguous dims fit, matmul_reg elsewhere): on lavapipe 3-4x the portable kernel's GFLOP/s, and the tiled kernel
 * (workgroup memory and barriers) half of reg's (bench/README "matmul").
 */
export function matmulKernelFor(choice: KernelPolicy['matmul'], p: { m: number; n: number; k: number; ta: number; tb: number; oa: number; ob: number }): { spec: KernelSpec; constants: Constants } {
  if (choice === 'portable') return { spec: matmul, constants: {} };
  if (choice === 'tiled') return { spec: matmul_tiled, constants: {} };
  if (choice !== 'reg' && matmulVec4Fits(p)) return { spec: matmul_vec4, constants: { TA: !!p.ta, TB: !!p.tb } };
  return { spec: matmul_reg, constants: {} };
}
