// Optimizers (torch.optim): parameter groups with their own hyperparameters, per-parameter state tensors
// owned by the optimizer, one in-place update kernel per parameter (src/tensor/ops/optim.ts), state dicts
// shaped like PyTorch's.
import { noGrad } from '../tensor/context.js';
import { ArgumentError, ShapeError } from '../core/errors.js';
import { checkBoolean, checkOptions, show } from '../core/options.js';
import { adamUpdate, sgdUpdate } from '../tensor/ops/optim.js';
import { keep } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { cloneOn, scalarOf } from './assign.js';

/** A parameter group as given to a constructor: its parameters and any hyperparameters to override. */
export type ParamGroupInput<O> = Partial<O> & { params: Iterable<Tensor>; initialLr?: number };

/** A parameter group: its parameters and its full set of hyperparameters (schedulers change `lr`). */
export type ParamGroup<O> = O & { params: Tensor[]; initialLr?: number };

/** One parameter's state: tensors (owned by the optimizer), numbers (Adam's step), or null. */
export type ParamState = Record<string, Tensor | number | null>;

/** PyTorch's layout: state by parameter index (across groups, in order), groups with snake_case keys and `params` as indices. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

const SNAKE: Record<string, string> = { weightDecay: 'weight_decay', initialLr: 'initial_lr' };
const CAMEL: Record<string, string> = Object.fromEntries(Object.entries(SNAKE).map(([k, v]) => [v, k]));

/** Base of SGD, Adam, AdamW: groups, state, zeroGrad, state dicts. */
export abstract class Optimizer<O extends { lr: number } = { lr: number } & Record<string, unknown>> {
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (created on a parameter's first step). */
  readonly state = new Map<Tensor, ParamState>();
  readonly defaults: O;
  readonly #name: string;

  constructor(name: string, params: Iterable<Tensor> | Iterable<ParamGroupInput<O>>, defaults: O) {
    this.#name = name;
    this.defaults = defaults;
    const list = [...params] as (Tensor | ParamGroupInput<O>)[];
    if (!list.length) throw new ArgumentError(name, 'optimizer got an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>] : (list as ParamGroupInput<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group; hyperparameters it leaves out take the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    checkOptions(this.#name, group, ['params', ...Object.keys(this.defaults), 'initialLr'], 'parameter-group key');
    if (group.params === undefined) throw new ArgumentError(this.#name, 'a parameter group needs params');
    const params = [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new ArgumentError(this.#name, 'optimizer params must be Tensors');
      if (!p.requiresGrad) throw new ArgumentError(this.#name, `can't optimize a tensor that does not require grad (${p.toString()})`);
    }
    if (new Set(params).size !== params.length) throw new ArgumentError(this.#name, 'a parameter group contains a parameter twice');
    const taken = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => taken.has(p))) throw new ArgumentError(this.#name, 'some parameters appear in more than one parameter group');
    const g = { ...this.defaults, ...group, params } as ParamGroup<O>;
    this.validate(g);
    this.paramGroups.push(g);
  }

  /** Checks a group's hyperparameters (ArgumentError naming the bad one), at construction rather than at the first step. */
  protected validate(g: O): void {
    if (!(g.lr >= 0 && g.lr < Infinity)) throw new ArgumentError(this.#name, `invalid learning rate: ${show(g.lr)} (must be a finite number >= 0)`);
  }

  /** `invalid <name> value: <v> (must be a finite number >= 0)`, torch's wording plus the accepted range. */
  protected checkHyper(name: string, v: unknown, min: number | null = 0, minExclusive = false): void {
    const n = v as number;
    const ok = typeof v === 'number' && Number.isFinite(n) && (min === null || (minExclusive ? n > min : n >= min));
    if (!ok) throw new ArgumentError(this.#name, `invalid ${name} value: ${show(v)} (must be a finite number${min === null ? '' : ` ${minExclusive ? '>' : '>='} ${min}`})`);
  }

  /** Sets every parameter's grad to null, disposing it. */
  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** One update of every parameter that has a grad (parameters without one are skipped, their state untouched). */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (!p.grad) continue;
          if (!sameShape(p.grad.shape, p.shape)) throw new ShapeError(`${this.#name}.step`, `grad ${fmt(p.grad.shape)} does not match its parameter ${fmt(p.shape)}`);
          let st = this.state.get(p);
          if (!st) this.state.set(p, (st = {}));
          this.update(p, p.grad, st, g);
        }
      }
    });
  }

  /** The in-place update of one parameter; `state` is its state record (empty on its first step). */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<O>): void;

  /** A zero-filled state tensor shaped like `p`, owned by the optimizer. */
  protected zeros(p: Tensor): Tensor {
    return keep(zerosLike(p));
  }

  /** Groups and state, as torch's optimizer.state_dict(). State tensors are the live ones (not copies). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const groups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params' && v !== undefined) out[SNAKE[k] ?? k] = Array.isArray(v) ? [...v] : v;
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return out as Record<string, unknown> & { params: number[] };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...st };
    }
    return { state, param_groups: groups };
  }

  /**
   * Loads a stateDict() (ours, or torch's with tensors converted): group hyperparameters are taken from it,
   * state tensors are copied onto each parameter's device. Groups must match in number and size.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const op = `${this.#name}.loadStateDict`;
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new ArgumentError(op, `loaded state dict has ${sd.param_groups.length} parameter groups, the optimizer ${this.paramGroups.length}`);
    }
    sd.param_groups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i]!.params.length) {
        throw new ArgumentError(op, `loaded parameter group ${i} has ${g.params.length} parameters, the optimizer's ${this.paramGroups[i]!.params.length}`);
      }
    });
    const byIndex = new Map<number, Tensor>();
    sd.param_groups.forEach((g, i) => g.params.forEach((idx, j) => byIndex.set(idx, this.paramGroups[i]!.params[j]!)));
    // Check everything before changing anything.
    for (const [k, st] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(k));
      if (!p) throw new ArgumentError(op, `state for parameter ${k}, which no group lists`);
      for (const [name, v] of Object.entries(st)) {
        if (name === 'step' && v instanceof Tensor && scalarOf(v) === undefined) {
          throw new ArgumentError(op, `state ${k}.step is a device tensor: give it as a number (or a CPU tensor)`);
        }
        if (name !== 'step' && v instanceof Tensor && !sameShape(v.shape, p.shape)) {
          throw new ShapeError(op, `state ${k}.${name} ${fmt(v.shape)} does not match its parameter ${fmt(p.shape)}`, [v.shape, p.shape]);
        }
      }
    }
    const fresh = new Map<Tensor, ParamState>();
    try {
      for (const [k, st] of Object.entries(sd.state)) {
        const p = byIndex.get(Number(k))!;
        const copy: ParamState = {};
        fresh.set(p, copy);
        for (const [name, v] of Object.entries(st)) {
          // torch 1.13 keeps Adam's step as a one-element tensor; here it is a number.
          if (name === 'step') copy[name] = v instanceof Tensor ? scalarOf(v)! : v;
          else copy[name] = v instanceof Tensor ? cloneOn(v, p.device, op) : v;
        }
      }
    } catch (e) {
      for (const st of fresh.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
      throw e;
    }
    this.#disposeState();
    for (const [p, st] of fresh) this.state.set(p, st);
    sd.param_groups.forEach((g, i) => {
      const target = this.paramGroups[i]! as Record<string, unknown>;
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params') continue;
        const key = CAMEL[k] ?? k;
        if (key in target || key === 'initialLr') target[key] = Array.isArray(v) ? [...v] : v;
      }
    });
  }

  #disposeState(): void {
    for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** Frees the state tensors (not the parameters). */
  dispose(): void {
    this.#disposeState();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

type SGDHyper = Required<SGDOptions>;

/**
 * torch.optim.SGD: with momentum, buf = momentum * buf + (1 - dampening) * g (buf = g on the first step);
 * weight decay adds weightDecay * p to g first; nesterov uses g + momentum * buf. State: momentum_buffer.
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput<SGDHyper>>, opts: SGDOptions) {
    const keys = { lr: true, momentum: true, dampening: true, weightDecay: true, nesterov: true, maximize: true } as const;
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, maximize = false } = checkOptions('SGD', opts, keys);
    super('SGD', params, { lr, momentum, dampening, weightDecay, nesterov, maximize });
  }

  protected override validate(g: SGDHyper): void {
    super.validate(g);
    this.checkHyper('momentum', g.momentum);
    this.checkHyper('dampening', g.dampening, null);
    this.checkHyper('weight_decay', g.weightDecay);
    checkBoolean('SGD', 'nesterov', g.nesterov);
    checkBoolean('SGD', 'maximize', g.maximize);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new ArgumentError('SGD', 'nesterov momentum requires a momentum and zero dampening');
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<SGDHyper>): void {
    let buf = (st.momentum_buffer as Tensor | null | undefined) ?? null;
    let first = false;
    if (g.momentum !== 0 && !buf) {
      buf = this.zeros(p);
      first = true;
    }
    try {
      sgdUpdate(p, grad, g.momentum !== 0 ? buf : null, first, {
        lr: g.lr,
        momentum: g.momentum,
        dampening: g.dampening,
        nesterov: g.nesterov,
        weightDecay: g.weightDecay,
        maximize: g.maximize,
      });
    } catch (e) {
      if (first) buf!.dispose();
      throw e;
    }
    st.momentum_buffer = buf;
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

type AdamHyper = { lr: number; betas: readonly [number, number]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean };

function checkBetas(name: string, betas: unknown): void {
  if (!Array.isArray(betas) || betas.length !== 2) throw new ArgumentError(name, `betas must be a pair of numbers, got ${show(betas)}`);
  betas.forEach((b: unknown, i) => {
    if (!(typeof b === 'number' && b >= 0 && b < 1)) throw new ArgumentError(name, `invalid beta parameter at index ${i}: ${show(b)} (must be in [0, 1))`);
  });
}

const ADAM_KEYS = { lr: true, betas: true, eps: true, weightDecay: true, amsgrad: true, maximize: true } as const;

function adamDefaults(name: string, opts: AdamOptions | undefined, weightDecayDefault: number): AdamHyper {
  const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = weightDecayDefault, amsgrad = false, maximize = false } = checkOptions(name, opts, ADAM_KEYS);
  checkBetas(name, betas);
  return { lr, betas: [betas[0], betas[1]], eps, weightDecay, amsgrad, maximize };
}

abstract class AdamBase extends Optimizer<AdamHyper> {
  protected abstract readonly decoupled: boolean;

  protected override validate(g: AdamHyper): void {
    super.validate(g);
    const name = this.constructor.name;
    // eps = 0 (torch allows it) divides by zero where a gradient is zero from the start.
    if (!(g.eps > 0 && g.eps < Infinity)) throw new ArgumentError(name, `invalid epsilon value: ${show(g.eps)} (must be a finite number > 0)`);
    checkBetas(name, g.betas);
    this.checkHyper('weight_decay', g.weightDecay);
    checkBoolean(name, 'amsgrad', g.amsgrad);
    checkBoolean(name, 'maximize', g.maximize);
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamHyper>): void {
    if (st.exp_avg === undefined) {
      st.step = 0;
      st.exp_avg = this.zeros(p);
      st.exp_avg_sq = this.zeros(p);
      if (g.amsgrad) st.max_exp_avg_sq = this.zeros(p);
    }
    if (g.amsgrad && !st.max_exp_avg_sq) st.max_exp_avg_sq = this.zeros(p);
    const step = (st.step as number) + 1;
    adamUpdate(p, grad, st.exp_avg as Tensor, st.exp_avg_sq as Tensor, g.amsgrad ? (st.max_exp_avg_sq as Tensor) : null, step, {
      lr: g.lr,
      beta1: g.betas[0],
      beta2: g.betas[1],
      eps: g.eps,
      weightDecay: g.weightDecay,
      decoupled: this.decoupled,
      amsgrad: g.amsgrad,
      maximize: g.maximize,
    });
    st.step = step;
  }
}

/** torch.optim.Adam (L2 weight decay added to the gradient). State: step, exp_avg, exp_avg_sq (, max_exp_avg_sq). */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput<AdamHyper>>, opts?: AdamOptions) {
    super('Adam', params, adamDefaults('Adam', opts, 0));
  }
}

/** torch.optim.AdamW: decoupled weight decay p *= 1 - lr * weightDecay (default 1e-2), then Adam. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput<AdamHyper>>, opts?: AdamOptions) {
    super('AdamW', params, adamDefaults('AdamW', opts, 1e-2));
  }
}
