import { arrayFor, BYTES_PER_ELEMENT, type DType, type NumArray } from '../../core/dtype.js';
import { DisposedTensorError } from '../../core/errors.js';
import type { Binding, Bindings, RunOptions, Storage } from '../backend.js';
import { bindingParts, orderedBindings, specKeys } from '../backend.js';
import type { KernelSpec } from '../define_kernel.js';
import { CHECK_SLOTS, DeviceChecks } from '../device_checks.js';
import { HostBackend } from './host_backend.js';

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
export class CpuBackend extends HostBackend {
  readonly description: string;
  /** Deferred checks: the buffer is a plain array outside the stats; download() and sync() throw what it recorded. */
  readonly checks = new DeviceChecks(new CpuStorage(new Uint32Array(2 * CHECK_SLOTS), 'u32'));

  constructor(readonly f64 = false) {
    super();
    this.description = f64 ? 'cpu (float64 reference)' : 'cpu (float32 reference)';
  }

  alloc(numel: number, dtype: DType): Storage {
    const s = new CpuStorage(arrayFor(dtype, numel, this.f64), dtype);
    this.countAlloc(s.bytes);
    return s;
  }

  free(s: Storage): void {
    const c = s as CpuStorage;
    if (c.freed) return;
    c.freed = true;
    this.countFree(c.bytes);
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
    const k = specKeys(spec);
    orderedBindings(spec, reads, writes, params);
    const arr = (b: Binding) => {
      const { storage, offset, numel } = bindingParts(b);
      const c = storage as CpuStorage;
      if (c.freed) throw new DisposedTensorError(spec.name, 'a bound storage was already freed');
      return offset === 0 && numel === c.data.length ? c.data : c.data.subarray(offset, offset + numel);
    };
    const r: Record<string, NumArray> = {};
    const w: Record<string, NumArray> = {};
    for (const n of k.reads) r[n] = arr(reads[n]!);
    for (const n of k.writes) w[n] = arr(writes[n]!);
    spec.ref(r, w, params, { ...spec.constants, ...opts?.constants });
    this.counters.dispatches++;
  }

  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, numel: number): void {
    (dst as CpuStorage).data.set((src as CpuStorage).data.subarray(srcOffset, srcOffset + numel), dstOffset);
  }

  override async sync(): Promise<void> {
    this.#raiseChecks();
  }
}
