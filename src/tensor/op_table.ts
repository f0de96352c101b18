// The ops that Tensor's methods (x.add(y), x.sum()) and autograd (gradient accumulation) call, bound once by
// ops/index.ts. tensor.ts and autograd.ts import no op module, so the ops can import Tensor without a value-import
// cycle (tensor.ts -> ops -> tensor.ts).
import type * as Ops from './ops/index.js';

/** The ops the tensor core calls back into. */
export type OpTable = Pick<
  typeof Ops,
  'reshape' | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'sigmoid' | 'tanh' | 'sum' | 'mean' | 'max' | 'matmul' | 'onesLike'
>;

let table: OpTable | null = null;

/** Called by ops/index.ts when it loads. */
export function bindOps(t: OpTable): void {
  table = t;
}

/** The bound ops; they are bound whenever the package entry (or src/tensor/ops/index.ts) was imported. */
export function ops(): OpTable {
  if (!table) throw new Error('unet-webgpu: the ops are not loaded: import the package entry (or src/tensor/ops/index.ts) before using Tensor methods');
  return table;
}
