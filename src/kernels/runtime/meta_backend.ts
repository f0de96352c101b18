import { BYTES_PER_ELEMENT, type DType, type NumArray } from '../../core/dtype.js';
import { MetaTensorError } from '../../core/errors.js';
import type { Bindings, Storage } from '../backend.js';
import { HostBackend } from './host_backend.js';
import { orderedBindings } from '../backend.js';
import type { KernelSpec } from '../define_kernel.js';

/**
 * A device that allocates nothing and runs nothing: shapes flow through every op (shape checks included),
 * so summaries and size planning of big models are instant (PyTorch's 'meta' device). Reading data throws.
 */
export class MetaBackend extends HostBackend {
  readonly description = 'meta (shapes only, no data)';
  readonly f64 = false;

  alloc(numel: number, dtype: DType): Storage {
    this.countAlloc(numel * BYTES_PER_ELEMENT, false);
    return { numel, dtype, bytes: numel * BYTES_PER_ELEMENT };
  }
  free(s: Storage): void {
    this.countFree(s.bytes);
  }
  upload(): void {}
  async download(s: Storage): Promise<NumArray> {
    throw new MetaTensorError('download', `a meta storage of ${s.numel} elements has a shape but no data`);
  }
  run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>): void {
    orderedBindings(spec, reads, writes, params);
    this.counters.dispatches++;
  }
  copy(): void {}
}
