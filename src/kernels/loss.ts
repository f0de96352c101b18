import type { KernelSpec } from './define_kernel.js';

/** The loss kernels (specs + CPU references). */
export const LOSS_KERNELS = {} satisfies Record<string, KernelSpec>;
