import type { Constants, KernelSpec } from '../define_kernel.js';
import { BufferUsage, MapMode } from './gpu_constants.js';

/** One kernel's totals over a profiled span (the fields the bench runner and the kernel lab print). */
export interface KernelProfile {
  kernel: string;
  dispatches: number;
  gpu_ms: number;
  /** Sum of the launches' KernelSpec.cost flops (0 for kernels without a cost). */
  flops: number;
  /** Sum of the launches' cost bytes (the bound bytes for kernels without a cost). */
  bytes: number;
}

/** One dispatch of a profiled span, in launch order. */
export interface DispatchSample {
  kernel: string;
  gpu_ms: number;
  flops: number;
  bytes: number;
}

/**
 * Where the times come from. 'timestamp-query': GPU timestamps around each dispatch (each in its own compute pass
 * with timestampWrites). 'cpu-clock': the device has no 'timestamp-query'; every dispatch was submitted alone and
 * timed on the CPU clock from its submit (or the previous dispatch's completion) to its completion: accurate only
 * when the caller awaits the device between dispatches (the kernel lab does), otherwise a rough split of the total.
 */
export type ProfileSource = 'timestamp-query' | 'cpu-clock';

/** What `stopProfiling()` returns. */
export interface Profile {
  source: ProfileSource;
  /** Sum over every dispatch. */
  total_gpu_ms: number;
  dispatches: number;
  /** Per kernel, slowest first. */
  kernels: KernelProfile[];
  samples: DispatchSample[];
}

export interface ProfilingOptions {
  /** 'cpu-clock' forces the fallback even where timestamps exist (tests, cross-checks); default: timestamps when available. */
  source?: ProfileSource;
}

/** Dawn quantizes timestamps to 2^16 ns unless this toggle is off (a browser timing-attack guard; pointless in Node). */
export const UNQUANTIZED_TIMESTAMPS_FLAG = 'disable-dawn-features=timestamp_quantization';

/**
 * Dawn create() flags plus timestamp_quantization disabled (merged into an existing disable-dawn-features entry:
 * Dawn keeps one value per key); unchanged when the caller names timestamp_quantization itself.
 */
export function withUnquantizedTimestamps(flags: readonly string[]): string[] {
  if (flags.some((f) => f.includes('timestamp_quantization'))) return [...flags];
  const i = flags.findIndex((f) => f.startsWith('disable-dawn-features='));
  if (i < 0) return [...flags, UNQUANTIZED_TIMESTAMPS_FLAG];
  return flags.map((f, j) => (j === i ? `${f},timestamp_quantization` : f));
}

/** Timestamp queries per QuerySet (the WebGPU maximum is 4096): 2048 dispatches between flushes. */
const QUERIES = 4096;

interface Pending {
  labels: DispatchSample[];
  readback: GPUBuffer | null;
}

/**
 * Per-dispatch timing for WebGpuBackend (startProfiling / stopProfiling). The backend asks for a pass per dispatch
 * (`beginPass`), lets the profiler resolve the encoder's queries before each submit (`beforeSubmit`), and reports
 * every submit (`afterSubmit`). Readbacks are mapped only in `finish()`, so profiling adds no wait to the hot path.
 */
export class DispatchProfiler {
  readonly source: ProfileSource;
  readonly #device: GPUDevice;
  readonly #querySet: GPUQuerySet | null = null;
  readonly #resolve: GPUBuffer | null = null;
  /** Dispatches encoded since the last submit. */
  #current: DispatchSample[] = [];
  readonly #pending: Pending[] = [];
  /** CPU clock: [submit time, completion promise] per dispatch. */
  readonly #cpu: { label: DispatchSample; submitted: number; done: Promise<number> }[] = [];

