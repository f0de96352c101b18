import { defineGroup, defineKernel, ELEMENTWISE, grid1d, variantOf, type KernelSpec } from './define_kernel.js';

// In-place optimizer updates: the parameter and its state are read_write bindings (`inPlace`); the op layer
// splits parameters over the binding limit into flat windows.

const WG = 64;

/**
 * sgd_update: one torch.optim.SGD step (PyTorch 1.13) for n elements, in place on param (and buf with MOMENTUM;
 * FIRST: buf = d, no dampening). sign = -1 maximizes. See shaders/sgd_update.wgsl.
 */
export const sgd_update = defineKernel({
  name: 'sgd_update',
  reads: { grad: 'f32' },
  writes: { param: 'f32', buf: 'f32' },
  inPlace: ['param', 'buf'],
  params: { n: 'u32', lr: 'f32', momentum: 'f32', one_minus_dampening: 'f32', weight_decay: 'f32', sign: 'f32' },
  constants: { WG, MOMENTUM: false, NESTEROV: false, FIRST: false },
  description: 'one torch.optim.SGD step in place on param (and the momentum buffer)',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p, c) => ({ flops: (c.MOMENTUM ? 7 : 4) * p.n, bytes: 4 * p.n * (c.MOMENTUM ? (c.FIRST ? 4 : 5) : 3) }),
  tolerance: () => ELEMENTWISE,
  ref({ grad }, { param, buf }, p, c) {
    for (let i = 0; i < p.n; i++) {
      const x = param[i]!;
      let d = p.sign * grad[i]!;
      if (p.weight_decay !== 0) d += p.weight_decay * x;
      if (c.MOMENTUM) {
        const b = c.FIRST ? d : p.momentum * buf[i]! + p.one_minus_dampening * d;
        buf[i] = b;
        d = c.NESTEROV ? d + p.momentum * b : b;
      }
      param[i] = x - p.lr * d;
    }
  },
});

/**
 * adam_update: one torch.optim.Adam (or AdamW with DECOUPLED) step for n elements, in place on param, m, v (and
 * vmax with AMSGRAD); step_size and bc2_sqrt carry the bias corrections. See shaders/adam_update.wgsl.
 */
export const adam_update = defineKernel({
  name: 'adam_update',
  reads: { grad: 'f32' },
  writes: { param: 'f32', m: 'f32', v: 'f32', vmax: 'f32' },
  inPlace: ['param', 'm', 'v', 'vmax'],
  params: {
    n: 'u32', beta1: 'f32', one_minus_beta1: 'f32', beta2: 'f32', one_minus_beta2: 'f32', eps: 'f32', weight_decay: 'f32',
    decay: 'f32', sign: 'f32', step_size: 'f32', bc2_sqrt: 'f32',
  },
  constants: { WG, DECOUPLED: false, AMSGRAD: false },
  description: 'one torch.optim.Adam / AdamW (DECOUPLED) step in place on param, m, v (and vmax with AMSGRAD)',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p, c) => ({ flops: (c.AMSGRAD ? 16 : 15) * p.n, bytes: 4 * p.n * (c.AMSGRAD ? 9 : 7) }),
  tolerance: () => ELEMENTWISE,
  ref({ grad }, { param, m, v, vmax }, p, c) {
    for (let i = 0; i < p.n; i++) {
      let x = param[i]!;
      let g = p.sign * grad[i]!;
      if (c.DECOUPLED) x *= p.decay;
      else if (p.weight_decay !== 0) g += p.weight_decay * x;
      const mi = p.beta1 * m[i]! + p.one_minus_beta1 * g;
      const vi = p.beta2 * v[i]! + p.one_minus_beta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      let vh = vi;
      if (c.AMSGRAD) {
        vh = Math.max(vmax[i]!, vi);
        vmax[i] = vh;
      }
      param[i] = x - p.step_size * (mi / (Math.sqrt(vh) / p.bc2_sqrt + p.eps));
    }
  },
});

/** Invocations of the vec4 variants: one per 4 elements (n a multiple of 4). */
const vec4Grid = (p: { n: number }, c: Record<string, number | boolean>) => grid1d(p.n / 4, c.WG as number);

/** sgd_update_vec4: sgd_update with one invocation per 4 elements, vec4 loads and stores; n a multiple of 4. */
export const sgd_update_vec4 = variantOf(sgd_update, {
  name: 'sgd_update_vec4',
  description: 'sgd_update with vec4 loads and stores (n a multiple of 4)',
  grid: vec4Grid,
});

/** adam_update_vec4: adam_update with one invocation per 4 elements, vec4 loads and stores; n a multiple of 4. */
export const adam_update_vec4 = variantOf(adam_update, {
  name: 'adam_update_vec4',
  description: 'adam_update with vec4 loads and stores (n a multiple of 4)',
  grid: vec4Grid,
});

/** The optim kernels (specs + CPU references). */
export const OPTIM_KERNELS = defineGroup('optim', { sgd_update, sgd_update_vec4, adam_update, adam_update_vec4 } satisfies Record<string, KernelSpec>);
