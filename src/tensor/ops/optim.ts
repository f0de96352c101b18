// In-place optimizer updates (one WGSL kernel each); the optimizer classes in src/nn call these. Parameters are
// flat for the kernels, so a parameter over the binding limit runs as several aligned windows (launchFlat).
import { adam_update, adam_update_vec4, sgd_update, sgd_update_vec4 } from '../../kernels/optim.js';
import { ArgumentError, ShapeError } from '../../core/errors.js';
import { checkBoolean, checkOptions, type OptionKeys } from '../../core/options.js';
import { fmt, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkDType, deviceOf, empty, launchFlat } from './util.js';

export interface SgdUpdate {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}

const SGD_KEYS: OptionKeys<SgdUpdate> = { lr: true, momentum: true, dampening: true, nesterov: true, weightDecay: true, maximize: true };
const ADAM_KEYS: OptionKeys<AdamUpdate> = { lr: true, beta1: true, beta2: true, eps: true, weightDecay: true, decoupled: true, amsgrad: true, maximize: true };

function checkState(op: string, param: Tensor, name: string, t: Tensor): void {
  checkDType(op, t, 'f32');
  if (!sameShape(t.shape, param.shape)) throw new ShapeError(op, `${name} ${fmt(t.shape)} must have the shape of param ${fmt(param.shape)}`, [param.shape, t.shape]);
}

function checkNumber(op: string, name: string, v: number, ok: boolean): void {
  if (!ok) throw new ArgumentError(op, `invalid ${name}: ${v}`);
}

/** A 4-element (one vec4) stand-in for an absent state buffer (its binding exists; the kernel never touches it). */
function dummy(param: Tensor): Tensor {
  return empty(param.device, [4]);
}

/**
 * The kernel for a parameter of n elements: the vec4 variant (a vec4 per storage access; the windows of a split
 * parameter start at aligned offsets, so each stays a multiple of 4) where n is a multiple of 4, else the scalar one.
 */
const flatKernel = <S>(n: number, scalar: S, vec4: S): S => (n % 4 === 0 ? vec4 : scalar);

/**
 * One torch.optim.SGD step (PyTorch 1.13) for one parameter, in place: param and (when momentum != 0) its
 * momentum buffer of the same shape. `firstStep`: the buffer is set to the gradient (no dampening), as PyTorch
 * does when it creates it.
 */
export function sgdUpdate(param: Tensor, grad: Tensor, momentumBuf: Tensor | null, firstStep: boolean, opts: SgdUpdate): void {
  const op = 'sgdUpdate';
  deviceOf(op, param, grad, momentumBuf);
  checkDType(op, param, 'f32');
  checkState(op, param, 'grad', grad);
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0, maximize = false } = checkOptions(op, opts, SGD_KEYS);
  checkBoolean(op, 'nesterov', nesterov);
  checkBoolean(op, 'maximize', maximize);
  checkNumber(op, 'learning rate', lr, lr >= 0);
  checkNumber(op, 'momentum', momentum, momentum >= 0);
  checkNumber(op, 'weight decay', weightDecay, weightDecay >= 0);
  checkNumber(op, 'dampening', dampening, Number.isFinite(dampening));
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ArgumentError(op, 'nesterov momentum requires a momentum and zero dampening');
  if (momentum !== 0 && !momentumBuf) throw new ArgumentError(op, `momentum ${momentum} needs a momentum buffer`);
  if (momentumBuf) checkState(op, param, 'momentumBuf', momentumBuf);
  const MOMENTUM = momentum !== 0;
  const buf = MOMENTUM ? momentumBuf! : dummy(param);
  try {
    launchFlat(flatKernel(param.numel, sgd_update, sgd_update_vec4), { grad }, { param, buf }, param.numel, (n) => ({
      n, lr, momentum, one_minus_dampening: 1 - dampening, weight_decay: weightDecay, sign: maximize ? -1 : 1,
    }), { constants: { MOMENTUM, NESTEROV: nesterov, FIRST: firstStep } });
  } finally {
    if (!MOMENTUM) buf.dispose();
  }
}

export interface AdamUpdate {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decoupled weight decay. */
  decoupled?: boolean;
  amsgrad?: boolean;
  maximize?: boolean;
}

/**
 * One torch.optim.Adam / AdamW step (PyTorch 1.13; step counts from 1), in place on param, expAvg, expAvgSq (and
 * maxExpAvgSq with amsgrad), all of param's shape. The bias corrections are computed here in float64.
 */
export function adamUpdate(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor | null, step: number, opts: AdamUpdate): void {
  const op = 'adamUpdate';
  deviceOf(op, param, grad, expAvg, expAvgSq, maxExpAvgSq);
  checkDType(op, param, 'f32');
  checkState(op, param, 'grad', grad);
  checkState(op, param, 'expAvg', expAvg);
  checkState(op, param, 'expAvgSq', expAvgSq);
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false, amsgrad = false, maximize = false } = checkOptions(op, opts, ADAM_KEYS);
  for (const [k, v] of Object.entries({ decoupled, amsgrad, maximize })) checkBoolean(op, k, v);
  checkNumber(op, 'learning rate', lr, lr >= 0);
  checkNumber(op, 'beta1', beta1, beta1 >= 0 && beta1 < 1);
  checkNumber(op, 'beta2', beta2, beta2 >= 0 && beta2 < 1);
  checkNumber(op, 'epsilon', eps, eps >= 0);
  checkNumber(op, 'weight decay', weightDecay, weightDecay >= 0);
  checkNumber(op, 'step (counts from 1)', step, Number.isInteger(step) && step >= 1);
  if (amsgrad && !maxExpAvgSq) throw new ArgumentError(op, 'amsgrad needs maxExpAvgSq');
  if (amsgrad) checkState(op, param, 'maxExpAvgSq', maxExpAvgSq!);
  const vmax = amsgrad ? maxExpAvgSq! : dummy(param);
  try {
    launchFlat(flatKernel(param.numel, adam_update, adam_update_vec4), { grad }, { param, m: expAvg, v: expAvgSq, vmax }, param.numel, (n) => ({
      n, beta1, one_minus_beta1: 1 - beta1, beta2, one_minus_beta2: 1 - beta2, eps, weight_decay: weightDecay,
      decay: 1 - lr * weightDecay, sign: maximize ? -1 : 1,
      step_size: lr / (1 - beta1 ** step), bc2_sqrt: Math.sqrt(1 - beta2 ** step),
    }), { constants: { DECOUPLED: decoupled, AMSGRAD: amsgrad } });
  } finally {
    if (!amsgrad) vmax.dispose();
  }
}
