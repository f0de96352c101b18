import { ShapeError } from '../core/errors.js';

export type Shape = readonly number[];

export const fmt = (s: Shape) => `[${s.join(', ')}]`;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that `shape` is an array of non-negative integers: the one check every tensor allocation passes. */
export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new ShapeError(op, `shape must be an array of dims, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `invalid shape ${fmt(shape)}: dims must be non-negative integers`, [shape]);
  }
}

/** Row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** NumPy/PyTorch broadcasting of two shapes; throws ShapeError naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast (dim ${i - n}: ${da} vs ${db})`, [a, b]);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises dims (negative allowed) for a tensor of the given rank; undefined = all dims. */
export function normDims(op: string, shape: Shape, dims?: number | readonly number[]): number[] {
  const r = shape.length;
  if (dims === undefined) return [...Array(r).keys()];
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const out = list.map((d) => {
    if (!Number.isInteger(d) || d < -r || d >= Math.max(r, 1)) throw new ShapeError(op, `dim ${d} is out of range for shape ${fmt(shape)}`, [shape]);
    return d < 0 ? d + r : d;
  });
  if (new Set(out).size !== out.length) throw new ShapeError(op, `dims ${fmt(list)} repeat a dim`, [shape]);
  return out.sort((x, y) => x - y);
}

/** Resolves one -1 in a reshape target. */
export function inferReshape(op: string, from: Shape, to: Shape): number[] {
  const n = numel(from);
  const neg = to.filter((d) => d === -1).length;
  if (neg > 1) throw new ShapeError(op, `cannot reshape ${fmt(from)} to ${fmt(to)}: only one dim may be -1`, [from, to]);
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== n) {
    throw new ShapeError(op, `cannot reshape ${fmt(from)} (${n} elements) to ${fmt(to)}`, [from, to]);
  }
  return out;
}

export const ceilDiv = (a: number, b: number) => Math.floor((a + b - 1) / b);
