import type { DType, NumArray } from '../core/dtype.js';
import type { Constants, KernelSpec } from './define_kernel.js';

/** A backend's handle on one allocation of `numel` elements of `dtype`. Owned by the backend. */
export interface Storage {
  readonly numel: number;
  readonly dtype: DType;
  readonly bytes: number;
}

/** A storage bound whole, or a window of it: `offset` and `numel` in elements (offset*4 must be 256-aligned on WebGPU). */
export type Binding = Storage | { readonly storage: Storage; readonly offset: number; readonly numel: number };

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
  alloc(numel: number, dtype: DType): Storage;
  free(s: Storage): void;
  /** Writes `data` into a storage that no pending work reads (a fresh allocation). */
  upload(s: Storage, data: ArrayLike<number>): void;
  /** Flushes pending work and reads the whole storage back. */
  download(s: Storage): Promise<NumArray>;
  /** Encodes one kernel launch; work may be deferred until flush/download. */
  run(spec: KernelSpec, reads: readonly Binding[], writes: readonly Binding[], params: Readonly<Record<string, number>>, opts?: RunOptions): void;
  /** Copies `numel` elements between storages (offsets in elements). */
  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, numel: number): void;
  /** Submits pending work. */
  flush(): void;
  /** Waits until all submitted work is done; rethrows any device error seen so far. */
  sync(): Promise<void>;
  stats(): BackendStats;
  resetPeak(): void;
  /** Releases the device; the backend is unusable afterwards. */
  destroy(): Promise<void>;
  readonly destroyed: boolean;
}

export function bindingParts(b: Binding): { storage: Storage; offset: number; numel: number } {
  return 'storage' in b ? b : { storage: b, offset: 0, numel: b.numel };
}
