// The `--conv-fwd` / `--conv-wgrad` / `--matmul` flags of the bench and check-torch commands: kernel families of the
// device's kernel policy ('auto' picks by adapter and shape), to time or check one family.
import type { KernelPolicy } from '../kernels/policy.js';

export const KERNEL_FLAGS = {
  'conv-fwd': { type: 'string', default: 'auto' },
  'conv-wgrad': { type: 'string', default: 'auto' },
  matmul: { type: 'string', default: 'auto' },
} as const;

/** The policy the flags ask for (checked when a device takes it: setKernelPolicy, or the `kernels` open option). */
export function kernelPolicyOf(v: { 'conv-fwd'?: string; 'conv-wgrad'?: string; matmul?: string }): Partial<KernelPolicy> {
  return {
    convForward: (v['conv-fwd'] ?? 'auto') as KernelPolicy['convForward'],
    convWeightGrad: (v['conv-wgrad'] ?? 'auto') as KernelPolicy['convWeightGrad'],
    matmul: (v.matmul ?? 'auto') as KernelPolicy['matmul'],
  };
}
