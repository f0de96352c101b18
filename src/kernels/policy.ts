// Kernel choice is a property of the device: every Backend carries its adapter facts and a KernelPolicy, which the
// ops read to pick a kernel family. 'auto' picks by adapter facts and shape (rules in the ops, each with its
// measurement); a forced family is accepted only where the adapter meets its assumptions. Under 'auto', a device's
// tuning table (tuning.ts, filled by `kernels tune`) gives measured choices per shape bucket first (matmul, and the
// direct convolution launches Winograd does not take).
import { ArgumentError } from '../core/errors.js';
import type { AdapterFacts, Backend } from './backend.js';

/** Families of the convolution kernels (forward and input gradients, or the weight gradient). */
export type ConvVariant = 'auto' | 'portable' | 'subgroup' | 'winograd' | 'tiled';

/** Which kernel family each op family uses on one device. */
export interface KernelPolicy {
  /**
   * conv2d / convTranspose2d forward and their input gradients: 'subgroup' (weights shared with subgroupBroadcast),
   * 'winograd' (F(4x4, 3x3) for 3x3 stride-1 launches, the subgroup kernels elsewhere), 'tiled' (implicit GEMM in
   * workgroup-memory tiles: the layout a GPU wants; any adapter), 'portable', or 'auto'.
   */
  readonly convForward: ConvVariant;
  /** The convolution weight gradient: same families as convForward. */
  readonly convWeightGrad: ConvVariant;
  /** BatchNorm passes: 'auto' takes the vec4 kernels where the planes allow, 'portable' the scalar ones. */
  readonly batchNorm: 'auto' | 'portable';
  /** cat's block moves: buffer copies, the concat kernel, or 'auto' (copies for few or large blocks). */
  readonly cat: 'auto' | 'copy' | 'kernel';
  /**
   * maxPool2d: 'auto' takes the 2x2 stride-2 kernels where they apply (the forward on vec4 for rows a multiple of 8
   * wide, the backward one invocation per window), 'portable' the general window scan and gather.
   */
  readonly maxPool: 'auto' | 'portable';
  /**
   * matmul / bmm / linear: 'portable' (one invocation per output), 'reg' (4x4 outputs per invocation), 'vec4' (reg with
   * vec4 loads where the contiguous dims are multiples of 4, reg elsewhere), 'tiled' (workgroup-memory tiles), or
   * 'auto' (vec4, else reg; measured in bench/README "matmul").
   */
  readonly matmul: 'auto' | 'portable' | 'reg' | 'vec4' | 'tiled';
}

export const CHOICES: { readonly [K in keyof KernelPolicy]: readonly KernelPolicy[K][] } = {
  convForward: ['auto', 'portable', 'subgroup', 'winograd', 'tiled'],
  convWeightGrad: ['auto', 'portable', 'subgroup', 'winograd', 'tiled'],
  batchNorm: ['auto', 'portable'],
  cat: ['auto', 'copy', 'kernel'],
  maxPool: ['auto', 'portable'],
  matmul: ['auto', 'portable', 'reg', 'vec4', 'tiled'],
};

/** The single-launch convolution families (one kernel per launch, the same contract): what the tuner chooses among. */
export const DIRECT_CONV_FAMILIES = ['portable', 'subgroup', 'tiled'] as const;
export type DirectConvFamily = (typeof DIRECT_CONV_FAMILIES)[number];

export const DEFAULT_POLICY: KernelPolicy = { convForward: 'auto', convWeightGrad: 'auto', batchNorm: 'auto', cat: 'auto', maxPool: 'auto', matmul: 'auto' };

/** The fewest subgroup lanes the subgroup and Winograd lane schemes assume (8 input channels per subgroup). */
export const MIN_SUBGROUP_LANES = 8;

