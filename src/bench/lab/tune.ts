// `kernels tune`: the measured autotuner. For every shape bucket of a tuned op family in a model's training step
// (matmul; the direct convolution launches, forward / input gradient and weight gradient), each candidate kernel is
// timed with GPU timestamps on the bucket's first launch (fresh buffers, one dispatch at a time, as `kernels bench`),
// and the fastest becomes the bucket's choice in the device's tuning table.
import type { Backend } from '../../kernels/backend.js';
import type { Constants } from '../../kernels/define_kernel.js';
import { ArgumentError } from '../../core/errors.js';
import { checkOptions, type OptionKeys } from '../../core/options.js';
import { withDevice } from '../../tensor/context.js';
import { MATMUL_KERNELS, matmulKernelFor, matmulVec4Fits } from '../../kernels/matmul.js';
import { CHOICES, DIRECT_CONV_FAMILIES, subgroupRefusal } from '../../kernels/policy.js';
import { getKernel } from '../../kernels/index.js';
import type { WebGpuBackend } from '../../kernels/runtime/webgpu_backend.js';
import { adapterFingerprint, convFwdBucket, convWgradBucket, matmulBucket, type TunedChoice, type TuningTable } from '../../kernels/tuning.js';
import { bwdWeightKernelFor, fwdKernelFor, type FwdLaunch, type KernelChoice, type WgradLaunch } from '../../tensor/ops/conv_choice.js';
import { RecordingMetaBackend, type Launch } from '../recorder.js';
import { describeLaunch } from './record.js';
import { timeLaunch } from './time.js';

/** One tuned op family: which launches it buckets, their bucket key, and the candidates for a launch on `dev`. */
interface TunedOp {
  /** Whether a recorded launch belongs to the family. */
  has(l: Launch): boolean;
  bucket(l: Launch): string;
  candidates(dev: Backend, l: Launch): [choice: string, kernel: KernelChoice][];
  /** The recorded launch's constants that are its contract (kept), not its kernel's choice (dropped). */
  readonly keep: readonly string[];
}

const MATMUL_NAMES = new Set(Object.values(MATMUL_KERNELS).map((k) => k.name));
type MatmulLaunch = Parameters<typeof matmulVec4Fits>[0];
const familyOfLaunch = (l: Launch) => getKernel(l.kernel).family;
const isTransposed = (l: Launch) => familyOfLaunch(l) === 'conv_transpose2d_fwd';

/** The direct conv families this adapter can run (the subgroup ones need >= 8-lane subgroups). */
const directFamilies = (dev: Backend) => DIRECT_CONV_FAMILIES.filter((f) => f !== 'subgroup' || !subgroupRefusal(dev.adapter));

const TUNED: readonly TunedOp[] = [
  {
    has: (l) => MATMUL_NAMES.has(l.kernel),
    bucket: (l) => matmulBucket(l.params as MatmulLaunch, matmulVec4Fits(l.params as MatmulLaunch)),
    // The policy's choices but 'auto'; 'vec4' only where it fits (else it is 'reg').
    candidates: (_dev, l) => CHOICES.matmul.filter((c) => c !== 'auto' && (c !== 'vec4' || matmulVec4Fits(l.params as MatmulLaunch)))
      .map((c) => [c, matmulKernelFor(c, l.params as MatmulLaunch)]),
    keep: [],
  },
  {
    has: (l) => familyOfLaunch(l) === 'conv2d_fwd' || isTransposed(l),
    bucket: (l) => convFwdBucket(l.params as unknown as FwdLaunch, isTransposed(l)),
    candidates: (dev, l) => directFamilies(dev).map((f) => [f, fwdKernelFor(dev, f, isTransposed(l), l.params as unknown as FwdLaunch)]),
    keep: ['HAS_BIAS', 'ACCUMULATE'],
  },
  {
    has: (l) => familyOfLaunch(l) === 'conv2d_bwd_weight',
    bucket: (l) => convWgradBucket(l.params as unknown as WgradLaunch),
    candidates: (dev, l) => directFamilies(dev).map((f) => [f, bwdWeightKernelFor(dev, f, l.params as unknown as WgradLaunch)]),
    keep: [],
  },
];

/** The tuned buckets of `launches`: each bucket's op, first launch and how many launches fall in it, in first-seen order. */
export function tunedBuckets(launches: readonly Launch[]): Map<string, { op: TunedOp; launch: Launch; calls: number }> {
  const out = new Map<string, { op: TunedOp; launch: Launch; calls: number }>();
  for (const l of launches) {
    const op = TUNED.find((t) => t.has(l));
    if (!op) continue;
    const key = op.bucket(l);
    const e = out.get(key);
    if (e) e.calls++;
    else out.set(key, { op, launch: l, calls: 1 });
  }
  return out;
}

