// Activation checkpointing (torch.utils.checkpoint, reentrant form): run a block without keeping its activations,
// and run it again inside backward to get them. Trades one extra forward of the block for its saved tensors.
import { ArgumentError } from '../core/errors.js';
import { backward, record } from './autograd.js';
import { enableGrad, isGradEnabled, noGrad } from './context.js';
import { globalRngState, setGlobalRngState } from './random.js';
import type { Tensor } from './tensor.js';

let recomputing = 0;

/**
 * True while checkpoint() re-runs a block inside backward. Layers with side effects skip them then (BatchNorm2d
 * leaves its running statistics and num_batches_tracked alone: the forward already moved them once).
 */
export function isRecomputing(): boolean {
  return recomputing > 0;
}

/**
 * fn(...inputs), recorded as one autograd node that saves only `inputs`. In backward, fn runs again with grad on
 * (dropout draws the same masks: the global generator is rewound to its state at the forward, then put back) and
 * its graph is backpropagated at once: `params` (the block's parameters, which fn reads from its closure) get
 * their gradients accumulated there, and the inputs' gradients flow on. With grad off (inference) it is fn(...inputs).
 * fn must be deterministic given its inputs, parameters and the generator state, and must not dispose its inputs.
 */
export function checkpoint(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], params: readonly Tensor[]): Tensor {
  if (!inputs.length) throw new ArgumentError('checkpoint', 'needs at least one input tensor');
  if (!isGradEnabled() || ![...inputs, ...params].some((t) => t.requiresGrad)) return fn(...inputs);
  const rng = globalRngState();
  const y = noGrad(() => fn(...inputs));
  return record('checkpoint', [...inputs, ...params], y, inputs, (gy, saved, needs) => {
    const xs = saved.map((s, k) => s.detach().requiresGrad_(needs[k]!));
    const after = globalRngState();
    setGlobalRngState(rng);
    recomputing++;
    let y2: Tensor;
    try {
      y2 = enableGrad(() => fn(...xs));
    } finally {
      recomputing--;
      setGlobalRngState(after);
    }
    // Parameters only: their gradients accumulate in the nested pass, so this node returns null for them.
    if (y2.requiresGrad) backward(y2, gy);
    return [...xs.map((x, k) => (needs[k] ? (x.grad ?? null) : null)), ...params.map(() => null)];
  });
}
