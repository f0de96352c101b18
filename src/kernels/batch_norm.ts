import type { KernelSpec } from './define_kernel.js';

/** The batch_norm kernels (specs + CPU references). */
export const BATCH_NORM_KERNELS = {} satisfies Record<string, KernelSpec>;
