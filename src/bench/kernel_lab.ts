// The kernel lab's engine: cases recorded from ops (CPU) and replayed on the GPU against each kernel's reference,
// launch geometries recorded from a U-Net step (meta device) and timed one kernel at a time, and the adapter's peak.
import type { DeviceLimits, Storage } from '../kernels/backend.js';
import type { Constants, KernelSpec, Tolerance } from '../kernels/define_kernel.js';
import { getKernel, KERNELS } from '../kernels/index.js';
import { FMA_PER_ITER, lab_peak_copy, lab_peak_fma } from '../kernels/lab.js';
import type { AdapterFacts, WebGpuBackend } from '../kernels/runtime/webgpu_backend.js';
import type { ProfileSource } from '../kernels/runtime/profiler.js';
import { SGD } from '../nn/optim.js';
import { withDevice } from '../tensor/context.js';
import { arrayFor, type DType, type NumArray } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import { bceWithLogits } from '../tensor/ops/loss.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { CONFIGS, unetOptions, type ConfigName } from '../unet/configs.js';
import { UNet } from '../unet/unet.js';
import { groupOf, LAB_GROUPS, type ShapeOptions } from './kernel_cases.js';
import { launchKey, RecordingCpuBackend, RecordingMetaBackend, type Launch } from './recorder.js';

// ---------------------------------------------------------------------------------------------------------------
// Selecting kernels

/** Kernels matching `patterns` (a kernel name, a family, or a substring of names); all kernels without patterns. */
export function selectKernels(patterns: readonly string[]): KernelSpec[] {
  const all = Object.values(KERNELS as Record<string, KernelSpec>);
  if (!patterns.length) return all;
  const out = new Set<KernelSpec>();
  for (const p of patterns) {
    const exact = all.filter((k) => k.name === p || k.family === p);
    const hits = exact.length ? exact : all.filter((k) => k.name.includes(p));
    if (!hits.length) throw new ArgumentError('kernels', `no kernel or family matches '${p}' (see \`unet-webgpu kernels list\`)`);
    for (const k of hits) out.add(k);
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------------------------
// Cases (kernels check)

/** Binding limits that force the ops' split paths (windows, accumulation, per-plane kernels) on tiny tensors. */
export const SPLIT_LIMITS: DeviceLimits = { maxBindingBytes: 2048, maxBufferBytes: 2 ** 32 - 1, bindingOffsetAlignment: 64 };

class LimitedRecordingCpu extends RecordingCpuBackend {
  override readonly limits: DeviceLimits;
  constructor(limits: DeviceLimits) {
    super();
    this.limits = limits;
  }
}

/**
 * Recorded launches (with their inputs) of `kernels`, from `rounds` rounds of their groups' random calls on the
 * CPU plus one round with tiny binding limits; at most `max` distinct geometries per kernel (split ones last).
 */
export function recordCases(kernels: readonly KernelSpec[], seed: number, rounds = 2, max = 4): Map<string, Launch[]> {
  const want = new Set(kernels.map((k) => k.name));
  const groups = new Set(kernels.map((k) => groupOf(k.name)).filter((g) => g !== undefined));
  const out = new Map<string, Launch[]>();
  const keys = new Set<string>();
  const add = (launches: readonly Launch[], cap: number) => {
    const added = new Map<string, number>();
    for (const l of launches) {
      if (!want.has(l.kernel)) continue;
      const k = launchKey(l);
      if (keys.has(k) || (added.get(l.kernel) ?? 0) >= cap) continue;
      keys.add(k);
      added.set(l.kernel, (added.get(l.kernel) ?? 0) + 1);
      (out.get(l.kernel) ?? out.set(l.kernel, []).get(l.kernel)!).push(l);
    }
  };
  for (const g of groups) {
    const rec = new RecordingCpuBackend();
    for (let i = 0; i < rounds; i++) withDevice(rec, () => g.cases(new Rng(seed + 7919 * i)));
    add(rec.launches, max);
    const split = new LimitedRecordingCpu(SPLIT_LIMITS);
    withDevice(split, () => g.cases(new Rng(seed + 104729)));
    add(split.launches, 2);
  }
  return out;
}

/** A seeded fill for outputs that the kernel may not write everywhere (the reference starts from the same values). */
function initArray(dtype: DType, n: number, r: Rng): NumArray {
  const a = arrayFor(dtype, Math.max(n, 1));
  for (let i = 0; i < a.length; i++) a[i] = dtype === 'f32' ? 2 * r.uniform() - 1 : (r.nextU32() & 0x7fffffff) % 1000003;
  return a;
}

export interface CaseResult {
  kernel: string;
  constants: Constants;
  params: Record<string, number>;
  write: string;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
  /** The worst element when !ok. */
  detail?: string;
}

/** Compares a GPU write with the reference: worst abs / rel error and whether every element is within tolerance. */
function compare(got: NumArray, want: NumArray, tolerance: Tolerance, intOut: boolean) {
  const tol = intOut ? 'exact' : tolerance;
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  const rtol = tol === 'exact' ? 0 : (tol.loose ? 1e-4 : 2e-6) + 4e-6 * Math.sqrt(tol.k);
  const atol = tol === 'exact' ? 0 : 0.1 * rtol * scale + 1e-7;
  const floor = Math.max(scale * 1e-6, 1e-30);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const d = Math.abs(g - w);
    const excess = Number.isNaN(d) ? Infinity : d - (atol + rtol * Math.abs(w));
    if (Number.isFinite(d)) {
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(w), floor));
    } else {
      maxAbs = maxRel = Infinity;
    }
    if (excess > 0 && !(excess <= worstExcess)) [worst, worstExcess] = [i, excess];
  }
  const ok = worst < 0;
  const tolText = tol === 'exact' ? 'exact' : `rtol ${rtol.toExponential(1)} atol ${atol.toExponential(1)}`;
  return { maxAbs, maxRel, ok, detail: ok ? undefined : `[${worst}] got ${got[worst]} want ${want[worst]} (${tolText})` };
}

