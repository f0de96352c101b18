import { defineGroup, defineKernel, grid1d, sumOf, type KernelSpec } from './define_kernel.js';

const f32 = Math.fround;

/** Multiply-adds per invocation and iteration of lab_peak_fma: 6 vec4 or 12 f32 chains, 4 steps each. */
export const FMA_PER_ITER = { vec4: 6 * 4 * 4, scalar: 12 * 4 } as const;

/** One step of a chain as lavapipe runs fma(): a product rounded to f32, then a rounded sum (a fused FMA differs in the last bit). */
const step = (a: number, m: number, c: number) => f32(f32(a * m) + c);

/**
 * lab_peak_fma: y[i] = sum over independent multiply-add chains seeded by x[i] after `iters` x 4 steps a = a*m + c
 * (shaders/lab_peak_fma.wgsl). The kernel lab's arithmetic peak probe; VEC4 picks vec4 or f32 chains.
 */
export const lab_peak_fma = defineKernel({
  name: 'lab_peak_fma',
  family: 'lab',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: { n: 'u32', iters: 'u32', m: 'f32', c: 'f32' },
  constants: { WG: 64, VEC4: true },
  description: "the kernel lab's arithmetic peak probe: independent multiply-add chains per element (VEC4: vec4 chains)",
  grid: (p, c) => grid1d(p.n, c.WG as number),
  ref({ x }, { y }, p, c) {
    const m = f32(p.m);
    const cc = f32(p.c);
    const chains = c.VEC4 ? 24 : 12;
    const a = new Array<number>(chains);
    for (let i = 0; i < p.n; i++) {
      const s = f32(x[i]!);
      // Chain k of the f32 form starts at s + k/8; lane j of vec4 chain k at s + (4k + j)/32: one list, in lane order.
      for (let k = 0; k < chains; k++) a[k] = f32(s + (c.VEC4 ? k * 0.03125 : k * 0.125));
      for (let it = 0; it < p.iters; it++) {
        for (let k = 0; k < chains; k++) a[k] = step(step(step(step(a[k]!, m, cc), m, cc), m, cc), m, cc);
      }
      let sum = 0;
      if (c.VEC4) {
        for (let k = 0; k < chains; k += 4) {
          const lanes = f32(f32(f32(a[k]! + a[k + 1]!) + a[k + 2]!) + a[k + 3]!);
          sum = k === 0 ? lanes : f32(sum + lanes);
        }
      } else {
        sum = a[0]!;
        for (let k = 1; k < chains; k++) sum = f32(sum + a[k]!);
      }
      y[i] = sum;
    }
  },
  cost: (p, c) => ({
    flops: 2 * p.n * p.iters * (c.VEC4 ? FMA_PER_ITER.vec4 : FMA_PER_ITER.scalar),
    bytes: 8 * p.n,
  }),
  tolerance: () => sumOf(24),
  labConstants: [{ VEC4: false }],
});

/** lab_peak_copy: y[i] = x[i] for n4 vec4s (shaders/lab_peak_copy.wgsl). The kernel lab's memory bandwidth probe. */
export const lab_peak_copy = defineKernel({
  name: 'lab_peak_copy',
  family: 'lab',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: { n4: 'u32' },
  constants: { WG: 256 },
  description: "the kernel lab's bandwidth probe: y = x, one vec4 per invocation",
  grid: (p, c) => grid1d(p.n4, c.WG as number),
  ref({ x }, { y }, p) {
    for (let i = 0; i < 4 * p.n4; i++) y[i] = x[i]!;
  },
  cost: (p) => ({ flops: 0, bytes: 32 * p.n4 }),
  tolerance: () => 'exact',
});

/** The kernel lab's probes (specs + CPU references). */
export const LAB_KERNELS = defineGroup('lab', { lab_peak_fma, lab_peak_copy } satisfies Record<string, KernelSpec>);
