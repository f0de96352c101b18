import type { KernelSpec } from './define_kernel.js';

/** The pool kernels (specs + CPU references). */
export const POOL_KERNELS = {} satisfies Record<string, KernelSpec>;
