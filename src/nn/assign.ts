// In-place writes into existing tensors (parameters, buffers, optimizer state) without changing their
// identity: a fresh upload followed by a device copy, so work already encoded that reads the destination
// still sees the old value (Backend.upload is only safe on storage no pending work reads).
import type { Backend } from '../kernels/backend.js';
import { CpuBackend } from '../kernels/runtime/cpu_backend.js';
import type { NumArray } from '../core/dtype.js';
import { DeviceMismatchError, DTypeError, ShapeError } from '../core/errors.js';
import { fmt } from '../tensor/shape.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/** The live data of a tensor on a CPU reference device (read synchronously), else null. */
export function hostView(t: Tensor): NumArray | null {
  return t.device instanceof CpuBackend ? t.device.view(t.storage('hostView')) : null;
}

/** Writes host values into `dst` in place (converted to dst's dtype by the upload). */
export function uploadInto(dst: Tensor, data: ArrayLike<number>, op = 'assign'): void {
  if (data.length !== dst.numel) throw new ShapeError(op, `${data.length} values for a tensor ${fmt(dst.shape)}`, [dst.shape]);
  if (dst.numel === 0) return;
  const dev = dst.device;
  const tmp = dev.alloc(dst.numel, dst.dtype);
  try {
    dev.upload(tmp, data);
    dev.copy(tmp, 0, dst.storage(op), 0, dst.numel);
  } finally {
    dev.free(tmp);
  }
}

/**
 * Copies `src` into `dst` in place (same number of elements). Same device: a device copy (dtypes must match).
 * From a CPU reference device: through the host (dtype converted). Other cross-device copies need a readback,
 * which is async: read the source with toArray() and use uploadInto().
 */
export function copyInto(dst: Tensor, src: Tensor, op = 'assign'): void {
  if (src.numel !== dst.numel) throw new ShapeError(op, `cannot copy ${fmt(src.shape)} into ${fmt(dst.shape)}`, [src.shape, dst.shape]);
  if (src.device === dst.device) {
    if (src.dtype !== dst.dtype) throw new DTypeError(op, `cannot copy a ${src.dtype} tensor into a ${dst.dtype} tensor on the same device`);
    if (src === dst || dst.numel === 0) return;
    dst.device.copy(src.storage(op), 0, dst.storage(op), 0, dst.numel);
    return;
  }
  const host = hostView(src);
  if (!host) {
    throw new DeviceMismatchError(op, `source is on ${src.device.description}, destination on ${dst.device.description}: read it back first (await t.toArray()) or load it on the destination device`);
  }
  uploadInto(dst, host, op);
}

/** A new tensor on `device` holding a copy of `src` (kept out of tidy scopes: the caller owns it). */
export function cloneOn(src: Tensor, device: Backend, op = 'clone'): Tensor {
  const t = keep(Tensor.empty(src.shape, src.dtype, device));
  try {
    copyInto(t, src, op);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}

// Host-side values of one-element integer tensors, where the code that wrote them knows them (BatchNorm's
// num_batches_tracked, tensors parsed from a file), so loading them needs no readback.
const knownScalars = new WeakMap<Tensor, number>();

export function noteScalar(t: Tensor, v: number): void {
  knownScalars.set(t, v);
}

/** The value of a one-element tensor when known without a readback, else undefined. */
export function scalarOf(t: Tensor): number | undefined {
  if (t.numel !== 1) return undefined;
  return knownScalars.get(t) ?? hostView(t)?.[0];
}
