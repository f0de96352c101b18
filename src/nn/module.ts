import { ArgumentError, DeviceMismatchError, DTypeError, StateDictError } from '../core/errors.js';
import { traceForward } from '../tensor/anomaly.js';
import { checkBoolean, checkOptions, show } from '../core/options.js';
import { keep } from '../tensor/scope.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { copyInto, hostView } from './assign.js';
import { Parameter } from './parameter.js';

/**
 * Parameters and persistent buffers by dotted name, in PyTorch's order. The values are the module's live
 * tensors (not copies): read or save them, do not dispose them.
 */
export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Missing or unexpected keys are an error (default true). Shape mismatches are an error either way. */
  strict?: boolean;
  /**
   * Key prefixes PyTorch tools add, removed before matching: true = 'module.' (DistributedDataParallel /
   * DataParallel) and '_orig_mod.' (torch.compile), or a list of your own. Applied repeatedly at the start of each
   * key ('module._orig_mod.inc...' -> 'inc...'); two keys that become one are an error. Default false.
   */
  stripPrefixes?: boolean | readonly string[];
}

/** The prefixes stripPrefixes: true removes: DistributedDataParallel's and torch.compile's. */
export const TORCH_WRAPPER_PREFIXES: readonly string[] = ['module.', '_orig_mod.'];

/** `sd` with `prefixes` removed from the start of its keys (repeatedly); ArgumentError when two keys collide. */
export function stripKeyPrefixes<T>(sd: Record<string, T>, prefixes: readonly string[], op = 'stripKeyPrefixes'): Record<string, T> {
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string' || !p)) throw new ArgumentError(op, `stripPrefixes must be true, false or a list of non-empty strings, got ${show(prefixes)}`);
  const out: Record<string, T> = {};
  const from = new Map<string, string>();
  for (const [key, v] of Object.entries(sd)) {
    let k = key;
    for (let p = prefixes.find((q) => k.startsWith(q)); p; p = prefixes.find((q) => k.startsWith(q))) k = k.slice(p.length);
    if (from.has(k)) throw new ArgumentError(op, `keys '${from.get(k)}' and '${key}' both become '${k}' once the prefixes ${prefixes.map((p) => `'${p}'`).join(', ')} are stripped`);
    from.set(k, key);
    out[k] = v;
  }
  return out;
}

/** What loadStateDict left out (non-strict mode), as torch's `_IncompatibleKeys`. */
export interface IncompatibleKeys {
  missing: string[];
  unexpected: string[];
}

interface Slot {
  key: string;
  module: Module;
  name: string;
  tensor: Tensor;
}

type Fields = Record<string, unknown>;

/**
 * Base class of layers and models (torch.nn.Module). Children, parameters and buffers are found by walking
 * the instance's own fields in declaration order: a field holding a Module is a child, one holding a
 * Parameter is a parameter, one registered with registerBuffer() is a buffer; other fields (numbers,
 * options, plain tensors, arrays) are not state. Field names are the state-dict names, so they follow
 * PyTorch verbatim (`double_conv`, `running_mean`). Lists of modules go in a Sequential or ModuleList.
 */
export abstract class Module {
  /** Training mode (dropout active, batch norm on batch statistics); set by train() / eval(). */
  training = true;
  readonly #buffers = new Map<string, boolean>();

  constructor() {
    // Anomaly mode (detectAnomaly) names the module an op ran in: it wraps these classes' forward while it is on.
    for (let p = new.target.prototype; p !== Module.prototype; p = Object.getPrototypeOf(p)) traceForward(p, childName);
  }

  /** The computation; subclasses define its signature (`forward(x: Tensor): Tensor` for most layers). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  abstract forward(...args: any[]): any;

  /**
   * Registers `t` as buffer `name` (a field of that name is set): state that is not trained, such as running
   * statistics. Persistent buffers are part of stateDict(). null registers the name without a tensor.
   */
  protected registerBuffer(name: string, t: Tensor | null, persistent = true): void {
    if (t) keep(t);
    (this as unknown as Fields)[name] = t;
    this.#buffers.set(name, persistent);
  }