/**
 * Whether the adapter's subgroups have one fixed size of 8 or 16 (lavapipe's SIMD lanes): where 'auto' takes the
 * subgroup and Winograd kernels. Their lane schemes are for SIMD on a CPU, not 32-wide GPU warps. False without
 * adapter facts (CPU reference devices) or without the 'subgroups' feature.
 */
export function fixedSubgroups(a: AdapterFacts | null | undefined): boolean {
  const size = a?.subgroupMaxSize;
  return !!a?.features.includes('subgroups') && a.subgroupMinSize === size && (size === 8 || size === 16);
}

/**
 * Why the subgroup-based kernels cannot run on this adapter, or null when they can. They need the 'subgroups'
 * feature and at least MIN_SUBGROUP_LANES lanes in every subgroup the adapter may use (subgroupMinSize): with fewer
 * (SwiftShader's 4) a lane's shared weights are missing and the result is garbage. No facts (CPU reference): can.
 */
export function subgroupRefusal(a: AdapterFacts | null | undefined): string | null {
  if (!a) return null;
  if (!a.features.includes('subgroups')) return `the adapter (${a.description || a.vendor}) lacks the 'subgroups' feature`;
  const min = a.subgroupMinSize;
  if (min === undefined || min < MIN_SUBGROUP_LANES) {
    return `the adapter (${a.description || a.vendor}) may run subgroups of ${min ?? 'unknown'} lanes (subgroupMinSize), and these kernels need at least ${MIN_SUBGROUP_LANES}`;
  }
  return null;
}

/**
 * The workgroup size of the subgroup-based kernels on `dev` (one subgroup: the adapter's subgroup size, at least 8),
 * after checking their assumptions (subgroupRefusal); `what` names the kernels in the error.
 */
export function subgroupWorkgroup(op: string, dev: Backend, what: string): number {
  const why = subgroupRefusal(dev.adapter);
  if (why) throw new ArgumentError(op, `${what} cannot run: ${why}`);
  return Math.max(MIN_SUBGROUP_LANES, dev.adapter?.subgroupMaxSize ?? MIN_SUBGROUP_LANES);
}

/**
 * The policy after applying `changes` to `base`, checked: every key known, every value one of its choices, and no
 * forced family whose assumptions the adapter does not meet.
 */
export function resolvePolicy(a: AdapterFacts | null, base: KernelPolicy, changes: Partial<KernelPolicy>): KernelPolicy {
  const out: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(changes)) {
    const ok = (CHOICES as Record<string, readonly string[]>)[k];
    if (!ok) throw new ArgumentError('setKernelPolicy', `unknown key '${k}' (known: ${Object.keys(CHOICES).join(', ')})`);
    if (!ok.includes(v as string)) throw new ArgumentError('setKernelPolicy', `${k} must be one of ${ok.join(', ')}, got ${JSON.stringify(v)}`);
    if (v === 'subgroup' || v === 'winograd') {
      const why = subgroupRefusal(a);
      if (why) throw new ArgumentError('setKernelPolicy', `${k} '${v}' cannot run here: ${why}`);
    }
    out[k] = v as string;
  }
  return out as unknown as KernelPolicy;
}

/** Changes the kernel policy of `dev` (checked by resolvePolicy); returns the previous one, to restore it. */
export function setKernelPolicy(dev: Backend, changes: Partial<KernelPolicy>): KernelPolicy {
  const prev = dev.policy;
  dev.policy = resolvePolicy(dev.adapter, prev, changes);
  return prev;
}

/** Runs `fn` with `changes` applied to the policy of `dev`, then restores it (also when fn throws or rejects). */
export function withKernelPolicy<T>(dev: Backend, changes: Partial<KernelPolicy>, fn: () => T): T {
  const prev = setKernelPolicy(dev, changes);
  let async = false;
  try {
    const out = fn();
    if (out instanceof Promise) {
      async = true;
      return out.finally(() => (dev.policy = prev)) as T;
    }
    return out;
  } finally {
    if (!async) dev.policy = prev;
  }
}