  constructor(device: GPUDevice, opts: ProfilingOptions = {}) {
    this.#device = device;
    const has = device.features.has('timestamp-query');
    this.source = opts.source === 'cpu-clock' || !has ? 'cpu-clock' : 'timestamp-query';
    if (this.source === 'timestamp-query') {
      this.#querySet = device.createQuerySet({ type: 'timestamp', count: QUERIES });
      this.#resolve = device.createBuffer({ size: QUERIES * 8, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    }
  }

  /** With the CPU clock every dispatch is submitted alone (the backend flushes after it). */
  get submitEachDispatch(): boolean {
    return this.source === 'cpu-clock';
  }

  /** True when the query set has no room for another dispatch: the backend flushes first. */
  get full(): boolean {
    return this.source === 'timestamp-query' && 2 * (this.#current.length + 1) > QUERIES;
  }

  /** Opens the compute pass of one dispatch of `spec` (its own pass, with timestampWrites when the clock is 'timestamp'). */
  beginPass(enc: GPUCommandEncoder, spec: KernelSpec, params: Readonly<Record<string, number>>, constants: Constants, boundBytes: number): GPUComputePassEncoder {
    const cost = spec.cost?.(params, constants) ?? { flops: 0, bytes: boundBytes };
    const i = this.#current.length;
    this.#current.push({ kernel: spec.name, gpu_ms: 0, flops: cost.flops, bytes: cost.bytes });
    if (!this.#querySet) return enc.beginComputePass({ label: spec.name });
    return enc.beginComputePass({
      label: spec.name,
      timestampWrites: { querySet: this.#querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
  }

  /** Before the backend finishes `enc`: resolve this submit's timestamps into a fresh readback buffer. */
  beforeSubmit(enc: GPUCommandEncoder): void {
    if (!this.#querySet || !this.#current.length) return;
    const bytes = this.#current.length * 16;
    enc.resolveQuerySet(this.#querySet, 0, this.#current.length * 2, this.#resolve!, 0);
    const readback = this.#device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    enc.copyBufferToBuffer(this.#resolve!, 0, readback, 0, bytes);
    this.#pending.push({ labels: this.#current, readback });
    this.#current = [];
  }

  /** After the backend's queue.submit(). */
  afterSubmit(queue: GPUQueue): void {
    if (this.source !== 'cpu-clock' || !this.#current.length) return;
    const submitted = performance.now();
    for (const label of this.#current) this.#cpu.push({ label, submitted, done: queue.onSubmittedWorkDone().then(() => performance.now()) });
    this.#current = [];
  }

  /** Waits for every readback and aggregates; the profiler is unusable afterwards. */
  async finish(): Promise<Profile> {
    const samples: DispatchSample[] = [];
    try {
      if (this.source === 'timestamp-query') {
        for (const p of this.#pending) {
          await p.readback!.mapAsync(MapMode.READ);
          const t = new BigUint64Array(p.readback!.getMappedRange().slice(0));
          p.readback!.unmap();
          p.labels.forEach((s, i) => {
            const d = t[2 * i + 1]! - t[2 * i]!;
            // Some implementations report an end before the begin across a clock reset: count it as 0.
            samples.push({ ...s, gpu_ms: d > 0n ? Number(d) / 1e6 : 0 });
          });
        }
      } else {
        let prevDone = -Infinity;
        for (const c of this.#cpu) {
          const done = await c.done;
          samples.push({ ...c.label, gpu_ms: Math.max(0, done - Math.max(c.submitted, prevDone)) });
          prevDone = done;
        }
      }
    } finally {
      for (const p of this.#pending) p.readback?.destroy();
      this.#querySet?.destroy();
      this.#resolve?.destroy();
    }
    return aggregate(this.source, samples);
  }
}

/** Per-kernel totals of `samples`, slowest kernel first. */
export function aggregate(source: ProfileSource, samples: DispatchSample[]): Profile {
  const by = new Map<string, KernelProfile>();
  let total = 0;
  for (const s of samples) {
    let k = by.get(s.kernel);
    if (!k) by.set(s.kernel, (k = { kernel: s.kernel, dispatches: 0, gpu_ms: 0, flops: 0, bytes: 0 }));
    k.dispatches++;
    k.gpu_ms += s.gpu_ms;
    k.flops += s.flops;
    k.bytes += s.bytes;
    total += s.gpu_ms;
  }
  const kernels = [...by.values()].sort((a, b) => b.gpu_ms - a.gpu_ms || a.kernel.localeCompare(b.kernel));
  return { source, total_gpu_ms: total, dispatches: samples.length, kernels, samples };
}
