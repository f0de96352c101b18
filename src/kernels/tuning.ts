// Measured kernel choices per device (the autotuner's table): for an op family and a shape bucket, the choice that
// timed fastest on this adapter. 'auto' consults it before its fixed rules: matmul's kernel family, and the family of
// each direct convolution launch (forward / input gradient, weight gradient: portable, subgroup or tiled). Winograd
// keeps its measured rule: its choice spans several kernels and memory passes, not one launch. `unet-webgpu kernels tune` fills it with GPU-timestamp timings; in Node a device
// loads its adapter's table from the cache when it opens (src/node.ts); in a browser, setTuning() takes one (memory;
// tuning_idb.ts keeps it in IndexedDB). tuneStep (src/bench/lab/tune.ts) measures a table for any model.
import { ArgumentError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { CHOICES, DIRECT_CONV_FAMILIES } from './policy.js';

/** One bucket's measurement: the fastest choice, each candidate's median GPU ms, the launch timed. */
export interface TunedChoice {
  readonly choice: string;
  readonly ms: Readonly<Record<string, number>>;
  readonly launch: string;
}

/** A device's tuning table: adapter fingerprint, when it was measured, and the choice per `op bucket` key. */
export interface TuningTable {
  readonly fingerprint: string;
  readonly measuredAt: string;
  readonly entries: Readonly<Record<string, TunedChoice>>;
}

/** The op families the tuner chooses for (the first word of a bucket key), with the choices a bucket may take. */
export const TUNED_OPS: Readonly<Record<string, readonly string[]>> = {
  matmul: CHOICES.matmul.filter((c) => c !== 'auto'),
  conv_fwd: DIRECT_CONV_FAMILIES,
  conv_wgrad: DIRECT_CONV_FAMILIES,
};

const TABLES = new WeakMap<Backend, TuningTable>();

/** Sets (or clears, null) the tuning table of `dev`; an entry whose choice its op does not have is an ArgumentError. */
export function setTuning(dev: Backend, table: TuningTable | null): void {
  if (!table) {
    TABLES.delete(dev);
    return;
  }
  for (const [key, e] of Object.entries(table.entries)) {
    const op = key.split(' ')[0]!;
    const choices = Object.hasOwn(TUNED_OPS, op) ? TUNED_OPS[op]! : null;
    if (!choices) throw new ArgumentError('setTuning', `entry '${key}': no tuned op '${op}' (tuned: ${Object.keys(TUNED_OPS).join(', ')})`);
    if (!choices.includes(e.choice)) throw new ArgumentError('setTuning', `entry '${key}': choice '${e.choice}' is not one of ${choices.join(', ')}`);
  }
  TABLES.set(dev, table);
}

/** The tuning table of `dev`, or null. */
export function tuningOf(dev: Backend): TuningTable | null {
  return TABLES.get(dev) ?? null;
}

/** The measured choice for `key` on `dev`, or null (no table, or a bucket it did not measure). */
export function tunedChoice(dev: Backend, key: string): string | null {
  return TABLES.get(dev)?.entries[key]?.choice ?? null;
}

/** The power of two at or above x (at least 4): the size classes of a bucket. */
const ceil2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(4, x)));

/**
 * The bucket of one matmul launch: transposes, size classes of m, n, k, and whether the vec4 kernel fits
 * (`matmul NT m64 n256 k256 v4`).
 */
export function matmulBucket(p: { m: number; n: number; k: number; ta: number; tb: number }, vec4: boolean): string {
  return `matmul ${p.ta ? 'T' : 'N'}${p.tb ? 'T' : 'N'} m${ceil2(p.m)} n${ceil2(p.n)} k${ceil2(p.k)}${vec4 ? ' v4' : ''}`;
}

/**
 * The bucket of one direct forward convolution launch (conv2d, convTranspose2d and their input gradients): direct or
 * transposed, taps, strides, size classes of the input and output channels and of the output pixels
 * (`conv_fwd D k3x3 s1x1 ci64 co64 px16384`).
 */
export function convFwdBucket(p: { n: number; cin: number; cout: number; oh: number; ow: number; kh: number; kw: number; sh: number; sw: number }, transposed: boolean): string {
  return `conv_fwd ${transposed ? 'T' : 'D'} k${p.kh}x${p.kw} s${p.sh}x${p.sw} ci${ceil2(p.cin)} co${ceil2(p.cout)} px${ceil2(p.n * p.oh * p.ow)}`;
}

/**
 * The bucket of one weight-gradient launch: taps, strides, size classes of the two channel counts and of the pixels
 * per slice (`conv_wgrad k3x3 s1x1 a64 b64 px2048`).
 */
export function convWgradBucket(p: { a: number; b: number; kh: number; kw: number; sh: number; sw: number; rows: number; gw: number }): string {
  return `conv_wgrad k${p.kh}x${p.kw} s${p.sh}x${p.sw} a${ceil2(p.a)} b${ceil2(p.b)} px${ceil2(p.rows * p.gw)}`;
}

/** The adapter fingerprint tables (and the lab's peaks) are cached under: driver, features, subgroup sizes, lavapipe's env knobs. */
export function adapterFingerprint(dev: Backend, env: Readonly<Record<string, string | undefined>> = {}): string {
  const a = dev.adapter;
  return [
    a?.description || dev.description,
    `${a?.vendor ?? ''}/${a?.architecture ?? ''}`,
    `features=${a?.features.join(',') ?? ''}`,
    `subgroups=${a?.subgroupMinSize ?? '?'}-${a?.subgroupMaxSize ?? '?'}`,
    `LP_NATIVE_VECTOR_WIDTH=${env.LP_NATIVE_VECTOR_WIDTH ?? ''}`,
    `LP_NUM_THREADS=${env.LP_NUM_THREADS ?? ''}`,
  ].join(' | ');
}