/** Runs one recorded launch on the GPU and on the CPU reference with the same inputs; one result per write. */
export async function checkLaunch(dev: WebGpuBackend, spec: KernelSpec, l: Launch, constants: Constants, seed: number): Promise<CaseResult[]> {
  const c = { ...spec.constants, ...l.constants, ...constants };
  const readNames = Object.keys(spec.reads);
  const writeNames = Object.keys(spec.writes);
  const rdt = Object.values(spec.reads) as DType[];
  const wdt = Object.values(spec.writes) as DType[];
  if (readNames.length !== l.reads.length || writeNames.length !== l.writes.length) {
    throw new ArgumentError('kernels check', `${spec.name} has ${readNames.length} reads / ${writeNames.length} writes, the recorded ${l.kernel} launch ${l.reads.length} / ${l.writes.length}`);
  }
  const r = new Rng(seed);
  const inPlace = new Set<string>(spec.inPlace ?? []);
  const readData = l.readData!.map((a, i) => (a.length ? a : arrayFor(rdt[i]!, 1)));
  const init = writeNames.map((name, i) => (inPlace.has(name) && l.writeData?.[i]?.length ? l.writeData[i]!.slice() : initArray(wdt[i]!, l.writes[i]!, r)));
  // Reference (float32 arrays, like the recorder ran it).
  const wantW: Record<string, NumArray> = {};
  const refR: Record<string, NumArray> = {};
  readNames.forEach((k, i) => (refR[k] = readData[i]!.slice()));
  writeNames.forEach((k, i) => (wantW[k] = init[i]!.slice()));
  spec.ref(refR, wantW, l.params, c);
  // GPU.
  const stor = (dt: DType, data: NumArray) => {
    const s = dev.alloc(data.length, dt);
    dev.upload(s, data);
    return s;
  };
  const reads = readData.map((a, i) => stor(rdt[i]!, a));
  const writes = init.map((a, i) => stor(wdt[i]!, a));
  try {
    dev.run(spec, reads, writes, l.params, { constants: c });
    const out: CaseResult[] = [];
    for (let i = 0; i < writes.length; i++) {
      const got = await dev.download(writes[i]!);
      const cmp = compare(got, wantW[writeNames[i]!]!, spec.tolerance(l.params, c), wdt[i] !== 'f32');
      out.push({ kernel: spec.name, constants: { ...l.constants, ...constants }, params: l.params, write: writeNames[i]!, ...cmp });
    }
    return out;
  } finally {
    for (const s of [...reads, ...writes]) dev.free(s);
  }
}

