import { BYTES_PER_ELEMENT, type DType, type NumArray } from '../../core/dtype.js';
import { MetaTensorError } from '../../core/errors.js';
import type { AdapterFacts, Backend, BackendStats, Bindings, Storage } from '../backend.js';
import { DEFAULT_POLICY, type KernelPolicy } from '../policy.js';
import { orderedBindings } from '../backend.js';
import type { KernelSpec } from '../define_kernel.js';

/**
 * A device that allocates nothing and runs nothing: shapes flow through every op (shape checks included),
 * so summaries and size planning of big models are instant (PyTorch's 'meta' device). Reading data throws.
 */
export class MetaBackend implements Backend {
  readonly kind = 'cpu';
  readonly description = 'meta (shapes only, no data)';
  readonly f64 = false;
  readonly limits = { maxBindingBytes: Number.MAX_SAFE_INTEGER, maxBufferBytes: Number.MAX_SAFE_INTEGER, bindingOffsetAlignment: 4 };
  readonly adapter: AdapterFacts | null = null;
  policy: KernelPolicy = DEFAULT_POLICY;
  destroyed = false;
  #s: BackendStats = { liveStorages: 0, liveBytes: 0, pooledBytes: 0, peakBytes: 0, dispatches: 0, submits: 0, allocations: 0 };

  alloc(numel: number, dtype: DType): Storage {
    this.#s.liveStorages++;
    this.#s.liveBytes += numel * BYTES_PER_ELEMENT;
    this.#s.peakBytes = Math.max(this.#s.peakBytes, this.#s.liveBytes);
    return { numel, dtype, bytes: numel * BYTES_PER_ELEMENT };
  }
  free(s: Storage): void {
    this.#s.liveStorages--;
    this.#s.liveBytes -= s.bytes;
  }
  upload(): void {}
  async download(s: Storage): Promise<NumArray> {
    throw new MetaTensorError('download', `a meta storage of ${s.numel} elements has a shape but no data`);
  }
  run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>): void {
    orderedBindings(spec, reads, writes, params);
    this.#s.dispatches++;
  }
  copy(): void {}
  flush(): void {}
  async sync(): Promise<void> {}
  stats(): BackendStats {
    return { ...this.#s };
  }
  resetPeak(): void {
    this.#s.peakBytes = this.#s.liveBytes;
  }
  async destroy(): Promise<void> {
    this.destroyed = true;
  }
}
