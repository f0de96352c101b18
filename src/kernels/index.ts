import type { KernelSpec } from './define_kernel.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { MATMUL_KERNELS } from './matmul.js';
import { REDUCE_KERNELS } from './reduce.js';
import { CONV_KERNELS } from './conv.js';
import { WINOGRAD_KERNELS } from './winograd.js';
import { POOL_KERNELS } from './pool.js';
import { BATCH_NORM_KERNELS } from './batch_norm.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { SOFTMAX_KERNELS } from './softmax.js';
import { LOSS_KERNELS } from './loss.js';
import { OPTIM_KERNELS } from './optim.js';
import { LAB_KERNELS } from './lab.js';

/**
 * Every kernel by name: the merge of the source groups (each src/kernels/<group>.ts stamps its group on its specs).
 * Several kernels may share one shader file (the elementwise tables); a test checks that every file in shaders/ is
 * used by some kernel and that every kernel's file exists.
 */
export const KERNELS = {
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...MATMUL_KERNELS,
  ...CONV_KERNELS,
  ...WINOGRAD_KERNELS,
  ...POOL_KERNELS,
  ...BATCH_NORM_KERNELS,
  ...MOVEMENT_KERNELS,
  ...SOFTMAX_KERNELS,
  ...LOSS_KERNELS,
  ...OPTIM_KERNELS,
  ...LAB_KERNELS,
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** The source group of a kernel ('conv', 'batch_norm', ...: the profiler's families), or 'other' for a name not registered. */
export function kernelGroup(name: string): string {
  return (KERNELS as Record<string, KernelSpec>)[name]?.group ?? 'other';
}

/** All kernels of a family (variants included), or the kernel of that name. */
export function kernelsOf(family: string): KernelSpec[] {
  return Object.values(KERNELS as Record<string, KernelSpec>).filter((k) => k.family === family || k.name === family);
}

export type { KernelSpec } from './define_kernel.js';
export { SHADERS, type ShaderName } from './shaders.gen.js';

/** The kernel of that name; throws with the known names otherwise. */
export function getKernel(name: string): KernelSpec {
  const k = (KERNELS as Record<string, KernelSpec>)[name];
  if (!k) throw new RangeError(`no kernel named '${name}' (known: ${Object.keys(KERNELS).join(', ')})`);
  return k;
}
