// `kernels tune`: the measured autotuner. For every shape bucket of a tuned op family in a model's training step, each
// candidate kernel is timed with GPU timestamps on the bucket's first launch (fresh buffers, one dispatch at a time,
// as `kernels bench`), and the fastest becomes the bucket's choice in the device's tuning table.
import { MATMUL_KERNELS, matmulKernelFor, matmulVec4Fits } from '../../kernels/matmul.js';
import { CHOICES } from '../../kernels/policy.js';
import type { WebGpuBackend } from '../../kernels/runtime/webgpu_backend.js';
import { matmulBucket, type TunedChoice } from '../../kernels/tuning.js';
import type { Launch } from '../recorder.js';
import { describeLaunch } from './record.js';
import { timeLaunch } from './time.js';

const MATMUL_NAMES = new Set(Object.values(MATMUL_KERNELS).map((k) => k.name));

/** The matmul buckets of `launches`: each bucket's first launch and how many launches fall in it, in first-seen order. */
export function matmulBuckets(launches: readonly Launch[]): Map<string, { launch: Launch; calls: number }> {
  const out = new Map<string, { launch: Launch; calls: number }>();
  for (const l of launches) {
    if (!MATMUL_NAMES.has(l.kernel)) continue;
    const p = l.params as Parameters<typeof matmulVec4Fits>[0];
    const key = matmulBucket(p, matmulVec4Fits(p));
    const e = out.get(key);
    if (e) e.calls++;
    else out.set(key, { launch: l, calls: 1 });
  }
  return out;
}

/**
 * Times every matmul candidate (the policy's choices but 'auto'; 'vec4' only where it fits, else it is 'reg') on each
 * bucket's launch: the entries of a tuning table, with each candidate's median GPU ms.
 */
export async function tuneMatmul(dev: WebGpuBackend, launches: readonly Launch[], reps: number, log: (s: string) => void = () => {}): Promise<Record<string, TunedChoice & { calls: number }>> {
  const entries: Record<string, TunedChoice & { calls: number }> = {};
  for (const [key, { launch, calls }] of matmulBuckets(launches)) {
    const p = launch.params as Parameters<typeof matmulVec4Fits>[0];
    const ms: Record<string, number> = {};
    const range: Record<string, string> = {};
    for (const choice of CHOICES.matmul.filter((c) => c !== 'auto')) {
      if (choice === 'vec4' && !matmulVec4Fits(p)) continue;
      const { spec, constants } = matmulKernelFor(choice, p);
      // The recorded launch's own constants belong to the kernel it ran (TA / TB of matmul_vec4): time with the candidate's.
      const t = await timeLaunch(dev, spec, { ...launch, constants: {} }, constants, reps);
      ms[choice] = t.median_ms;
      range[choice] = `${t.median_ms.toFixed(3)} (${Math.min(...t.samples).toFixed(3)}-${Math.max(...t.samples).toFixed(3)})`;
    }
    const choice = Object.entries(ms).sort((a, b) => a[1] - b[1])[0]![0];
    entries[key] = { choice, ms, launch: describeLaunch(launch), calls };
    log(`${key.padEnd(30)} ${String(calls).padStart(3)} calls  ${Object.entries(range).map(([c, t]) => `${c} ${t}`).join('  ')} ms  -> ${choice}`);
  }
  return entries;
}
