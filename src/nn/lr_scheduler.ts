// Learning-rate schedulers with PyTorch 1.13's formulas (torch.optim.lr_scheduler), chainable form: each
// step derives the new lr from the group's current one, as torch does when step() gets no epoch.
import { ArgumentError } from '../core/errors.js';
import { checkNumber, checkOneOf, checkOptions } from '../core/options.js';
import type { Optimizer } from './optim.js';

type AnyOptimizer = Optimizer<{ lr: number }>;

/** Base of epoch-driven schedulers: sets `initialLr` on each group, then takes the initial step (epoch 0). */
export abstract class LRScheduler {
  readonly baseLrs: number[];
  lastEpoch: number;
  protected stepCount = 0;
  #lastLr: number[] = [];

  constructor(readonly optimizer: AnyOptimizer, lastEpoch = -1) {
    checkNumber(new.target.name, 'lastEpoch', lastEpoch, { integer: true, min: -1 });
    const groups = optimizer.paramGroups;
    if (lastEpoch === -1) {
      for (const g of groups) g.initialLr ??= g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new ArgumentError(this.constructor.name, `param 'initial_lr' is not specified in paramGroups[${i}] when resuming an optimizer`);
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** Must be called at the end of a subclass constructor (after its fields exist), as torch's _initial_step. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The next lr of every group (lastEpoch already advanced). */
  protected abstract getLr(): number[];

  /** The lr at `lastEpoch` from the base lrs, used when step() is given an explicit epoch. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** Advances one epoch (or jumps to `epoch`, closed form) and writes each group's lr. */
  step(epoch?: number): void {
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]!));
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs the last step() set. */
  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** Plain numbers (no optimizer), torch-like keys. */
  stateDict(): Record<string, unknown> {
    return { ...this.extraState(), base_lrs: [...this.baseLrs], last_epoch: this.lastEpoch, _step_count: this.stepCount, _last_lr: [...this.#lastLr] };
  }

  loadStateDict(sd: Record<string, unknown>): void {
    if (Array.isArray(sd.base_lrs)) this.baseLrs.splice(0, this.baseLrs.length, ...(sd.base_lrs as number[]));
    if (typeof sd.last_epoch === 'number') this.lastEpoch = sd.last_epoch;
    if (typeof sd._step_count === 'number') this.stepCount = sd._step_count;
    if (Array.isArray(sd._last_lr)) this.#lastLr = [...(sd._last_lr as number[])];
    this.loadExtraState(sd);
  }

  protected extraState(): Record<string, unknown> {
    return {};
  }
  protected loadExtraState(_sd: Record<string, unknown>): void {}
}

export interface StepLROptions {
  /** Decay every stepSize epochs. */
  stepSize: number;
  /** Default 0.1. */
  gamma?: number;
  lastEpoch?: number;
}

/** lr = base_lr * gamma^floor(epoch / stepSize) (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: AnyOptimizer, opts: StepLROptions) {
    const { stepSize, gamma = 0.1, lastEpoch = -1 } = checkOptions('StepLR', opts, { stepSize: true, gamma: true, lastEpoch: true });
    if (!(Number.isInteger(stepSize) && stepSize > 0)) throw new ArgumentError('StepLR', `stepSize must be a positive integer, got ${stepSize}`);
    checkNumber('StepLR', 'gamma', gamma, { min: 0, minExclusive: true });
    super(optimizer, lastEpoch);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  protected override extraState(): Record<string, unknown> {
    return { step_size: this.stepSize, gamma: this.gamma };
  }
  protected override loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.step_size === 'number') this.stepSize = sd.step_size;
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
  }
}

export interface CosineAnnealingLROptions {
  /** Half period, in epochs. */
  tMax: number;
  /** Default 0. */
  etaMin?: number;
  lastEpoch?: number;
}

/**
 * Cosine annealing from the base lr to etaMin over tMax epochs, then back up (torch's recursive form:
 * eta_t = eta_min + (eta_max - eta_min)(1 + cos(pi t / tMax)) / 2 when nothing else changes the lr).
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: AnyOptimizer, opts: CosineAnnealingLROptions) {
    const op = 'CosineAnnealingLR';
    const { tMax, etaMin = 0, lastEpoch = -1 } = checkOptions(op, opts, { tMax: true, etaMin: true, lastEpoch: true });
    checkNumber(op, 'tMax', tMax, { min: 0, minExclusive: true });
    // A negative etaMin would drive the lr below 0, which the optimizers refuse.
    checkNumber(op, 'etaMin', etaMin, { min: 0 });
    super(optimizer, lastEpoch);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if (pyMod(e - 1 - T, 2 * T) === 0) return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }

  protected override extraState(): Record<string, unknown> {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }
  protected override loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.T_max === 'number') this.tMax = sd.T_max;
    if (typeof sd.eta_min === 'number') this.etaMin = sd.eta_min;
  }
}

/** Python's % (the sign of the divisor). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

export interface ReduceLROnPlateauOptions {
  /** 'min': the metric should go down (loss); 'max': up (accuracy). Default 'min'. */
  mode?: 'min' | 'max';
  /** lr *= factor on a plateau (default 0.1, must be < 1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** What counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': best * (1 -/+ threshold); 'abs': best -/+ threshold (default 'rel'). */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the lr, one for all groups or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** Reduces the lr by `factor` when a metric stops improving for `patience` epochs (torch.optim.lr_scheduler.ReduceLROnPlateau). */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  #lastLr: number[];

