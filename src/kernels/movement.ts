import type { KernelSpec } from './define_kernel.js';

/** The movement kernels (specs + CPU references). */
export const MOVEMENT_KERNELS = {} satisfies Record<string, KernelSpec>;
