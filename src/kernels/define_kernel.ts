import type { DType, NumArray } from '../core/dtype.js';
import type { ShaderName } from './shaders.gen.js';

/** Scalar types of the uniform `Params` struct; every field is 4 bytes, packed in declaration order. */
export type ParamType = 'u32' | 'i32' | 'f32';
export type Constants = Record<string, number | boolean>;

/**
 * A kernel: one WGSL entry point `main` in `shaders/<file>.wgsl` plus its CPU reference.
 * Bindings are `reads` then `writes` (in key order, @binding 0..), then the uniform `Params` struct.
 * `ref` has the same contract as the shader and also runs on Float64Array (gradcheck).
 */
export interface KernelSpec<
  R extends string = string,
  W extends string = string,
  P extends string = string,
> {
  /** The snake_case kernel name: registry key, profiler label and bench field. */
  readonly name: string;
  /** The `.wgsl` file (defaults to `name`); variants may share a file with other constants. */
  readonly shader: ShaderName;
  /** The family this kernel belongs to when it is a variant (tests iterate over every variant). */
  readonly family?: string;
  readonly reads: { readonly [K in R]: DType };
  readonly writes: { readonly [K in W]: DType };
  /** Writes that are also read (in-place updates): bound read_write, never poisoned by tests. */
  readonly inPlace?: readonly NoInfer<W>[];
  readonly params: { readonly [K in P]: ParamType };
  /** Replacements of `// @slot NAME` one-line function bodies (the elementwise tables share one file). */
  readonly slots?: Slots;
  /** Defaults of the WGSL `override` constants. */
  readonly constants: Constants;
  /** Workgroup counts [x, y, z]; the runtime folds an x over the per-dimension limit into y. */
  grid(p: Readonly<Record<P, number>>, c: Constants): readonly number[];
  ref(reads: Record<R, NumArray>, writes: Record<W, NumArray>, p: Readonly<Record<P, number>>, c: Constants): void;
  /**
   * Work of one launch, for the profiler and the kernel lab: flops (2 per multiply-add) and the unique bytes the
   * launch must read and write (each bound element counted once, an accumulated output twice).
   */
  cost?(p: Readonly<Record<P, number>>, c: Constants): KernelCost;
}

/** Work of one kernel launch: arithmetic operations and unique bytes moved. */
export interface KernelCost {
  readonly flops: number;
  readonly bytes: number;
}

/** Identity helper that keeps the literal key types of a spec. */
export function defineKernel<R extends string, W extends string, P extends string>(
  spec: Omit<KernelSpec<R, W, P>, 'shader'> & { shader?: ShaderName },
): KernelSpec<R, W, P> {
  return { ...spec, shader: spec.shader ?? (spec.name as ShaderName) };
}

/** A WGSL `fn` whose one-line body the runtime replaces (`// @slot NAME` marks it); for the elementwise tables. */
export type Slots = Readonly<Record<string, string>>;

/** Flat 1-D grid of `total` invocations in workgroups of `wg`. */
export const grid1d = (total: number, wg: number) => [Math.max(1, Math.ceil(total / wg))];
