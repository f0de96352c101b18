// The one place that splits work under the device's binding limits. A storage binding may cover at most
// limits.maxBindingBytes, and a window into a larger buffer must start at a multiple of
// limits.bindingOffsetAlignment; binding more fails validation and the op would silently return stale data. Every op
// plans its launches here: blocks of items, channels or pixels whose windows fit, bound from aligned offsets, with
// the residual (first element - window start) passed to the kernel.
import type { Backend } from '../../kernels/backend.js';
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { LimitError } from '../../core/errors.js';
import { normDims, numel, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A tensor bound whole, or a window of one (offset and numel in elements). */
export type Bind = Tensor | { readonly tensor: Tensor; readonly offset: number; readonly numel: number };

/**
 * A device's binding geometry in elements: the most one binding covers (`max`), the offset alignment (`align`), and
 * `room`, what a window can cover past the residual left by aligning its start down.
 */
export interface BindGeometry {
  readonly max: number;
  readonly align: number;
  readonly room: number;
}

export function bindGeometry(dev: Backend): BindGeometry {
  const align = Math.max(1, Math.ceil(dev.limits.bindingOffsetAlignment / BYTES_PER_ELEMENT));
  const max = Math.floor(dev.limits.maxBindingBytes / BYTES_PER_ELEMENT);
  return { align, max, room: max - (align - 1) };
}

/** A binding and the residual the kernel adds to its indices: element `first` of the tensor is element `res` of it. */
export interface Window {
  readonly bind: Bind;
  readonly res: number;
}

/**
 * The widest vector (4, 2 or 1 elements) a kernel may move a window's rows as: every row of `width` elements starts on
 * a multiple of it, from the window's residual offset `off` and the item stride `stride` on.
 */
export const rowVector = (width: number, off: number, stride: number): 4 | 2 | 1 => {
  const all = (k: number) => width % k === 0 && off % k === 0 && stride % k === 0;
  return all(4) ? 4 : all(2) ? 2 : 1;
};

/** Whether a kernel may move a window's rows as vec4 (the *_vec4 / k2s2 kernels): rowVector is 4. */
export const vec4Rows = (width: number, off: number, stride: number): boolean => rowVector(width, off, stride) === 4;

/**
 * SHIFT of a kernel's vector loads of x rows that a window starting at column -pw meets (the Winograd patch rows,
 * conv2d_bwd_weight_few's tap rows): the offset of column -pw in its vector of vw, (-pw) mod vw.
 */
export const shiftOf = (pw: number, vw: number) => (vw - (pw % vw)) % vw;

/**
 * A binding of `t` covering elements [first, first + count): `t` whole when it fits one binding (res = first), else a
 * window from the aligned offset at or below `first`.
 */
export function windowOf(t: Tensor, first: number, count: number): Window {
  const g = bindGeometry(t.device);
  if (t.numel <= g.max) return { bind: t, res: first };
  const start = Math.floor(first / g.align) * g.align;
  return { bind: { tensor: t, offset: start, numel: Math.min(first + count, t.numel) - start }, res: first - start };
}

/** The window of items [n0, n0 + nn) x channels [c0, c0 + cc) of `t` laid out [n, c, plane] (rows of `plane` elements). */
export function blockWindow(t: Tensor, c: number, plane: number, b: { n0: number; nn: number; c0: number; cc: number }): Window {
  return windowOf(t, (b.n0 * c + b.c0) * plane, ((b.nn - 1) * c + b.cc) * plane);
}

/**
 * Element windows [offset, numel) covering `n` elements, each within one binding and starting at an aligned offset;
 * one window [0, n) when n fits one binding. For flat kernels (every binding shares the index).
 */
export function flatWindows(dev: Backend, n: number, op = 'flatWindows'): [offset: number, numel: number][] {
  const g = bindGeometry(dev);
  const max = Math.floor(g.max / g.align) * g.align;
  if (n <= max) return [[0, n]];
  if (max < 1) tooSmall(op, g, 1);
  const out: [number, number][] = [];
  for (let off = 0; off < n; off += max) out.push([off, Math.min(max, n - off)]);
  return out;
}

/**
 * Flat ranges [e0, e1) of n elements, each starting at a multiple of `unit` and within one binding once its window
 * starts at the aligned offset below e0; one range when n fits one binding.
 */
export function flatRanges(dev: Backend, n: number, unit: number, op = 'flatRanges'): [number, number][] {
  if (n === 0) return [];
  const g = bindGeometry(dev);
  if (n <= g.max) return [[0, n]];
  const chunk = Math.floor(g.room / unit) * unit;
  // Without this, a zero chunk would loop forever (host out of memory at tiny limits).
  if (chunk < 1) tooSmall(op, g, unit);
  const out: [number, number][] = [];
  for (let e = 0; e < n; e += chunk) out.push([e, Math.min(n, e + chunk)]);
  return out;
}

/**
 * Runs of whole periods [r0, r0 + nr) of `n` periods of `period` elements each, every run starting at an aligned
 * offset (a multiple of lcm(period, align) elements: a window from there needs no residual) and within one binding;
 * null when one aligned run does not fit. For ops over a tensor that repeats along its leading dims.
 */
export function periodRuns(dev: Backend, n: number, period: number): { n0: number; nn: number }[] | null {
  const g = bindGeometry(dev);
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const unit = g.align / gcd(period, g.align);
  const per = Math.floor(g.max / period / unit) * unit;
  return per >= 1 ? runs(n, per) : null;
}

/** LimitError: the binding limit is below the `unit` elements one aligned window must cover. */
function tooSmall(op: string, g: BindGeometry, unit: number): never {
  const need = (unit + g.align - 1) * BYTES_PER_ELEMENT;
  throw new LimitError(op, 'maxStorageBufferBindingSize', need, g.max * BYTES_PER_ELEMENT, `one window must cover ${unit} element${unit === 1 ? '' : 's'} from an aligned start (${g.align * BYTES_PER_ELEMENT}-byte offsets)`);
}

/** One tensor of a batched op, laid out [n, c, plane]; channel blocks are multiples of a quantum in `q` (the first that fits). */
export interface SplitPart {
  readonly c: number;
  readonly plane: number;
  readonly q?: number | readonly number[];
}

/**
 * Block sizes for an op over tensors that share the batch dim n: `nb` items per block for every part; when one item
 * does not fit (nb = 1), `cb[i]` channels per block of part i; when one channel plane does not fit either and
 * `pixelUnit` is given, `pb` pixels per block (a multiple of pixelUnit; one-channel blocks), else a LimitError. A part
 * that fits one binding whole never constrains the split (it is bound whole).
 */
export function planBlocks(op: string, dev: Backend, n: number, parts: readonly SplitPart[], pixelUnit?: number): { nb: number; cb: number[]; pb: number | null } {
  const g = bindGeometry(dev);
  const over = parts.filter((p) => n * p.c * p.plane > g.max);
  const whole = { nb: n, cb: parts.map((p) => p.c), pb: null };
  if (!over.length || n === 0) return whole;
  const nb = Math.min(n, ...over.map((p) => Math.floor(g.room / Math.max(1, p.c * p.plane))));
  if (nb >= 1) return { ...whole, nb };
  let pb: number | null = null;
  const cb = parts.map((p) => {
    if (!over.includes(p) || p.c * p.plane <= g.room) return p.c;
    const fit = Math.floor(g.room / p.plane);
    for (const q of typeof p.q === 'number' ? [p.q] : (p.q ?? [1])) if (fit >= q) return fit - (fit % q);
    if (pixelUnit !== undefined && g.room >= pixelUnit) {
      pb = Math.min(pb ?? Infinity, Math.floor(g.room / pixelUnit) * pixelUnit);
      return 1;
    }
    const q = Math.min(...(typeof p.q === 'number' ? [p.q] : (p.q ?? [1])));
    throw new LimitError(op, 'maxStorageBufferBindingSize', (q * p.plane + g.align - 1) * BYTES_PER_ELEMENT, dev.limits.maxBindingBytes,
      `${q} channel plane(s) of ${p.plane} elements do not fit one binding`);
  });
  return { nb: 1, cb, pb };
}

/** planBlocks, or null where it would refuse with a LimitError: for a kernel family that has another way to run the op. */
export function planBlocksOrNull(...args: Parameters<typeof planBlocks>): ReturnType<typeof planBlocks> | null {
  try {
    return planBlocks(...args);
  } catch (e) {
    if (e instanceof LimitError) return null;
    throw e;
  }
}

/** Runs of whole planes (one launch each) of tensors with `planeSizes` elements per plane, each window within one binding. */
export function planeRuns(op: string, dev: Backend, planes: number, ...planeSizes: number[]): { n0: number; nn: number }[] {
  return runs(planes, planBlocks(op, dev, planes, planeSizes.map((plane) => ({ c: 1, plane }))).nb);
}

/** The blocks [n0, n0 + nn) of n items in runs of nb. */
export function runs(n: number, nb: number): { n0: number; nn: number }[] {
  const out: { n0: number; nn: number }[] = [];
  for (let n0 = 0; n0 < n; n0 += nb) out.push({ n0, nn: Math.min(nb, n - n0) });
  return out;
}

// ---- [outer, D, inner] layouts: ops along one dim (softmax, cross-entropy over classes), row r = o * inner + i reads
// D elements at stride inner.

/** The layout of a tensor around one dim. */
export type DimLayout = { outer: number; D: number; inner: number };

/**
 * Binds global elements [start, end) of t (windowOf): base is where the binding starts in t, which the
 * kernels subtract from global indices.
 */
export function spanWindow(t: Tensor, start: number, end: number): { b: Bind; base: number } {
  const w = windowOf(t, start, end - start);
  return { b: w.bind, base: start - w.res };
}

/**
 * Row ranges [r0, r1) of x viewed as [outer, D, inner] (row r = o * inner + i reads D elements at stride inner)
 * whose element spans each fit one binding: all rows, blocks of whole outer slices, or inner ranges of one slice.
 * null when one row alone spans more than a binding ((D - 1) * inner + 1 elements): then the op goes plane by
 * plane (planeChunks, online statistics), e.g. cross-entropy over 19 classes of a 1024 x 2048 image.
 */
export function rowRanges(dev: Backend, outer: number, D: number, inner: number): [number, number][] | null {
  const rows = outer * inner;
  if (rows === 0 || D === 0) return [];
  const g = bindGeometry(dev);
  if (rows * D <= g.max) return [[0, rows]];
  const cap = g.room;
  const out: [number, number][] = [];
  if (D * inner <= cap) {
    const ob = Math.floor(cap / (D * inner));
    for (let o = 0; o < outer; o += ob) out.push([o * inner, Math.min(outer, o + ob) * inner]);
    return out;
  }
  const ib = cap - (D - 1) * inner;
  if (ib < 1) return null;
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i += ib) out.push([o * inner + i, o * inner + Math.min(inner, i + ib)]);
  return out;
}

