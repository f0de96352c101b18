import { arrayFor, BYTES_PER_ELEMENT, type DType, type NumArray } from '../../core/dtype.js';
import { DisposedTensorError } from '../../core/errors.js';
import type { Backend, BackendStats, Binding, Bindings, RunOptions, Storage } from '../backend.js';
import { bindingParts, orderedBindings } from '../backend.js';
import type { KernelSpec } from '../define_kernel.js';
import { CHECK_SLOTS, DeviceChecks } from '../device_checks.js';
import { DEFAULT_POLICY, type KernelPolicy } from '../policy.js';

class CpuStorage implements Storage {
  freed = false;
  constructor(readonly data: NumArray, readonly dtype: DType) {}
  get numel() {
    return this.data.length;
  }
  get bytes() {
    return this.data.length * BYTES_PER_ELEMENT;
  }
}

/**
 * Runs every kernel's CPU reference on typed arrays. With `f64`, f32 tensors are held in Float64Array,
 * which is what gradcheck needs. It has no binding limits: it is the ground truth the GPU is checked against.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu';
  readonly description: string;
  readonly limits = { maxBindingBytes: Number.MAX_SAFE_INTEGER, maxBufferBytes: Number.MAX_SAFE_INTEGER, bindingOffsetAlignment: 4 };
  readonly adapter = null;
  policy: KernelPolicy = DEFAULT_POLICY;
  destroyed = false;
  /** Deferred checks: the buffer is a plain array outside the stats; download() and sync() throw what it recorded. */
  readonly checks = new DeviceChecks(new CpuStorage(new Uint32Array(2 * CHECK_SLOTS), 'u32'));
  #s: BackendStats = { liveStorages: 0, liveBytes: 0, pooledBytes: 0, peakBytes: 0, dispatches: 0, submits: 0, allocations: 0 };

  constructor(readonly f64 = false) {
    this.description = f64 ? 'cpu (float64 reference)' : 'cpu (float32 reference)';
  }

  alloc(numel: number, dtype: DType): Storage {
    const s = new CpuStorage(arrayFor(dtype, numel, this.f64), dtype);
    this.#s.liveStorages++;
    this.#s.allocations++;
    this.#s.liveBytes += s.bytes;
    this.#s.peakBytes = Math.max(this.#s.peakBytes, this.#s.liveBytes);
    return s;
  }

  free(s: Storage): void {
    const c = s as CpuStorage;
    if (c.freed) return;
    c.freed = true;
    this.#s.liveStorages--;
    this.#s.liveBytes -= c.bytes;
  }

  upload(s: Storage, data: ArrayLike<number>): void {
    (s as CpuStorage).data.set(data);
  }

  async download(s: Storage): Promise<NumArray> {
    this.#raiseChecks();
    return (s as CpuStorage).data.slice();
  }

  /** Throws the first failure the checking kernels recorded since the last read, after clearing the buffer. */
  #raiseChecks(): void {
    const read = this.checks.take();
    if (!read) return;
    const words = (this.checks.storage as CpuStorage).data;
    const err = read(words);
    words.fill(0);
    if (err) throw err;
  }

  /** The live array of a storage, for code that runs on the CPU anyway (tests, fixtures). */
  view(s: Storage): NumArray {
    return (s as CpuStorage).data;
  }

  run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>, opts?: RunOptions): void {
    orderedBindings(spec, reads, writes, params);
    const arr = (b: Binding) => {
      const { storage, offset, numel } = bindingParts(b);
      const c = storage as CpuStorage;
      if (c.freed) throw new DisposedTensorError(spec.name, 'a bound storage was already freed');
      return offset === 0 && numel === c.data.length ? c.data : c.data.subarray(offset, offset + numel);
    };
    const r: Record<string, NumArray> = {};
    const w: Record<string, NumArray> = {};
    for (const k of Object.keys(spec.reads)) r[k] = arr(reads[k]!);
    for (const k of Object.keys(spec.writes)) w[k] = arr(writes[k]!);
    spec.ref(r, w, params, { ...spec.constants, ...opts?.constants });
    this.#s.dispatches++;
  }

  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, numel: number): void {
    (dst as CpuStorage).data.set((src as CpuStorage).data.subarray(srcOffset, srcOffset + numel), dstOffset);
  }

  flush(): void {}
  async sync(): Promise<void> {
    this.#raiseChecks();
  }
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
