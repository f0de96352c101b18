// `kernels peak`: the adapter's FMA and copy peaks measured with the lab's probe kernels, and the adapter fingerprint
// they are cached under.
import { FMA_PER_ITER, lab_peak_copy, lab_peak_fma } from '../../kernels/lab.js';
import type { ProfileSource } from '../../kernels/runtime/profiler.js';
import type { WebGpuBackend } from '../../kernels/runtime/webgpu_backend.js';
import type { Launch } from '../recorder.js';
import { timeLaunch } from './time.js';

export interface Peak {
  /** Best median over the lab_peak_fma variants. */
  gflops: number;
  /** Median of lab_peak_copy over a buffer well past the caches. */
  gbps: number;
  fma: Record<string, number>;
  copy_mb: number;
  source: ProfileSource;
  reps: number;
  measured_at: string;
  adapter: string;
}

/** The adapter fingerprint peaks (and tuning tables) are cached under. */
export { adapterFingerprint } from '../../kernels/tuning.js';

/** Measures this adapter's FMA and copy peaks with the lab's probe kernels (a few seconds on lavapipe). */
export async function measurePeak(dev: WebGpuBackend, opts: { reps?: number; targetMs?: number; log?: (s: string) => void } = {}): Promise<Peak> {
  const { reps = 5, targetMs = 100, log = () => {} } = opts;
  const fma: Record<string, number> = {};
  let source: ProfileSource = 'timestamp-query';
  const n = 1 << 16;
  for (const VEC4 of [true, false]) {
    const perIter = 2 * n * (VEC4 ? FMA_PER_ITER.vec4 : FMA_PER_ITER.scalar);
    const probe = (iters: number): Launch => ({ kernel: lab_peak_fma.name, params: { n, iters, m: 0.999, c: 0.001 }, constants: { VEC4 }, reads: [n], writes: [n] });
    // Size the loop so one dispatch takes about targetMs.
    const t = await timeLaunch(dev, lab_peak_fma, probe(16), {}, 1);
    const iters = Math.max(16, Math.min(1 << 16, Math.round((16 * targetMs) / Math.max(t.median_ms, 1e-3))));
    const m = await timeLaunch(dev, lab_peak_fma, probe(iters), {}, reps);
    fma[VEC4 ? 'vec4' : 'scalar'] = (perIter * iters) / m.median_ms / 1e6;
    source = m.source;
    log(`lab_peak_fma VEC4=${VEC4}: ${iters} iters, median ${m.median_ms.toFixed(2)} ms, ${fma[VEC4 ? 'vec4' : 'scalar']!.toFixed(1)} GFLOP/s`);
  }
  // 64 MiB in, 64 MiB out (past any last-level cache, under the 128 MiB binding limit).
  const n4 = Math.min(1 << 22, Math.floor(dev.limits.maxBindingBytes / 16));
  const cm = await timeLaunch(dev, lab_peak_copy, { kernel: lab_peak_copy.name, params: { n4 }, constants: {}, reads: [4 * n4], writes: [4 * n4] }, {}, reps);
  const gbps = (32 * n4) / cm.median_ms / 1e6;
  log(`lab_peak_copy: ${((16 * n4) / 2 ** 20).toFixed(0)} MiB, median ${cm.median_ms.toFixed(2)} ms, ${gbps.toFixed(2)} GB/s`);
  return {
    gflops: Math.max(...Object.values(fma)),
    gbps,
    fma,
    copy_mb: (16 * n4) / 2 ** 20,
    source,
    reps,
    measured_at: new Date().toISOString(),
    adapter: dev.description,
  };
}
