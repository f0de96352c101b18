import type { KernelSpec } from './define_kernel.js';

/** The conv kernels (specs + CPU references). */
export const CONV_KERNELS = {} satisfies Record<string, KernelSpec>;
