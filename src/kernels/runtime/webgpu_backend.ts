import { arrayFor, BYTES_PER_ELEMENT, type DType, type NumArray } from '../../core/dtype.js';
import { DeviceLostError, DisposedTensorError, GpuError, LimitError } from '../../core/errors.js';
import type { AdapterFacts, Backend, BackendStats, Binding, Bindings, DeviceLimits, RunOptions, Storage } from '../backend.js';
import { DEFAULT_POLICY, resolvePolicy, type KernelPolicy } from '../policy.js';
import { bindingParts, orderedBindings, specKeys } from '../backend.js';
import type { KernelSpec } from '../define_kernel.js';
import { CHECK_SLOTS, DeviceChecks } from '../device_checks.js';
import { createCheckBuffer, raiseChecks, stageChecks } from './gpu_checks.js';
import { BufferUsage, MapMode } from './gpu_constants.js';
import { PipelineCache } from './pipelines.js';
import { DispatchProfiler, type Profile, type ProfilingOptions } from './profiler.js';
import { BufferPool, UniformArena, type BufferPoolOptions } from './pool.js';

class GpuStorage implements Storage {
  freed = false;
  constructor(readonly buffer: GPUBuffer, readonly numel: number, readonly dtype: DType) {}
  get bytes() {
    return this.numel * BYTES_PER_ELEMENT;
  }
}

export interface WebGpuOptions {
  /** Submit after this many dispatches even without a sync point (keeps encoders bounded). */
  maxDispatchesPerSubmit?: number;
  /**
   * Submit when this many released bytes wait for a submit before they can be reused (default 64 MiB: buffers
   * freed early in a big step serve later requests instead of new buffers; a submit costs little).
   */
  maxPendingReleaseBytes?: number;
  /** Buffer pool tuning (cap, fit, eviction of idle buffers). */
  pool?: BufferPoolOptions;
  /** The kernel policy to start with (checked against the adapter); default all 'auto'. */
  kernels?: Partial<KernelPolicy>;
}

export type { AdapterFacts };

/**
 * The WebGPU backend: the only code that touches a GPUDevice. One command encoder and one compute pass
 * collect a whole step; it is submitted on a readback, on sync(), after many dispatches, or under memory pressure.
 */
