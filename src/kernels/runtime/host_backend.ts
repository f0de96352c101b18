import type { DType, NumArray } from '../../core/dtype.js';
import type { AdapterFacts, Backend, BackendStats, Bindings, DeviceLimits, RunOptions, Storage } from '../backend.js';
import type { KernelSpec } from '../define_kernel.js';
import { DEFAULT_POLICY, type KernelPolicy } from '../policy.js';

/**
 * What the devices on the host share (the CPU reference device and the meta device): no adapter, no binding limits,
 * nothing to submit or wait for, and storage accounting for stats().
 */
export abstract class HostBackend implements Backend {
  readonly kind = 'cpu';
  abstract readonly description: string;
  abstract readonly f64: boolean;
  readonly limits: DeviceLimits = { maxBindingBytes: Number.MAX_SAFE_INTEGER, maxBufferBytes: Number.MAX_SAFE_INTEGER, bindingOffsetAlignment: 4 };
  readonly adapter: AdapterFacts | null = null;
  policy: KernelPolicy = DEFAULT_POLICY;
  destroyed = false;
  protected readonly counters: BackendStats = { liveStorages: 0, liveBytes: 0, pooledBytes: 0, peakBytes: 0, dispatches: 0, submits: 0, allocations: 0 };

  /** Counts a new storage of `bytes` (`allocated`: host memory was allocated for it, which the meta device never does). */
  protected countAlloc(bytes: number, allocated = true): void {
    const s = this.counters;
    s.liveStorages++;
    if (allocated) s.allocations++;
    s.liveBytes += bytes;
    if (s.liveBytes > s.peakBytes) s.peakBytes = s.liveBytes;
  }

  /** Counts a freed storage of `bytes`. */
  protected countFree(bytes: number): void {
    this.counters.liveStorages--;
    this.counters.liveBytes -= bytes;
  }

  abstract alloc(numel: number, dtype: DType): Storage;
  abstract free(s: Storage): void;
  abstract upload(s: Storage, data: ArrayLike<number>): void;
  abstract download(s: Storage): Promise<NumArray>;
  abstract run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>, opts?: RunOptions): void;
  abstract copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, numel: number): void;

  flush(): void {}
  async sync(): Promise<void> {}
  stats(): BackendStats {
    return { ...this.counters };
  }
  resetPeak(): void {
    this.counters.peakBytes = this.counters.liveBytes;
  }
  async destroy(): Promise<void> {
    this.destroyed = true;
  }
}
