import type { KernelSpec } from './define_kernel.js';

/** The optim kernels (specs + CPU references). */
export const OPTIM_KERNELS = {} satisfies Record<string, KernelSpec>;
