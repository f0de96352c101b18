import { TensorError } from '../errors.js';

/** Thrown by an op whose kernels are not written yet (temporary, while the op families land). */
export class NotImplementedError extends TensorError {}

export function notImplemented(op: string): never {
  throw new NotImplementedError(`${op}: not implemented yet`);
}
