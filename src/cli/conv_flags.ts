// The `--conv-fwd` / `--conv-wgrad` flags of the bench and check-torch commands: the convolution part of the device's
// kernel policy ('auto' picks by adapter and shape), to time or check one family.
import type { KernelPolicy } from '../kernels/policy.js';

export const CONV_FLAGS = {
  'conv-fwd': { type: 'string', default: 'auto' },
  'conv-wgrad': { type: 'string', default: 'auto' },
} as const;

/** The policy the flags ask for (checked when a device takes it: setKernelPolicy, or the `kernels` open option). */
export function convPolicy(v: { 'conv-fwd'?: string; 'conv-wgrad'?: string }): Partial<KernelPolicy> {
  return { convForward: (v['conv-fwd'] ?? 'auto') as KernelPolicy['convForward'], convWeightGrad: (v['conv-wgrad'] ?? 'auto') as KernelPolicy['convWeightGrad'] };
}
