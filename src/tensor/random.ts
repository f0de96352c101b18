/** A small seeded PRNG (xoshiro128**), so random tensors are the same on every device and run. */
export class Rng {
  #s = new Uint32Array(4);

  constructor(seed: number) {
    // splitmix32 expands the seed into the 128-bit state.
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** The 128-bit state as four u32 (a checkpoint stores it; `Rng.fromState` resumes the exact sequence). */
  getState(): number[] {
    return Array.from(this.#s);
  }

  /** A generator continuing from a `getState()`. */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) throw new RangeError(`Rng.fromState: want four u32, got ${JSON.stringify(state)}`);
    const r = new Rng(0);
    r.#s.set(state);
    return r;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  nextU32(): number {
    const s = this.#s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let globalRng = new Rng(0x5eed);

/** Seeds the generator used by rand/randn/initialisers when no seed is given (torch.manual_seed). */
export function manualSeed(seed: number): void {
  globalRng = new Rng(seed);
}

/** The generator for a call: a fresh one for an explicit seed, else the global one. */
export function rngFor(seed?: number): Rng {
  return seed === undefined ? globalRng : new Rng(seed);
}

/** The global generator's state (activation checkpointing replays dropout masks from it). */
export function globalRngState(): number[] {
  return globalRng.getState();
}

/** Puts the global generator back to a `globalRngState()`. */
export function setGlobalRngState(state: readonly number[]): void {
  globalRng = Rng.fromState(state);
}
