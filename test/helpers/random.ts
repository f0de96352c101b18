import { Rng } from '../../src/tensor/random.js';

// Fresh inputs every run, reproducible on demand: the seed is printed, and TEST_SEED=<n> replays it.
export const TEST_SEED = process.env.TEST_SEED ? Number(process.env.TEST_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
let announced = false;

/** A generator for one test; `salt` keeps tests independent of each other's draw order. */
export function rng(salt = 0): Rng {
  if (!announced) {
    announced = true;
    console.log(`[test] random seed ${TEST_SEED} (replay with TEST_SEED=${TEST_SEED})`);
  }
  return new Rng((TEST_SEED + Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
}

export function randnArray(r: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * r.normal();
  return a;
}

export function uniformArray(r: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.uniform();
  return a;
}

/** An integer in [lo, hi]. */
export function randInt(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r.uniform() * (hi - lo + 1));
}

/** A random shape of rank `rank` with dims in [lo, hi] (odd sizes appear naturally). */
export function randShape(r: Rng, rank: number, lo = 1, hi = 7): number[] {
  return Array.from({ length: rank }, () => randInt(r, lo, hi));
}