export interface KernelCheck {
  kernel: string;
  cases: number;
  variants: string[];
  maxAbs: number;
  maxRel: number;
  ok: boolean;
  /** No recorded launch covers this kernel. */
  noCases: boolean;
  failures: CaseResult[];
  error?: string;
}

const fmtConstants = (c: Constants) => Object.entries(c).map(([k, v]) => `${k}=${v}`).join(',');

/**
 * Checks `spec` on every recorded launch (of itself, or of `caseKernel` when it is a variant timed on another
 * kernel's launches), with the launch's constants, then each of the spec's labConstants, all under `constants`.
 */
export async function checkKernel(dev: WebGpuBackend, spec: KernelSpec, launches: readonly Launch[], constants: Constants = {}, seed = 1): Promise<KernelCheck> {
  const res: KernelCheck = { kernel: spec.name, cases: 0, variants: [], maxAbs: 0, maxRel: 0, ok: true, noCases: !launches.length, failures: [] };
  const sets: Constants[] = [{}, ...(spec.labConstants ?? [])];
  res.variants = sets.map((s) => fmtConstants({ ...s, ...constants }) || 'default');
  try {
    for (const l of launches) {
      for (const s of sets) {
        res.cases++;
        for (const c of await checkLaunch(dev, spec, l, { ...s, ...constants }, seed + res.cases)) {
          res.maxAbs = Math.max(res.maxAbs, c.maxAbs);
          res.maxRel = Math.max(res.maxRel, c.maxRel);
          if (!c.ok) {
            res.ok = false;
            res.failures.push(c);
          }
        }
      }
    }
  } catch (e) {
    res.ok = false;
    res.error = (e as Error).message;
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------------------
// Launch geometries (kernels bench)

/** The launches of one training step (forward, BCE-with-logits, backward, SGD step) of a benchmark config, on the meta device. */
export function recordModel(config: ConfigName, limits?: DeviceLimits, adapter?: AdapterFacts): Launch[] {
  const cfg = CONFIGS[config];
  if (!cfg) throw new ArgumentError('kernels bench', `--config must be one of ${Object.keys(CONFIGS).join(', ')}, got ${config}`);
  const meta = new RecordingMetaBackend(limits, adapter);
  withDevice(meta, () => {
    const net = new UNet(unetOptions(config));
    const y = net.forward(Tensor.empty([cfg.batch, cfg.channels, cfg.size, cfg.size], 'f32', meta));
    const loss = bceWithLogits(y, Tensor.empty(y.shape, 'f32', meta));
    loss.backward();
    new SGD(net.parameters(), { lr: 0.01 }).step();
  });
  return meta.launches;
}

/**
 * The launches of `kernel`'s group of ops on one input shape: `NxCxHxW[:k=v,...]` (e.g. `1x64x570x570:cout=128`;
 * conv options cout, k, s, p (-1 = same), t (1 = transposed only, 0 = conv2d only), bias; pool k; matmul n).
 */
export function recordShape(kernel: string, shape: string, limits?: DeviceLimits, adapter?: AdapterFacts): Launch[] {
  const g = groupOf(kernel);
  if (!g?.shape) throw new ArgumentError('kernels bench', `--shape is not supported for ${kernel} (no op runner for its group)`);
  const [dims = '', opts = ''] = shape.split(':');
  const x = dims.split(/[x,]/).filter(Boolean).map(Number);
  if (!x.length || x.some((d) => !Number.isInteger(d) || d < 1)) throw new ArgumentError('kernels bench', `--shape '${shape}': expected dims like 1x64x570x570[:cout=128,k=3]`);
  const o: ShapeOptions = {};
  for (const kv of opts.split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined || !Number.isFinite(+v)) throw new ArgumentError('kernels bench', `--shape option '${kv}' must be key=number`);
    o[k] = +v;
  }
  const meta = new RecordingMetaBackend(limits, adapter);
  withDevice(meta, () => g.shape!(x, o));
  return meta.launches;
}

/** Distinct geometries of `kernel` (or of its family's kernels) in `launches`, with how often each occurs, in first-seen order. */
export function distinctLaunches(launches: readonly Launch[], kernel: string): { launch: Launch; calls: number }[] {
  const by = new Map<string, { launch: Launch; calls: number }>();
  for (const l of launches) {
    if (l.kernel !== kernel) continue;
    const k = launchKey(l);
    const e = by.get(k);
    if (e) e.calls++;
    else by.set(k, { launch: l, calls: 1 });
  }
  return [...by.values()];
}

/** A short text for a launch's geometry: the spec's description of it, else its non-zero params. */
export function describeLaunch(l: Launch): string {
  const d = getKernel(l.kernel).describe?.(l.params);
  if (d) return d;
  return Object.entries(l.params)
    .filter(([k, v]) => v !== 0 && !/(off|base)$/.test(k))
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : +v.toPrecision(3)}`)
    .join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Timing

/** Blocks this thread for `ms` (Dawn's node binding spin-waits on pending work and steals a core from lavapipe). */
export function sleepMain(ms: number): void {
  if (ms >= 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 10_000));
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
  const c = { ...spec.constants, ...l.constants, ...constants };
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
    const run = () => dev.run(spec, reads, writes, l.params, { constants: c });
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
    return { samples, median_ms: median(samples), min_ms: Math.min(...samples), flops: first?.flops ?? 0, bytes: first?.bytes ?? 0, source: prof.source };
  } finally {
    for (const s of [...reads, ...writes]) dev.free(s);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Peak

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

/** The adapter fingerprint peaks are cached under: description (driver), features, subgroup sizes, lavapipe's env knobs. */
export function adapterFingerprint(dev: WebGpuBackend, env: Readonly<Record<string, string | undefined>> = {}): string {
  const a = dev.adapter;
  return [
    a.description || dev.description,
    `${a.vendor}/${a.architecture}`,
    `features=${a.features.join(',')}`,
    `subgroups=${a.subgroupMinSize ?? '?'}-${a.subgroupMaxSize ?? '?'}`,
    `LP_NATIVE_VECTOR_WIDTH=${env.LP_NATIVE_VECTOR_WIDTH ?? ''}`,
    `LP_NUM_THREADS=${env.LP_NUM_THREADS ?? ''}`,
  ].join(' | ');
}

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

/** The kernel of `name`, or a variant of it (same family or shader, the same params and as many bindings). */
export function benchSpec(name: string, variant?: string): KernelSpec {
  const base = getKernel(name);
  if (!variant) return base;
  const v = getKernel(variant);
  if (v !== base && (!base.family || v.family !== base.family) && v.shader !== base.shader) {
    throw new ArgumentError('kernels bench', `${variant} is not a variant of ${name} (family ${base.family ?? 'none'}, shader ${base.shader})`);
  }
  if (Object.keys(v.params).join() !== Object.keys(base.params).join()) {
    throw new ArgumentError('kernels bench', `variant ${variant} takes params (${Object.keys(v.params).join(', ')}), ${name} (${Object.keys(base.params).join(', ')})`);
  }
  if (Object.keys(v.reads).length !== Object.keys(base.reads).length || Object.keys(v.writes).length !== Object.keys(base.writes).length) {
    throw new ArgumentError('kernels bench', `variant ${variant} binds ${Object.keys(v.reads).length} + ${Object.keys(v.writes).length} buffers, ${name} ${Object.keys(base.reads).length} + ${Object.keys(base.writes).length}`);
  }
  return v;
}

export { LAB_GROUPS };