  /** Direct children with their field names (Sequential and ModuleList name them "0", "1", ...). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this as unknown as Fields)) if (v instanceof Module) out.push([k, v]);
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, each once, with dotted names ('' for this one). */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(join(prefix, k), seen));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  #ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, v] of Object.entries(this as unknown as Fields)) if (v instanceof Parameter && !this.#buffers.has(k)) out.push([k, v]);
    return out;
  }

  #ownBuffers(persistentOnly: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, persistent] of this.#buffers) {
      const v = (this as unknown as Fields)[k] as Tensor | null | undefined;
      if (v && (persistent || !persistentOnly)) out.push([k, v]);
    }
    return out;
  }

  /** Parameters with dotted names (`0.weight`, `inc.double_conv.1.bias`), each once, in PyTorch's order. */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const seen = new Set<Tensor>();
    const out: [string, Parameter][] = [];
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [p, m] of mods) {
      for (const [k, t] of m.#ownParameters()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([join(p, k), t]);
      }
    }
    return out;
  }

  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, t]) => t);
  }

  /** Buffers (persistent or not) with dotted names, each once. */
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [p, m] of mods) {
      for (const [k, t] of m.#ownBuffers(false)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([join(p, k), t]);
      }
    }
    return out;
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, t]) => t);
  }

  #slots(prefix: string, out: Slot[]): Slot[] {
    for (const [k, t] of this.#ownParameters()) out.push({ key: prefix + k, module: this, name: k, tensor: t });
    for (const [k, t] of this.#ownBuffers(true)) out.push({ key: prefix + k, module: this, name: k, tensor: t });
    for (const [k, m] of this.namedChildren()) m.#slots(`${prefix}${k}.`, out);
    return out;
  }

  /**
   * Parameters and persistent buffers by dotted name: per module its parameters, then its buffers, then each
   * child's entries (PyTorch's key order). The values are the live tensors, not copies.
   */
  stateDict(prefix = ''): StateDict {
    const sd: StateDict = {};
    for (const s of this.#slots(prefix, [])) sd[s.key] = s.tensor;
    return sd;
  }

  /**
   * Copies the values of `sd` into this module's parameters and buffers (their identity does not change).
   * Everything is checked before anything is written: strict mode throws StateDictError listing missing and
   * unexpected keys and shape mismatches; non-strict mode still throws on shape mismatches and returns the
   * keys it left out. Sources may be on this module's device or on a CPU device (dtype converted there).
   */
  loadStateDict(sd: StateDict, opts?: LoadStateDictOptions): IncompatibleKeys {
    const { strict = true, stripPrefixes = false } = checkOptions('loadStateDict', opts, { strict: true, stripPrefixes: true });
    checkBoolean('loadStateDict', 'strict', strict);
    if (stripPrefixes === true) sd = stripKeyPrefixes(sd, TORCH_WRAPPER_PREFIXES, 'loadStateDict');
    else if (stripPrefixes !== false) sd = stripKeyPrefixes(sd, stripPrefixes, 'loadStateDict');
    const slots = this.#slots('', []);
    const known = new Set(slots.map((s) => s.key));
    const missing: string[] = [];
    const defaulted: Slot[] = [];
    const shapeMismatch: [string, readonly number[], readonly number[]][] = [];
    const pairs: [Slot, Tensor][] = [];
    const notTensors: [string, string][] = [];
    for (const s of slots) {
      const src = sd[s.key] as unknown;
      if (src === undefined) {
        if (s.module.optionalOnLoad(s.name)) defaulted.push(s);
        else missing.push(s.key);
      } else if (!(src instanceof Tensor)) notTensors.push([s.key, show(src)]);
      else if (!sameShape(src.shape, s.tensor.shape)) shapeMismatch.push([s.key, s.tensor.shape, src.shape]);
      else pairs.push([s, src]);
    }
    const unexpected = Object.keys(sd).filter((k) => !known.has(k));
    if (shapeMismatch.length || notTensors.length || (strict && (missing.length || unexpected.length))) {
      throw new StateDictError(strict ? missing : [], strict ? unexpected : [], shapeMismatch, notTensors);
    }
    for (const [s, src] of pairs) {
      src.storage('loadStateDict');
      if (src.device === s.tensor.device && src.dtype !== s.tensor.dtype) {
        throw new DTypeError('loadStateDict', `${s.key} is ${s.tensor.dtype}, the state dict holds ${src.dtype}`);
      }
      if (src.device !== s.tensor.device && !hostView(src)) {
        throw new DeviceMismatchError('loadStateDict', `${s.key} lives on ${s.tensor.device.description}, the state dict's tensor on ${src.device.description} (load it on this device, or on a CPU device)`);
      }
    }
    for (const [s, src] of pairs) {
      copyInto(s.tensor, src, 'loadStateDict');
      s.module.afterLoad(s.name, src);
    }
    for (const s of defaulted) s.module.afterLoad(s.name, null);
    return { missing, unexpected };
  }

  /** Whether a missing key `name` of this module may be left to a default in loadStateDict (BatchNorm's num_batches_tracked, as torch). */
  protected optionalOnLoad(_name: string): boolean {
    return false;
  }

  /** Called after loadStateDict wrote field `name` from `src` (null: the key was absent and optionalOnLoad allowed it). */
  protected afterLoad(_name: string, _src: Tensor | null): void {}

  /** Sets training mode here and in every descendant; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (train(false)): dropout off, batch norm on running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Sets every parameter's grad to null, disposing it. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Turns gradient tracking of every parameter on or off (freezing); returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** Calls fn on every descendant (children first) and on this module, as torch's apply; returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Frees parameters (and their grads), buffers and children; idempotent. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const [, p] of m.#ownParameters()) {
        p.grad?.dispose();
        p.grad = null;
        p.dispose();
      }
      for (const [, b] of m.#ownBuffers(false)) b.dispose();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The one-line description inside toString()'s parentheses (torch's extra_repr). */
  protected extraRepr(): string {
    return '';
  }

  /** PyTorch-style tree: `Sequential(\n  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))\n  ...)`. */
  toString(): string {
    const kids = this.namedChildren();
    const extra = this.extraRepr();
    if (!kids.length) return `${this.constructor.name}(${extra})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.constructor.name}(${extra ? `\n  ${extra}` : ''}\n${lines.join('\n')}\n)`;
  }
}

/** The dotted name of `child` under `parent` (for anomaly mode's module paths). */
function childName(parent: object, child: object): string {
  const found = parent instanceof Module ? parent.namedModules().find(([, m]) => m === child) : undefined;
  return found?.[0] || `<${child.constructor.name}>`;
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}
