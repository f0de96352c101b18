// `kernels bench`: one kernel timed on fresh buffers of a recorded launch's sizes, one dispatch at a time, with GPU
// timestamps; and which kernel may be timed on another's launches (a variant).
import { bindByOrder, type Storage } from '../../kernels/backend.js';
import type { Constants, KernelSpec } from '../../kernels/define_kernel.js';
import { getKernel } from '../../kernels/index.js';
import type { ProfileSource } from '../../kernels/runtime/profiler.js';
import type { WebGpuBackend } from '../../kernels/runtime/webgpu_backend.js';
import { arrayFor, type DType, type NumArray } from '../../core/dtype.js';
import { ArgumentError } from '../../core/errors.js';
import { Rng } from '../../tensor/random.js';
import type { Launch } from '../recorder.js';

/**
 * Blocks this thread for `ms` (Dawn's node binding spin-waits on pending work and steals a core from lavapipe). A no-op
 * where the thread cannot block: a page's main thread, or no SharedArrayBuffer (a browser page or worker without
 * cross-origin isolation; browsers do not spin on the JS thread).
 */
export function sleepMain(ms: number): void {
  const canBlock = typeof SharedArrayBuffer !== 'undefined' && typeof (globalThis as { document?: unknown }).document === 'undefined';
  if (ms >= 1 && canBlock) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 10_000));
}

/** A repeating random pattern (fast to make for 100 MB buffers): f32 in [0, 1), i32 / u32 zero (valid indices). */
function pattern(dtype: DType, n: number): NumArray {
  const a = arrayFor(dtype, Math.max(n, 1));
  if (dtype !== 'f32') return a;
  const r = new Rng(12345);
  const block = Math.min(a.length, 65536);
  for (let i = 0; i < block; i++) a[i] = r.uniform();
  for (let i = block; i < a.length; i += block) a.copyWithin(i, 0, Math.min(block, a.length - i));
  return a;
}

export interface Timing {
  /** GPU milliseconds of each timed dispatch. */
  samples: number[];
  median_ms: number;
  min_ms: number;
  flops: number;
  bytes: number;
  source: ProfileSource;
  /** The constants the kernel ran with (its defaults, the recorded ones it declares, the caller's). */
  constants: Constants;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2) : NaN;
};

/**
 * Times `reps` dispatches of `spec` on fresh buffers of the launch's binding sizes (pattern data), after compiling
 * and one untimed run. Each dispatch is submitted alone while the JS thread sleeps, so Dawn's spin-wait does not
 * compete with the workers (lavapipe).
 */
export async function timeLaunch(dev: WebGpuBackend, spec: KernelSpec, l: Launch, constants: Constants, reps: number): Promise<Timing> {
  // The recorded launch's constants that this kernel declares (another variant of the family may lack some: CO of
  // conv2d_fwd_k2s2 on conv2d_fwd_sg), then the caller's.
  const recorded = Object.fromEntries(Object.entries(l.constants).filter(([k]) => Object.hasOwn(spec.constants, k)));
  const c = { ...spec.constants, ...recorded, ...constants };
  const rdt = Object.values(spec.reads) as DType[];
  const wdt = Object.values(spec.writes) as DType[];
  if (rdt.length !== l.reads.length || wdt.length !== l.writes.length) {
    throw new ArgumentError('kernels bench', `${spec.name} has ${rdt.length} reads / ${wdt.length} writes, the recorded ${l.kernel} launch ${l.reads.length} / ${l.writes.length}`);
  }
  const alloc = (dt: DType, n: number) => {
    const s = dev.alloc(Math.max(n, 1), dt);
    dev.upload(s, pattern(dt, n));
    return s;
  };
  const reads: Storage[] = l.reads.map((n, i) => alloc(rdt[i]!, n));
  const writes: Storage[] = l.writes.map((n, i) => alloc(wdt[i]!, n));
  try {
    dev.pipelines.get(spec, c);
    const b = bindByOrder(spec, reads, writes);
    const run = () => dev.run(spec, b.reads, b.writes, l.params, { constants: c });
    const t0 = performance.now();
    run();
    await dev.sync();
    const est = performance.now() - t0;
    dev.startProfiling();
    try {
      for (let i = 0; i < reps; i++) {
        run();
        dev.flush();
        sleepMain(0.8 * est);
        await dev.sync();
      }
    } catch (e) {
      await dev.stopProfiling().catch(() => {});
      throw e;
    }
    const prof = await dev.stopProfiling();
    const samples = prof.samples.map((s) => s.gpu_ms);
    const first = prof.samples[0];
    return { samples, median_ms: median(samples), min_ms: Math.min(...samples), flops: first?.flops ?? 0, bytes: first?.bytes ?? 0, source: prof.source, constants: c };
  } finally {
    for (const s of [...reads, ...writes]) dev.free(s);
  }
}

/** The kernel of `name`, or a variant of it (same family or shader, the same params and as many bindings). */
export function benchSpec(name: string, variant?: string): KernelSpec {
  const base = getKernel(name);
  if (!variant) return base;
  const v = getKernel(variant);
  // A family is named by its first kernel, which has no `family` of its own (variantOf sets it on the others).
  const family = (k: KernelSpec) => k.family ?? k.name;
  if (family(v) !== family(base) && v.shader !== base.shader) {
    throw new ArgumentError('kernels bench', `${variant} is not a variant of ${name} (family ${family(base)}, shader ${base.shader})`);
  }
  if (Object.keys(v.params).join() !== Object.keys(base.params).join()) {
    throw new ArgumentError('kernels bench', `variant ${variant} takes params (${Object.keys(v.params).join(', ')}), ${name} (${Object.keys(base.params).join(', ')})`);
  }
  if (Object.keys(v.reads).length !== Object.keys(base.reads).length || Object.keys(v.writes).length !== Object.keys(base.writes).length) {
    throw new ArgumentError('kernels bench', `variant ${variant} binds ${Object.keys(v.reads).length} + ${Object.keys(v.writes).length} buffers, ${name} ${Object.keys(base.reads).length} + ${Object.keys(base.writes).length}`);
  }
  return v;
}