export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu';
  readonly f64 = false;
  readonly limits: DeviceLimits;
  readonly description: string;
  policy: KernelPolicy;
  destroyed = false;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  /** Deferred checks (gpu_checks.ts): their buffer is copied out with the next download() or sync(), which throw. */
  readonly checks: DeviceChecks;
  readonly #arena: UniformArena;
  readonly #errors: Error[] = [];
  #lost: GPUDeviceLostInfo | null = null;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #sinceSubmit = 0;
  #profiler: DispatchProfiler | null = null;
  readonly #maxDispatches: number;
  readonly #maxPending: number;
  readonly #maxWorkgroups: number;
  #s = { liveStorages: 0, liveBytes: 0, peakBytes: 0, dispatches: 0, submits: 0 };

  constructor(readonly device: GPUDevice, readonly adapter: AdapterFacts, opts: WebGpuOptions = {}) {
    const lim = device.limits;
    this.limits = {
      maxBindingBytes: lim.maxStorageBufferBindingSize,
      maxBufferBytes: lim.maxBufferSize,
      bindingOffsetAlignment: lim.minStorageBufferOffsetAlignment,
    };
    this.policy = resolvePolicy(adapter, DEFAULT_POLICY, opts.kernels ?? {});
    this.description = adapter.description || `${adapter.vendor} ${adapter.architecture}`.trim() || 'WebGPU adapter';
    this.#maxWorkgroups = lim.maxComputeWorkgroupsPerDimension;
    this.#maxDispatches = opts.maxDispatchesPerSubmit ?? 2048;
    this.#maxPending = opts.maxPendingReleaseBytes ?? 64 * 1024 ** 2;
    this.pool = new BufferPool(device, lim.maxBufferSize, opts.pool);
    this.#arena = new UniformArena(device, lim.minUniformBufferOffsetAlignment);
    this.pipelines = new PipelineCache(device, (e) => this.#errors.push(e));
    this.checks = new DeviceChecks(new GpuStorage(createCheckBuffer(device), 2 * CHECK_SLOTS, 'u32'));
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.#errors.push(new GpuError(`WebGPU ${ev.error.constructor?.name ?? 'error'}: ${ev.error.message}`));
    };
    void device.lost.then((info) => {
      if (!this.destroyed) this.#lost = info;
    });
  }

  #check(op: string): void {
    if (this.destroyed) throw new DisposedTensorError(op, 'the device was destroyed');
    if (this.#lost) throw this.#lostError(op);
  }

  #lostError(op: string): DeviceLostError {
    return new DeviceLostError(op, this.#lost!.reason ?? 'unknown', this.#lost!.message || 'no message');
  }

  /**
   * After a failed WebGPU call: DeviceLostError when the device is lost (its lost promise may settle just after the
   * failure, so it is given a moment), else `e` itself.
   */
  async #lostOr(op: string, e: unknown): Promise<unknown> {
    if (!this.#lost) await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 100))]);
    return this.#lost ? this.#lostError(op) : e;
  }

  /** Throws (once) the first WebGPU error seen since the last call; DeviceLostError once the device is lost. */
  #throwErrors(op: string): void {
    if (this.#lost) throw this.#lostError(op);
    if (this.#errors.length) {
      const [first, ...rest] = this.#errors.splice(0);
      if (rest.length) first!.message += `\n(and ${rest.length} more WebGPU error(s): ${rest.map((e) => e.message).join(' | ').slice(0, 2000)})`;
      throw first;
    }
  }

  alloc(numel: number, dtype: DType): Storage {
    this.#check('alloc');
    const bytes = numel * BYTES_PER_ELEMENT;
    if (bytes > this.limits.maxBufferBytes) {
      throw new LimitError('alloc', 'maxBufferSize', bytes, this.limits.maxBufferBytes, `a tensor of ${numel} elements does not fit one buffer`);
    }
    const s = new GpuStorage(this.pool.acquire(bytes), numel, dtype);
    this.#s.liveStorages++;
    this.#s.liveBytes += bytes;
    if (this.#s.liveBytes > this.#s.peakBytes) this.#s.peakBytes = this.#s.liveBytes;
    return s;
  }

  free(s: Storage): void {
    const g = s as GpuStorage;
    if (g.freed) return;
    g.freed = true;
    this.#s.liveStorages--;
    this.#s.liveBytes -= g.bytes;
    if (this.destroyed) return;
    this.pool.release(g.buffer);
    if (this.pool.pendingBytes > this.#maxPending) this.flush();
  }

  upload(s: Storage, data: ArrayLike<number>): void {
    this.#check('upload');
    const g = s as GpuStorage;
    if (g.numel === 0) return;
    // Only an array of the storage's own element type is written as is: any other (Int32Array into f32, Float32Array
    // into i32, numbers) converts by value, as the CPU backend's set() does; its raw bits would be other numbers.
    const want = arrayFor(s.dtype, 0).constructor;
    const arr = ArrayBuffer.isView(data) && data.constructor === want ? (data as NumArray) : (() => {
      const a = arrayFor(s.dtype, s.numel);
      a.set(data);
      return a;
    })();
    this.device.queue.writeBuffer(g.buffer, 0, arr.buffer, arr.byteOffset, g.bytes);
  }

  #ensurePass(): GPUComputePassEncoder {
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    if (!this.#pass) this.#pass = this.#encoder.beginComputePass();
    return this.#pass;
  }

  #endPass(): GPUCommandEncoder {
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    return this.#encoder;
  }

  /** Folds a 1-D grid over the per-dimension limit into (x, y); kernels compute id = wid.y * nwg.x + wid.x. */
  foldGrid(kernel: string, grid: readonly number[]): [number, number, number] {
    let [x = 1, y = 1, z = 1] = grid;
    const max = this.#maxWorkgroups;
    if (x > max && y === 1 && z === 1) {
      y = Math.ceil(x / max);
      x = Math.ceil(x / y);
    }
    for (const d of [x, y, z]) {
      if (d > max) throw new LimitError(kernel, 'maxComputeWorkgroupsPerDimension (in workgroups)', d, max, `grid [${grid.join(', ')}] cannot be folded`);
    }
    return [x, y, z];
  }

  run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>, opts?: RunOptions): void {
    this.#check(spec.name);
    const bindings = orderedBindings(spec, reads, writes, params);
    const constants = { ...spec.constants, ...opts?.constants };
    const grid = this.foldGrid(spec.name, spec.grid(params, constants));
    if (grid[0] * grid[1] * grid[2] === 0) return;
    const entries: GPUBindGroupEntry[] = [];
    let bound = 0;
    const bind = (b: Binding, i: number) => {
      const { storage, offset, numel } = bindingParts(b);
      const g = storage as GpuStorage;
      if (g.freed) throw new DisposedTensorError(spec.name, `binding ${i} uses a storage that was already freed`);
      const bytes = Math.max(numel, 1) * BYTES_PER_ELEMENT;
      if (bytes > this.limits.maxBindingBytes) {
        throw new LimitError(spec.name, 'maxStorageBufferBindingSize', bytes, this.limits.maxBindingBytes, `binding ${i} covers ${numel} elements; split the op`);
      }
      const off = offset * BYTES_PER_ELEMENT;
      if (off % this.limits.bindingOffsetAlignment) {
        throw new LimitError(spec.name, 'minStorageBufferOffsetAlignment', off, this.limits.bindingOffsetAlignment, 'binding offset is not aligned');
      }
      entries.push({ binding: i, resource: { buffer: g.buffer, offset: off, size: bytes } });
      bound += bytes;
    };
    bindings.forEach(bind);
    const { pipeline, layout } = this.pipelines.get(spec, constants);
    const pkeys = specKeys(spec).params;
    if (pkeys.length) {
      const buf = new ArrayBuffer(Math.ceil((pkeys.length * 4) / 16) * 16);
      const dv = new DataView(buf);
      pkeys.forEach((k, i) => {
        const v = params[k]!;
        const t = (spec.params as Record<string, string>)[k];
        if (t === 'f32') dv.setFloat32(i * 4, v, true);
        else if (t === 'i32') dv.setInt32(i * 4, v, true);
        else dv.setUint32(i * 4, v, true);
      });
      const slot = this.#arena.alloc(buf);
      entries.push({ binding: bindings.length, resource: { buffer: slot.buffer, offset: slot.offset, size: slot.size } });
    }
    const prof = this.#profiler;
    if (prof?.full) this.flush();
    // Profiling: every dispatch in its own pass (timestampWrites bracket exactly one dispatch).
    const pass = prof ? prof.beginPass(this.#endPass(), spec, params, constants, bound) : this.#ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.device.createBindGroup({ layout, entries }));
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (prof) pass.end();
    this.#s.dispatches++;
    if (++this.#sinceSubmit >= this.#maxDispatches || prof?.submitEachDispatch) this.flush();
  }

  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, numel: number): void {
    this.#check('copy');
    if (numel === 0) return;
    const enc = this.#endPass();
    enc.copyBufferToBuffer((src as GpuStorage).buffer, srcOffset * 4, (dst as GpuStorage).buffer, dstOffset * 4, numel * 4);
  }

  flush(): void {
    if (this.destroyed) return;
    if (!this.#encoder) {
      // Nothing encoded since the last submit: no pending command reads the buffers released since then.
      this.pool.afterSubmit();
      return;
    }
    const enc = this.#endPass();
    this.#arena.upload(this.device.queue);
    this.#profiler?.beforeSubmit(enc);
    this.device.queue.submit([enc.finish()]);
    this.#profiler?.afterSubmit(this.device.queue);
    this.#encoder = null;
    this.#sinceSubmit = 0;
    this.#s.submits++;
    this.pool.afterSubmit();
  }

  async download(s: Storage): Promise<NumArray> {
    this.#check('download');
    const g = s as GpuStorage;
    const out = arrayFor(s.dtype, s.numel);
    if (s.numel === 0) return out;
    if (g.freed) throw new DisposedTensorError('download', 'the storage was already freed');
    const staging = this.device.createBuffer({ size: g.bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.#endPass().copyBufferToBuffer(g.buffer, 0, staging, 0, g.bytes);
    const checked = this.#stageChecks();
    this.flush();
    try {
      await staging.mapAsync(MapMode.READ);
      new Uint8Array(out.buffer).set(new Uint8Array(staging.getMappedRange()));
      staging.unmap();
    } catch (e) {
      throw await this.#lostOr('download', e);
    } finally {
      staging.destroy();
    }
    this.#throwErrors('download');
    await raiseChecks(checked);
    return out;
  }

  #stageChecks() {
    return stageChecks(this.device, () => this.#endPass(), this.checks, (this.checks.storage as GpuStorage).buffer);
  }

  async sync(): Promise<void> {
    this.#check('sync');
    const checked = this.#stageChecks();
    this.flush();
    try {
      await this.device.queue.onSubmittedWorkDone();
    } catch (e) {
      throw await this.#lostOr('sync', e);
    }
    this.#throwErrors('sync');
    await raiseChecks(checked);
  }

  /**
   * Times every dispatch from now on (each in its own compute pass with GPU timestamps when the device has
   * 'timestamp-query', else submitted alone and timed on the CPU clock) until stopProfiling().
   */
  startProfiling(opts: ProfilingOptions = {}): void {
    this.#check('startProfiling');
    if (this.#profiler) throw new GpuError('startProfiling: already profiling (call stopProfiling first)');
    this.flush();
    this.#profiler = new DispatchProfiler(this.device, opts);
  }

  /** Ends profiling: per-kernel totals (slowest first) and per-dispatch samples of everything since startProfiling(). */
  async stopProfiling(): Promise<Profile> {
    const prof = this.#profiler;
    if (!prof) throw new GpuError('stopProfiling: not profiling (call startProfiling first)');
    this.flush();
    this.#profiler = null;
    const profile = await prof.finish();
    this.#throwErrors('stopProfiling');
    return profile;
  }

  get profiling(): boolean {
    return this.#profiler !== null;
  }

  stats(): BackendStats {
    return { ...this.#s, pooledBytes: this.pool.pooledBytes, allocations: this.pool.allocations };
  }

  resetPeak(): void {
    this.#s.peakBytes = this.#s.liveBytes;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    try {
      this.flush();
      await this.device.queue.onSubmittedWorkDone();
    } finally {
      this.destroyed = true;
      this.pool.trim();
      this.#arena.destroy();
      this.device.onuncapturederror = null;
      this.device.destroy();
    }
  }
}
