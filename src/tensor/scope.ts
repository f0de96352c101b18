import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

/** Internal: every new user-visible tensor handle joins the innermost tidy() scope. */
export function trackInScope(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Internal: removes a handle from every open scope (grads, module parameters, optimizer state). */
export function untrack(t: Tensor): void {
  for (const s of scopes) s.delete(t);
}

/** Keeps `t` alive past the enclosing tidy() scopes; returns it. */
export function keep<T extends Tensor>(t: T): T {
  untrack(t);
  return t;
}

function collect(v: unknown, out: Set<Tensor>, depth = 0): void {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if ((v as { shareRef?: unknown }).shareRef && 'shape' in (v as object)) {
    out.add(v as Tensor);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor handle created inside it, except those it returns (directly, in an
 * array or in a plain object) and those passed to keep(). When `fn` throws, every one is disposed and the error
 * rethrown. Synchronous only, as in tfjs.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new TypeError('tidy: fn must be synchronous (it returned a Promise)');
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) {
    if (kept.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}
