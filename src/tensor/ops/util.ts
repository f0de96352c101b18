import type { Backend, Binding, Storage } from '../../kernels/backend.js';
import type { KernelSpec } from '../../kernels/define_kernel.js';
import type { RunOptions } from '../../kernels/backend.js';
import type { DType } from '../../core/dtype.js';
import { ArgumentError, DeviceMismatchError, DTypeError } from '../../core/errors.js';
import { fmt, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { flatWindows, type Bind } from './split.js';

export type { Bind };

/** The one device of an op's tensors; throws when they differ or one was disposed. */
export function deviceOf(op: string, ...ts: readonly (Tensor | null | undefined)[]): Backend {
  let dev: Backend | null = null;
  for (const t of ts) {
    if (!t) continue;
    t.storage(op);
    if (!dev) dev = t.device;
    else if (t.device !== dev) {
      throw new DeviceMismatchError(op, `tensors are on different devices (${dev.description} and ${t.device.description})`);
    }
  }
  if (!dev) throw new DeviceMismatchError(op, 'no tensor given');
  return dev;
}

export function checkDType(op: string, t: Tensor, ...ok: DType[]): void {
  if (!ok.includes(t.dtype)) throw new DTypeError(op, `expected ${ok.join(' or ')}, got ${t.dtype} tensor ${fmt(t.shape)}`);
}

/** A new output tensor on `dev`. */
export function empty(dev: Backend, shape: Shape, dtype: DType = 'f32'): Tensor {
  return Tensor.empty(shape, dtype, dev);
}


/** A storage the device owns itself, bound whole: its check buffer (Backend.checks), which no tensor holds. */
export interface DeviceBind {
  readonly owned: Storage;
}

type LaunchBind = Bind | DeviceBind;

function toBinding(b: LaunchBind, op: string): Binding {
  if (b instanceof Tensor) return b.storage(op);
  if ('owned' in b) return b.owned;
  return { storage: b.tensor.storage(op), offset: b.offset, numel: b.numel };
}

/** A launch's tensors (or device storages) by the spec's binding names. */
export type Binds<K extends string> = { readonly [N in K]: LaunchBind };

const tensorOf = (b: LaunchBind) => (b instanceof Tensor ? b : 'owned' in b ? null : b.tensor);

function toBindings(op: string, bs: Readonly<Record<string, LaunchBind>>): Record<string, Binding> {
  const out: Record<string, Binding> = {};
  for (const k in bs) out[k] = toBinding(bs[k]!, op);
  return out;
}

/** The first binding's tensor (writes first): the launch's device. */
function firstTensor(writes: Readonly<Record<string, LaunchBind>>, reads: Readonly<Record<string, LaunchBind>>): Tensor {
  for (const k in writes) {
    const t = tensorOf(writes[k]!);
    if (t) return t;
  }
  for (const k in reads) {
    const t = tensorOf(reads[k]!);
    if (t) return t;
  }
  throw new ArgumentError('launch', 'a kernel launch needs at least one binding');
}

/**
 * The one launch path: runs `spec` on the device of its tensors, with the bindings and params named as in the
 * spec (the compiler checks the names; the backend checks them again for plain-JS callers).
 */
export function launch<R extends string, W extends string, P extends string>(
  spec: KernelSpec<R, W, P>,
  reads: Binds<R>,
  writes: Binds<W>,
  params: Readonly<Record<P, number>>,
  opts?: RunOptions,
): void {
  firstTensor(writes, reads).device.run(spec as KernelSpec, toBindings(spec.name, reads), toBindings(spec.name, writes), params, opts);
}

/**
 * Launches a flat kernel (every binding of `n` elements shares the index i) over `n` elements, once per
 * window of flatWindows(): bindings of `n` elements are windowed, others (numel-1 broadcast operands) bound
 * whole. `params(len)` gives the params of a window of `len` elements. Tensors over the binding limit work.
 */
export function launchFlat<R extends string, W extends string, P extends string>(
  spec: KernelSpec<R, W, P>,
  reads: { readonly [N in R]: Tensor },
  writes: { readonly [N in W]: Tensor },
  n: number,
  params: (len: number) => Readonly<Record<P, number>>,
  opts?: RunOptions,
): void {
  const dev = (Object.values<Tensor>(writes)[0] ?? Object.values<Tensor>(reads)[0]!).device;
  const windows = flatWindows(dev, n);
  if (windows.length === 1) return launch(spec, reads, writes, params(n), opts);
  const win = (t: Tensor, off: number, len: number): Bind => (t.numel === n ? { tensor: t, offset: off, numel: len } : t);
  const wins = <K extends string>(ts: { readonly [N in K]: Tensor }, off: number, len: number) =>
    Object.fromEntries(Object.entries<Tensor>(ts).map(([k, t]) => [k, win(t, off, len)])) as Binds<K>;
  for (const [off, len] of windows) launch(spec, wins(reads, off, len), wins(writes, off, len), params(len), opts);
}

/** Runs `fn` (the launches that fill fresh outputs); disposes `fresh` when it throws, so a refused op leaks nothing. */
export function disposeOnThrow<T>(fresh: readonly Tensor[], fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    for (const t of fresh) t.dispose();
    throw e;
  }
}