/** Pixel chunks (outer o, pixels [i0, i0 + np)) for the plane-wise path; a chunk's state [3, np] fits one binding. */
export function planeChunks(dev: Backend, outer: number, inner: number): { o: number; i0: number; np: number }[] {
  const chunk = Math.min(inner, Math.floor(bindGeometry(dev).room / 3));
  const out: { o: number; i0: number; np: number }[] = [];
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i += chunk) out.push({ o, i0: i, np: Math.min(inner, i + chunk) - i });
  return out;
}

/** The window of plane d's pixels [i0, i0 + np) in [outer, D, inner], and its residual offset. */
export function planeWin(t: Tensor, o: number, d: number, D: number, inner: number, i0: number, np: number) {
  const s0 = (o * D + d) * inner + i0;
  const w = spanWindow(t, s0, s0 + np);
  return { b: w.b, off: s0 - w.base };
}

/** The global element span [e0, e1) of rows [r0, r1) in [outer, D, inner]. */
export function rowSpan(r0: number, r1: number, D: number, inner: number): [number, number] {
  const at = (r: number) => Math.floor(r / inner) * D * inner + (r % inner);
  return [at(r0), at(r1 - 1) + (D - 1) * inner + 1];
}

/** [outer, D, inner] of `shape` around `dim` (a scalar counts as [1]). */
export function dimGeometry(op: string, shape: Shape, dim: number) {
  const s = shape.length ? shape : [1];
  const d = normDims(op, s, dim)[0]!;
  return { outer: numel(s.slice(0, d)), D: s[d]!, inner: numel(s.slice(d + 1)) };
}
