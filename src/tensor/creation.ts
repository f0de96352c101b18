import type { Backend } from '../kernels/backend.js';
import { fill } from '../kernels/elementwise.js';
import { getDefaultDevice } from './context.js';
import { dtypeOf, type DType } from '../core/dtype.js';
import { ArgumentError, ShapeError } from '../core/errors.js';
import { rngFor } from './random.js';
import { checkShape, fmt, numel, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import { disposeOnThrow, launchFlat } from './ops/util.js';

export interface CreateOptions {
  device?: Backend;
  dtype?: DType;
  requiresGrad?: boolean;
}

type Nested = number | readonly Nested[];

function flattenNested(data: Nested, shape: number[], out: number[], depth = 0): void {
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new ShapeError('tensor', 'ragged nested array');
    out.push(data);
    return;
  }
  if (depth === shape.length) shape.push(data.length);
  else if (shape[depth] !== data.length) throw new ShapeError('tensor', `ragged nested array: dim ${depth} has lengths ${shape[depth]} and ${data.length}`);
  for (const d of data) flattenNested(d, shape, out, depth + 1);
}

/**
 * A tensor from a number, a nested array or a typed array (then `shape` is required unless 1-D).
 * dtype follows the typed array (Uint32Array -> u32, Int32Array -> i32), else f32.
 */
export function tensor(data: Nested | ArrayLike<number>, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
  } else {
    inferred = [];
    const out: number[] = [];
    flattenNested(data as Nested, inferred, out);
    flat = out;
  }
  const s = shape ?? inferred;
  checkShape('tensor', s);
  if (numel(s) !== flat.length) throw new ShapeError('tensor', `${flat.length} values do not fill shape ${fmt(s)}`, [s]);
  const dtype = opts.dtype ?? (ArrayBuffer.isView(data) ? dtypeOf(data as ArrayLike<number>) : 'f32');
  const t = Tensor.empty(s, dtype, opts.device ?? getDefaultDevice());
  t.device.upload(t.storage(), flat);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/** A tensor of `value` everywhere (f32), filled on the device. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = opts.dtype ?? 'f32';
  const t = Tensor.empty(shape, dtype, opts.device ?? getDefaultDevice());
  // Windowed past the binding limit, so tensors bigger than one binding fill too.
  if (dtype === 'f32') disposeOnThrow([t], () => launchFlat(fill, {  }, { y: t }, t.numel, (n) => ({ n, value })));
  else t.device.upload(t.storage(), new Array<number>(t.numel).fill(value));
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

export const zeros = (shape: Shape, opts?: CreateOptions) => full(shape, 0, opts);
export const ones = (shape: Shape, opts?: CreateOptions) => full(shape, 1, opts);
export const zerosLike = (t: Tensor) => full(t.shape, 0, { device: t.device, dtype: t.dtype });
export const onesLike = (t: Tensor) => full(t.shape, 1, { device: t.device, dtype: t.dtype });
export const fullLike = (t: Tensor, value: number) => full(t.shape, value, { device: t.device, dtype: t.dtype });

export interface RandOptions extends CreateOptions {
  /** A fixed seed; without one, the global generator (manualSeed) is used. */
  seed?: number;
}

function fromGenerator(op: string, shape: Shape, opts: RandOptions, gen: () => number): Tensor {
  checkShape(op, shape);
  const n = numel(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = gen();
  return tensor(data, shape, { ...opts, dtype: opts.dtype ?? 'f32' });
}

/** Uniform in [low, high) (default [0, 1)). */
export function rand(shape: Shape, opts: RandOptions & { low?: number; high?: number } = {}): Tensor {
  const rng = rngFor(opts.seed);
  const lo = opts.low ?? 0;
  const hi = opts.high ?? 1;
  return fromGenerator('rand', shape, opts, () => lo + (hi - lo) * rng.uniform());
}

/** Standard normal, times `std` plus `mean`. */
export function randn(shape: Shape, opts: RandOptions & { mean?: number; std?: number } = {}): Tensor {
  const rng = rngFor(opts.seed);
  const m = opts.mean ?? 0;
  const sd = opts.std ?? 1;
  return fromGenerator('randn', shape, opts, () => m + sd * rng.normal());
}

/** Integers uniform in [low, high), stored as i32 unless `dtype` says otherwise (class labels, indices). */
export function randint(low: number, high: number, shape: Shape, opts: RandOptions = {}): Tensor {
  if (!(high > low)) throw new ArgumentError('randint', `high (${high}) must exceed low (${low})`);
  const rng = rngFor(opts.seed);
  return fromGenerator('randint', shape, { dtype: 'i32', ...opts }, () => low + Math.floor(rng.uniform() * (high - low)));
}

/** [start, end) in steps of `step`, f32. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const n = Math.max(0, Math.ceil((end - start) / step));
  return tensor(Float64Array.from({ length: n }, (_, i) => start + i * step), [n], opts);
}
