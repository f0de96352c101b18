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
  /** The source group (src/kernels/<group>.ts) the profiler sums GPU time over; stamped by `defineGroup`. */
  readonly group?: string;
  /** One line: what the kernel computes (`kernels list`). */
  readonly description: string;
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
  /** How far one launch's GPU output may differ from this reference in float32 (the kernel lab's check). */
  tolerance(p: Readonly<Record<P, number>>, c: Constants): Tolerance;
  /**
   * Extra constant sets the kernel lab also checks every recorded case with (variants the ops pick only for big
   * tensors, or never at small sizes); only constants whose other value is valid for the same bindings.
   */
  readonly labConstants?: readonly Constants[];
  /** A short text of one launch's geometry for bench tables (default: its non-zero params). */
  describe?(p: Readonly<Record<P, number>>): string;
}

/**
 * How a kernel's GPU output may differ from its float32 reference: 'exact' (data movement, selections), or the
 * length k of the longest sum one output element is (tolerance grows like sqrt(k)), with `loose` for kernels with
 * transcendental functions (exp, log, tanh, pow: a few ulp by the WGSL spec).
 */
export type Tolerance = 'exact' | { readonly k: number; readonly loose?: boolean };

/** The tolerance of a sum of k terms (at least 1); `loose` with transcendental functions. */
export const sumOf = (k: number, loose = false): Tolerance => ({ k: Math.max(1, k), loose });

/** A few roundings per element, transcendental ones included (elementwise math, optimizer updates). */
export const ELEMENTWISE: Tolerance = sumOf(4, true);

/** Work of one kernel launch: arithmetic operations and unique bytes moved. */
export interface KernelCost {
  readonly flops: number;
  readonly bytes: number;
}

/** Identity helper that keeps the literal key types of a spec. */
export function defineKernel<R extends string, W extends string, P extends string>(
  spec: Omit<KernelSpec<R, W, P>, 'shader' | 'group'> & { shader?: ShaderName },
): KernelSpec<R, W, P> {
  return { ...spec, shader: spec.shader ?? (spec.name as ShaderName) };
}

/**
 * A variant of `base` (another file or other constants in its family): it inherits every field it does not override
 * (reference, cost, tolerance, lab constants, describe), its family is base's, and its shader defaults to its name.
 * Params may only grow (the inherited functions read base's params).
 */
export function variantOf<R extends string, W extends string, P extends string, Q extends string = P>(
  base: KernelSpec<R, W, P>,
  v: Partial<Omit<KernelSpec<R, W, P | Q>, 'name' | 'shader' | 'params' | 'group'>> & {
    readonly name: string;
    readonly description: string;
    readonly shader?: ShaderName;
    readonly params?: { readonly [K in P | Q]: ParamType };
  },
): KernelSpec<R, W, P | Q> {
  const { group: _, ...inherited } = base as KernelSpec<R, W, P | Q>;
  return { ...inherited, family: base.family ?? base.name, ...v, shader: v.shader ?? (v.name as ShaderName) } as KernelSpec<R, W, P | Q>;
}

/**
 * A source group's registry: stamps `group` on each spec (the profiler's per-group totals); a spec registered in two
 * groups throws.
 */
export function defineGroup<T extends Readonly<Record<string, KernelSpec>>>(group: string, specs: T): T {
  for (const s of Object.values(specs)) {
    if (s.group !== undefined && s.group !== group) throw new Error(`kernel ${s.name} is in group ${s.group}, not ${group}`);
    Object.defineProperty(s, 'group', { value: group, enumerable: true });
  }
  return specs;
}

/** A WGSL `fn` whose one-line body the runtime replaces (`// @slot NAME` marks it); for the elementwise tables. */
export type Slots = Readonly<Record<string, string>>;

/**
 * Whether a window geometry is the U-Net's 2x2 at stride 2, no padding, dilation 1 (its pooling and up-convs): what
 * every *_k2s2 kernel assumes (maxpool2d_bwd_k2s2 computes exactly these; the others add row-width conditions).
 */
export const isK2S2 = (p: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number }) =>
  p.kh === 2 && p.kw === 2 && p.sh === 2 && p.sw === 2 && p.ph === 0 && p.pw === 0 && p.dh === 1 && p.dw === 1;

/** Flat 1-D grid of `total` invocations in workgroups of `wg`. */
export const grid1d = (total: number, wg: number) => [Math.max(1, Math.ceil(total / wg))];
