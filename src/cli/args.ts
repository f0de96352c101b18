// Flag values of the commands, checked: a number flag that is not one (`--size abc`), out of its range
// (`--reps 0`) or a choice that is not offered (`--config constructor`) is an ArgumentError naming the command,
// the flag and the value, never a run with another meaning.
import { ArgumentError } from '../core/errors.js';

/** `--flag` as an integer in [min, max]. */
export function intFlag(cmd: string, flag: string, v: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ArgumentError(cmd, `--${flag} must be an integer${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` in [${min}, ${max}]`}, got '${v}'`);
  }
  return n;
}

/** `--flag` as a finite number, above `min` (or at least it when `orEqual`). */
export function numFlag(cmd: string, flag: string, v: string, min = -Infinity, orEqual = true): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || (orEqual ? n < min : n <= min)) {
    throw new ArgumentError(cmd, `--${flag} must be a finite number${min === -Infinity ? '' : ` ${orEqual ? '>=' : '>'} ${min}`}, got '${v}'`);
  }
  return n;
}

/** `--flag` as one of `choices` (own keys of a table, or a list). */
export function choiceFlag<T extends string>(cmd: string, flag: string, v: string, choices: readonly T[] | Readonly<Record<T, unknown>>): T {
  const list = (Array.isArray(choices) ? choices : Object.keys(choices)) as readonly string[];
  if (!list.includes(v)) throw new ArgumentError(cmd, `--${flag} must be one of ${list.join(', ')}, got '${v}'`);
  return v as T;
}