/**
 * Times every candidate of each bucket's op on the bucket's launch: the entries of a tuning table, with each
 * candidate's median GPU ms.
 */
export async function tuneLaunches(dev: WebGpuBackend, launches: readonly Launch[], reps: number, log: (s: string) => void = () => {}, skip: (key: string) => boolean = () => false): Promise<Record<string, TunedChoice & { calls: number }>> {
  const entries: Record<string, TunedChoice & { calls: number }> = {};
  for (const [key, { op, launch, calls }] of tunedBuckets(launches)) {
    if (skip(key)) continue;
    const ms: Record<string, number> = {};
    const range: Record<string, string> = {};
    // The recorded launch's other constants belong to the kernel it ran (TA / TB of matmul_vec4, CO16 / WG / PATH of a
    // subgroup kernel): each candidate is timed with its own.
    const contract: Constants = Object.fromEntries(Object.entries(launch.constants).filter(([k]) => op.keep.includes(k)));
    for (const [choice, { spec, constants }] of op.candidates(dev, launch)) {
      const t = await timeLaunch(dev, spec, { ...launch, constants: contract }, constants, reps);
      ms[choice] = t.median_ms;
      range[choice] = `${t.median_ms.toFixed(3)} (${Math.min(...t.samples).toFixed(3)}-${Math.max(...t.samples).toFixed(3)})`;
    }
    const choice = Object.entries(ms).sort((a, b) => a[1] - b[1])[0]![0];
    entries[key] = { choice, ms, launch: describeLaunch(launch), calls };
    log(`${key.padEnd(44)} ${String(calls).padStart(3)} calls  ${Object.entries(range).map(([c, t]) => `${c} ${t}`).join('  ')} ms  -> ${choice}`);
  }
  return entries;
}

export interface TuneStepOptions {
  /** Timed reps per candidate (median kept); default 5. */
  reps?: number;
  /** One line per bucket as it is measured (its candidates' times and the choice). */
  log?: (line: string) => void;
  /** The environment whose lavapipe knobs go into the adapter fingerprint (Node: process.env; default none). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * This adapter's table so far (e.g. the cached one): its buckets are kept, not timed again, and the result holds
   * them plus the step's new ones (first-use tuning). A table of another adapter fingerprint is ignored.
   */
  known?: TuningTable | null;
}

const TUNE_STEP_KEYS: OptionKeys<TuneStepOptions> = { reps: true, log: true, env: true, known: true };

/**
 * The measured autotuner for any model, in Node or a browser: `step` builds a model and runs what is to be tuned (a
 * training step: forward, loss, backward, optimizer step; inference forwards too) on a recording device with `dev`'s
 * limits and adapter facts (no GPU work, no values: create every tensor inside `step`). Each tuned bucket of the
 * launches it makes (matmul, the direct conv launches) then has its candidate kernels timed on `dev`, and the result
 * is `dev`'s tuning table: apply it with setTuning(dev, table), keep it with writeTuningTable (Node) or
 * saveTuningToIndexedDB (browsers). Nothing to tune (no matmul or direct conv launch) is an ArgumentError.
 */
export async function tuneStep(dev: WebGpuBackend, step: () => void, options?: TuneStepOptions): Promise<TuningTable> {
  const o = checkOptions('tuneStep', options, TUNE_STEP_KEYS);
  if (typeof step !== 'function') throw new ArgumentError('tuneStep', 'step must be a function that builds a model and runs one step');
  const reps = o.reps ?? 5;
  if (!Number.isInteger(reps) || reps < 1) throw new ArgumentError('tuneStep', `reps must be a positive integer, got ${reps}`);
  // The rules' choices, not a table's: the recording runs without dev's policy or tuning.
  const meta = new RecordingMetaBackend(dev.limits, dev.adapter);
  withDevice(meta, step);
  const fingerprint = adapterFingerprint(dev, o.env ?? {});
  const known = o.known && o.known.fingerprint === fingerprint ? o.known.entries : {};
  if (!tunedBuckets(meta.launches).size) throw new ArgumentError('tuneStep', `the step launched ${meta.launches.length} kernel(s), none a matmul or direct conv: nothing to tune`);
  const entries = await tuneLaunches(dev, meta.launches, reps, o.log, (key) => Object.hasOwn(known, key));
  if (!Object.keys(entries).length && o.known) return o.known;
  return { fingerprint, measuredAt: new Date().toISOString(), entries: { ...known, ...entries } };
}
