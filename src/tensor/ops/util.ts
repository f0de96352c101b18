import type { Backend, Binding } from '../../kernels/backend.js';
import type { KernelSpec } from '../../kernels/define_kernel.js';
import type { RunOptions } from '../../kernels/backend.js';
import type { DType } from '../dtype.js';
import { DeviceMismatchError, DTypeError } from '../errors.js';
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
