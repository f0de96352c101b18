// Checks of option objects and option values, shared by every layer (tensor ops, nn layers, optimizers,
// schedulers, the U-Net): plain-JS callers have no type checker, so a misspelled or snake_case key
// (`kernel_size`, `ceil_mode`) or a value outside its set must be an error, never silently ignored.
import { ArgumentError } from './errors.js';

/** Every key of an options type, each mapped to true: `checkOptions` then fails to compile when one is left out. */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

// A key that differs only in case and underscores (`ceil_mode`, `T_max`, `inchannels`) is the likely intent.
const loose = (k: string) => k.replace(/_/g, '').toLowerCase();

/** A short, readable rendering of any value for an error message (strings quoted, objects as JSON). */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined || v === null) return String(v);
  if (typeof v === 'function') return 'a function';
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * Checks that `opts` (undefined allowed) is a plain object whose own keys are all in `allowed`; returns
 * it, or `{}` for undefined. ArgumentError otherwise, naming `op`, the key and the accepted keys:
 * `MaxPool2d: unknown option 'ceil_mode' (did you mean 'ceilMode'?); accepted: stride, padding, dilation, ceilMode`.
 * `allowed` is a list of keys or an `OptionKeys<T>` record (which the compiler checks to be complete);
 * `what` names the kind of key in the message (default 'option').
 */
export function checkOptions<T extends object>(op: string, opts: T | undefined, allowed: NoInfer<OptionKeys<T>> | readonly string[], what = 'option'): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new ArgumentError(op, `options must be an object, got ${show(opts)}`);
  const keys: readonly string[] = Array.isArray(allowed) ? allowed : Object.keys(allowed);
  for (const k of Object.keys(opts)) {
    if (keys.includes(k)) continue;
    const near = keys.find((a) => loose(a) === loose(k));
    throw new ArgumentError(op, `unknown ${what} '${k}'${near ? ` (did you mean '${near}'?)` : ''}; accepted: ${keys.length ? keys.join(', ') : 'none'}`);
  }
  return opts;
}

/** Throws ArgumentError(op) unless `value` is one of `accepted`: `UNet: padding 'full' is not one of 'same', 'valid'`. */
export function checkOneOf<V>(op: string, name: string, value: unknown, accepted: readonly V[]): V {
  if (!accepted.includes(value as V)) throw new ArgumentError(op, `${name} ${show(value)} is not one of ${accepted.map(show).join(', ')}`);
  return value as V;
}

/**
 * Throws ArgumentError(op) unless `value` is a number in the given range (NaN never is; Infinity only when
 * `finite: false`; `integer` for counts): `SGD: lr must be a finite number >= 0, got Infinity`.
 */
export function checkNumber(
  op: string,
  name: string,
  value: unknown,
  { min, max, minExclusive = false, maxExclusive = false, integer = false, finite = true }: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean; finite?: boolean } = {},
): number {
  const v = value as number;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(v) &&
    (!finite || Number.isFinite(v)) &&
    (!integer || Number.isInteger(v)) &&
    (min === undefined || (minExclusive ? v > min : v >= min)) &&
    (max === undefined || (maxExclusive ? v < max : v <= max));
  if (!ok) {
    const range: string[] = [];
    if (min !== undefined) range.push(`${minExclusive ? '>' : '>='} ${min}`);
    if (max !== undefined) range.push(`${maxExclusive ? '<' : '<='} ${max}`);
    const kind = integer ? 'an integer' : finite ? 'a finite number' : 'a number';
    throw new ArgumentError(op, `${name} must be ${kind}${range.length ? ` ${range.join(' and ')}` : ''}, got ${show(value)}`);
  }
  return v;
}

/** Throws ArgumentError(op) unless `value` is a boolean: `Conv2d: bias must be true or false, got 'no'`. */
export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ArgumentError(op, `${name} must be true or false, got ${show(value)}`);
  return value;
}
