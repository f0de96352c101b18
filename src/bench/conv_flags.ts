// The `--conv-fwd` / `--conv-wgrad` flags of the bench and check-torch commands: override the convolution kernel
// choice ('auto' picks by adapter and shape) to time or check one variant.
import {
  setConvForwardVariant, setConvWeightGradVariant, type ConvForwardVariant, type ConvWeightGradVariant,
} from '../tensor/ops/conv.js';

export const CONV_FLAGS = {
  'conv-fwd': { type: 'string', default: 'auto' },
  'conv-wgrad': { type: 'string', default: 'auto' },
} as const;

/** Applies the flags (throws ArgumentError on an unknown variant); returns them for the record. */
export function applyConvFlags(v: { 'conv-fwd'?: string; 'conv-wgrad'?: string }): { fwd: string; wgrad: string } {
  const fwd = v['conv-fwd'] ?? 'auto';
  const wgrad = v['conv-wgrad'] ?? 'auto';
  setConvForwardVariant(fwd as ConvForwardVariant);
  setConvWeightGradVariant(wgrad as ConvWeightGradVariant);
  return { fwd, wgrad };
}
