// In-place optimizer updates (one WGSL kernel each); the optimizer classes in src/nn call these.
import type { Tensor } from '../tensor.js';
import { notImplemented } from './todo.js';

export interface SgdUpdate {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}

/** One torch.optim.SGD step for one parameter, in place: param and (when momentum) its momentum buffer. */
export function sgdUpdate(param: Tensor, grad: Tensor, momentumBuf: Tensor | null, firstStep: boolean, opts: SgdUpdate): void {
  notImplemented('sgdUpdate');
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

/** One torch.optim.Adam / AdamW step (step counts from 1), in place on param, expAvg, expAvgSq (and maxExpAvgSq). */
export function adamUpdate(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor | null, step: number, opts: AdamUpdate): void {
  notImplemented('adamUpdate');
}