  constructor(
    readonly optimizer: AnyOptimizer,
    opts?: ReduceLROnPlateauOptions,
  ) {
    const op = 'ReduceLROnPlateau';
    const keys = { mode: true, factor: true, patience: true, threshold: true, thresholdMode: true, cooldown: true, minLr: true, eps: true } as const;
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 } = checkOptions(op, opts, keys);
    if (!(factor < 1)) throw new ArgumentError(op, `factor should be < 1.0, got ${factor}`);
    checkNumber(op, 'factor', factor, { min: 0, max: 1, maxExclusive: true });
    checkOneOf(op, 'mode', mode, ['min', 'max'] as const);
    checkOneOf(op, 'thresholdMode', thresholdMode, ['rel', 'abs'] as const);
    checkNumber(op, 'patience', patience, { integer: true, min: 0 });
    checkNumber(op, 'threshold', threshold, { min: 0 });
    checkNumber(op, 'cooldown', cooldown, { integer: true, min: 0 });
    checkNumber(op, 'eps', eps, { min: 0 });
    const n = optimizer.paramGroups.length;
    if (typeof minLr !== 'number' && !Array.isArray(minLr)) throw new ArgumentError(op, `minLr must be a number or one number per parameter group, got ${minLr}`);
    if (typeof minLr !== 'number' && minLr.length !== n) throw new ArgumentError(op, `expected ${n} min_lrs, got ${minLr.length}`);
    for (const m of typeof minLr === 'number' ? [minLr] : minLr) checkNumber(op, 'minLr', m, { min: 0 });
    this.minLrs = typeof minLr === 'number' ? new Array<number>(n).fill(minLr) : [...minLr];
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.eps = eps;
    this.best = this.#worse();
    this.#lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  #worse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  #isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Records one epoch's metric (a number: read a loss tensor back with `await t.item()` first). */
  step(metric: number): void {
    const current = Number(metric);
    this.lastEpoch++;
    if (this.#isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** Resets the best value, bad-epoch and cooldown counters. */
  reset(): void {
    this.best = this.#worse();
    this.cooldownCounter = 0;
    this.numBadEpochs = 0;
  }

  stateDict(): Record<string, unknown> {
    return { best: this.best, num_bad_epochs: this.numBadEpochs, cooldown_counter: this.cooldownCounter, last_epoch: this.lastEpoch, _last_lr: [...this.#lastLr] };
  }

  loadStateDict(sd: Record<string, unknown>): void {
    if (typeof sd.best === 'number') this.best = sd.best;
    if (typeof sd.num_bad_epochs === 'number') this.numBadEpochs = sd.num_bad_epochs;
    if (typeof sd.cooldown_counter === 'number') this.cooldownCounter = sd.cooldown_counter;
    if (typeof sd.last_epoch === 'number') this.lastEpoch = sd.last_epoch;
    if (Array.isArray(sd._last_lr)) this.#lastLr = [...(sd._last_lr as number[])];
  }
}
