import type { Backend, Binding } from '../../kernels/backend.js';
import type { KernelSpec } from '../../kernels/define_kernel.js';
import type { RunOptions } from '../../kernels/backend.js';
import { BYTES_PER_ELEMENT, type DType } from '../../core/dtype.js';
import { DeviceMismatchError, DTypeError } from '../../core/errors.js';
import { fmt, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

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

/** A tensor bound whole, or a window of one (offset and numel in elements). */
export type Bind = Tensor | { readonly tensor: Tensor; readonly offset: number; readonly numel: number };

function toBinding(b: Bind, op: string): Binding {
  if (b instanceof Tensor) return b.storage(op);
  return { storage: b.tensor.storage(op), offset: b.offset, numel: b.numel };
}

/** Launches `spec` on the device of its tensors: reads and writes in the spec's binding order. */
export function launch(
  spec: KernelSpec,
  reads: readonly Bind[],
  writes: readonly Bind[],
  params: Readonly<Record<string, number>>,
  opts?: RunOptions,
): void {
  const first = writes[0] ?? reads[0]!;
  const dev = (first instanceof Tensor ? first : first.tensor).device;
  dev.run(spec, reads.map((b) => toBinding(b, spec.name)), writes.map((b) => toBinding(b, spec.name)), params, opts);
}

/**
 * Element windows [offset, numel) covering `n` elements, each within dev.limits.maxBindingBytes and starting
 * at an offset aligned to dev.limits.bindingOffsetAlignment; one window [0, n) when n fits one binding.
 */
export function flatWindows(dev: Backend, n: number): [offset: number, numel: number][] {
  const align = Math.max(1, Math.ceil(dev.limits.bindingOffsetAlignment / BYTES_PER_ELEMENT));
  const max = Math.floor(dev.limits.maxBindingBytes / BYTES_PER_ELEMENT / align) * align;
  if (n <= max) return [[0, n]];
  const out: [number, number][] = [];
  for (let off = 0; off < n; off += max) out.push([off, Math.min(max, n - off)]);
  return out;
}

/**
 * Launches a flat kernel (every binding of `n` elements shares the index i) over `n` elements, once per
 * window of flatWindows(): bindings of `n` elements are windowed, others (numel-1 broadcast operands) bound
 * whole. `params(len)` gives the params of a window of `len` elements. Tensors over the binding limit work.
 */
export function launchFlat(
  spec: KernelSpec,
  reads: readonly Tensor[],
  writes: readonly Tensor[],
  n: number,
  params: (len: number) => Readonly<Record<string, number>>,
  opts?: RunOptions,
): void {
  const dev = (writes[0] ?? reads[0]!).device;
  const windows = flatWindows(dev, n);
  if (windows.length === 1) return launch(spec, reads, writes, params(n), opts);
  const win = (t: Tensor, off: number, len: number): Bind => (t.numel === n ? { tensor: t, offset: off, numel: len } : t);
  for (const [off, len] of windows) {
    launch(spec, reads.map((t) => win(t, off, len)), writes.map((t) => win(t, off, len)), params(len), opts);
  }
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
