import type { KernelSpec } from './define_kernel.js';
import { BINARY_KERNELS, fill, UNARY_KERNELS } from './elementwise.js';
import { matmul } from './matmul.js';
import { reduce } from './reduce.js';
import { CONV_KERNELS } from './conv.js';
import { POOL_KERNELS } from './pool.js';
import { BATCH_NORM_KERNELS } from './batch_norm.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { LOSS_KERNELS } from './loss.js';
import { OPTIM_KERNELS } from './optim.js';
import { LAB_KERNELS } from './lab.js';

/**
 * Every kernel by name. Several kernels may share one shader file (the elementwise tables); a test checks
 * that every file in shaders/ is used by some kernel and that every kernel's file exists.
 */
export const KERNELS = {
  ...UNARY_KERNELS,
  ...BINARY_KERNELS,
  fill,
  reduce,
  matmul,
  ...CONV_KERNELS,
  ...POOL_KERNELS,
  ...BATCH_NORM_KERNELS,
  ...MOVEMENT_KERNELS,
  ...LOSS_KERNELS,
  ...OPTIM_KERNELS,
  ...LAB_KERNELS,
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** The kernels of each source file (src/kernels/<group>.ts): the families a profile sums GPU time over. */
const GROUPS: Readonly<Record<string, Readonly<Record<string, KernelSpec>>>> = {
  elementwise: { ...UNARY_KERNELS, ...BINARY_KERNELS, fill },
  reduce: { reduce },
  matmul: { matmul },
  conv: CONV_KERNELS,
  pool: POOL_KERNELS,
  batch_norm: BATCH_NORM_KERNELS,
  movement: MOVEMENT_KERNELS,
  loss: LOSS_KERNELS,
  optim: OPTIM_KERNELS,
  lab: LAB_KERNELS,
};

/** The source group of a kernel ('conv', 'batch_norm', ...; see GROUPS), or 'other' for a name not registered. */
export function kernelGroup(name: string): string {
  for (const [g, ks] of Object.entries(GROUPS)) if (name in ks) return g;
  return 'other';
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
