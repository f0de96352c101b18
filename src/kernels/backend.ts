import type { DType, NumArray } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import type { Constants, KernelSpec } from './define_kernel.js';
import type { DeviceChecks } from './device_checks.js';
import type { KernelPolicy } from './policy.js';

/** A backend's handle on one allocation of `numel` elements of `dtype`. Owned by the backend. */
export interface Storage {
  readonly numel: number;
  readonly dtype: DType;
  readonly bytes: number;
}

/** A storage bound whole, or a window of it: `offset` and `numel` in elements (offset*4 must be 256-aligned on WebGPU). */
export type Binding = Storage | { readonly storage: Storage; readonly offset: number; readonly numel: number };

/** A launch's bindings by the spec's names: `reads` and `writes` cover exactly the spec's keys. */
export type Bindings = Readonly<Record<string, Binding>>;

export interface RunOptions {
  readonly constants?: Constants;
}

export interface BackendStats {
  /** Storages allocated and not yet freed, and their bytes. */
  liveStorages: number;
  liveBytes: number;
  /** Bytes held by the buffer pool for reuse (WebGPU only). */
  pooledBytes: number;
  /** Highest liveBytes seen since the device opened (or since resetPeak). */
  peakBytes: number;
  dispatches: number;
  submits: number;
  /** Buffers created (pool misses). */
  allocations: number;
}

export interface DeviceLimits {
  /** Largest range one storage binding may cover. */
  readonly maxBindingBytes: number;
  /** Largest single allocation. */
  readonly maxBufferBytes: number;
  /** Offsets of windowed bindings must be multiples of this many bytes. */
  readonly bindingOffsetAlignment: number;
}

/** What a WebGPU device knows of its adapter: the facts kernel choice depends on. */
export interface AdapterFacts {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly features: readonly string[];
  readonly subgroupMinSize?: number;
  readonly subgroupMaxSize?: number;
}

/**
 * What the tensor layer needs from a device: allocate, upload, run a kernel, download.
 * Two implementations: WebGPU (the product) and CPU (each kernel's reference, in f32 or f64).
 */
export interface Backend {
  readonly kind: 'webgpu' | 'cpu';
  /** Human-readable description (adapter name for WebGPU). */
  readonly description: string;
  /** True when f32 tensors are held in float64 (the CPU backend's gradcheck mode). */
  readonly f64: boolean;
  readonly limits: DeviceLimits;
  /** The adapter's facts (WebGPU), or null for the CPU reference devices (which run every kernel family). */
  readonly adapter: AdapterFacts | null;
  /** Which kernel family each op uses on this device; change it with setKernelPolicy (checked against `adapter`). */
  policy: KernelPolicy;
  alloc(numel: number, dtype: DType): Storage;
  free(s: Storage): void;
  /** Writes `data` into a storage that no pending work reads (a fresh allocation). */
  upload(s: Storage, data: ArrayLike<number>): void;
  /** Flushes pending work and reads the whole storage back. */
  download(s: Storage): Promise<NumArray>;
  /**
   * Encodes one kernel launch; work may be deferred until flush/download. Bindings and params are named by the
   * spec (checked by orderedBindings: a missing or unknown name throws).
   */
  run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>, opts?: RunOptions): void;
  /** Copies `numel` elements between storages (offsets in elements). */
  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, numel: number): void;
  /** Submits pending work. */
  flush(): void;
  /** Waits until all submitted work is done; rethrows any device error seen so far. */
  sync(): Promise<void>;
  stats(): BackendStats;
  /**
   * The device's deferred checks (kernels count invalid inputs into its buffer; the next download() or sync() throws
   * the first failure). Absent on devices that run nothing (meta): ops then skip their checking launches.
   */
  readonly checks?: DeviceChecks;
  resetPeak(): void;
  /** Releases the device; the backend is unusable afterwards. */
  destroy(): Promise<void>;
  readonly destroyed: boolean;
}

export function bindingParts(b: Binding): { storage: Storage; offset: number; numel: number } {
  return 'storage' in b ? b : { storage: b, offset: 0, numel: b.numel };
}


/** A spec's binding and param names in order, computed once per spec (launches are the hot path). */
interface SpecKeys {
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly params: readonly string[];
}
const SPEC_KEYS = new WeakMap<KernelSpec, SpecKeys>();

export function specKeys(spec: KernelSpec): SpecKeys {
  let k = SPEC_KEYS.get(spec);
  if (!k) SPEC_KEYS.set(spec, (k = { reads: Object.keys(spec.reads), writes: Object.keys(spec.writes), params: Object.keys(spec.params) }));
  return k;
}

/** Throws naming the missing and unknown names unless `got` has exactly the names `want`. */
function checkKeys(spec: KernelSpec, what: string, want: readonly string[], got: object): void {
  let ok = true;
  for (const k of want) if (!(k in got)) ok = false;
  let n = 0;
  for (const _ in got) n++;
  if (ok && n === want.length) return;
  const missing = want.filter((k) => !(k in got));
  const unknown = Object.keys(got).filter((k) => !want.includes(k));
  const parts = [missing.length ? `missing ${missing.join(', ')}` : '', unknown.length ? `unknown ${unknown.join(', ')}` : ''].filter(Boolean);
  throw new ArgumentError(spec.name, `${what} ${parts.join('; ')} (the kernel takes ${what} ${want.join(', ') || 'none'})`);
}

/**
 * The launch's bindings in binding order (the spec's reads, then its writes, in key order), after checking that
 * reads, writes and params name exactly the spec's bindings and params: the one check every backend makes.
 */
export function orderedBindings(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>): Binding[] {
  const k = specKeys(spec);
  checkKeys(spec, 'reads', k.reads, reads);
  checkKeys(spec, 'writes', k.writes, writes);
  checkKeys(spec, 'params', k.params, params);
  const out: Binding[] = [];
  for (const n of k.reads) out.push(reads[n]!);
  for (const n of k.writes) out.push(writes[n]!);
  return out;
}

/** Names positional bindings (the spec's order), for recorded launches replayed on another variant of a kernel. */
export function bindByOrder(spec: KernelSpec, reads: readonly Binding[], writes: readonly Binding[]): { reads: Bindings; writes: Bindings } {
  const name = (keys: string[], bs: readonly Binding[], what: string) => {
    if (keys.length !== bs.length) throw new ArgumentError(spec.name, `${bs.length} ${what} given, the kernel takes ${keys.length} (${keys.join(', ') || 'none'})`);
    return Object.fromEntries(keys.map((k, i) => [k, bs[i]!]));
  };
  return { reads: name(Object.keys(spec.reads), reads, 'reads'), writes: name(Object.keys(spec.writes), writes, 'writes') };
}
