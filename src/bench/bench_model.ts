// Benchmarks a model the way ../shared/peers does (same modes, loss, SGD step and sync rule), so our JSON
// line and the peers' go in one table. Browser-safe: no Node APIs here (the CLI adds RSS and the host).
import type { Backend } from '../kernels/backend.js';
import { kernelGroup } from '../kernels/index.js';
import type { Module } from '../nn/module.js';
import { SGD } from '../nn/optim.js';
import { noGrad, withDevice } from '../tensor/context.js';
import { rand, randn } from '../tensor/creation.js';
import { gt } from '../tensor/ops/elementwise.js';
import { bceWithLogits } from '../tensor/ops/loss.js';
import type { Tensor } from '../tensor/tensor.js';
import { timingStats, type TimingStats } from './stats.js';

export type BenchMode = 'fwd' | 'fwd_eval' | 'train';

export interface BenchOptions {
  modes?: readonly BenchMode[];
  /** Timed runs per mode (after the cold one). */
  reps?: number;
  /** Untimed runs per mode, the first being the cold one (at least 1). */
  warmup?: number;
  /** Stop adding timed reps to a mode after this many seconds. */
  budgetS?: number;
  /** SGD learning rate of the train step. */
  lr?: number;
  /** Called with progress text (the CLI sends it to stderr). */
  log?: (msg: string) => void;
  /** Per-kernel GPU time of one extra train step (timestamp-query), when the device can profile. */
  profile?: boolean;
}

export interface ModeResult extends TimingStats {
  finite: boolean;
  /** Dispatches and submits per step (from device stats). */
  dispatches_per_step: number;
  submits_per_step: number;
  loss_first?: number;
  loss_last?: number;
  /** Conv GFLOP/s (2 x conv MACs per step / median time; a train step counts 3x the forward). */
  conv_gflops?: number;
}

export interface KernelProfileRow {
  kernel: string;
  dispatches: number;
  gpu_ms: number;
  share_pct: number;
  gflops?: number;
  gbps?: number;
}

/** GPU time of one kernel group in a profiled step (`profile.groups`). */
export interface ProfileGroupRow {
  group: string;
  gpu_ms: number;
  share_pct: number;
}

export interface BenchResult {
  out_shape: number[];
  conv_gmacs_fwd: number;
  modes: Partial<Record<BenchMode, ModeResult>>;
  /** Highest live tensor bytes on the device during the run, plus what the pool held then. */
  gpu_peak_bytes: number;
  gpu_pooled_bytes: number;
  adapter: string;
  profile?: { total_gpu_ms: number; kernels: KernelProfileRow[]; groups: ProfileGroupRow[]; source: string };
}

interface Profiler {
  startProfiling(): void;
  stopProfiling(): Promise<{ total_gpu_ms: number; kernels: { kernel: string; dispatches: number; gpu_ms: number; flops?: number; bytes?: number }[]; source?: string }>;
}

/** Multiply-accumulates of every Conv2d / ConvTranspose2d in one forward (true MACs: k*k*Cin*Cout per output/input pixel). */
export function convMacs(model: Module, run: () => void): number {
  let macs = 0;
  const restore: (() => void)[] = [];
  for (const m of model.modules()) {
    const name = m.constructor.name;
    if (name !== 'Conv2d' && name !== 'ConvTranspose2d') continue;
    const fwd = m.forward.bind(m);
    (m as unknown as { forward: unknown }).forward = (x: Tensor) => {
      const y = fwd(x) as Tensor;
      const w = (m as unknown as { weight: Tensor }).weight.numel;
      // Conv2d: one weight set per output pixel; ConvTranspose2d: per input pixel.
      const pix = name === 'Conv2d' ? y.shape[0]! * y.shape[2]! * y.shape[3]! : x.shape[0]! * x.shape[2]! * x.shape[3]!;
      macs += w * pix;
      return y;
    };
    restore.push(() => delete (m as unknown as { forward?: unknown }).forward);
  }
  try {
    run();
  } finally {
    for (const r of restore) r();
  }
  return macs;
}

/** GPU time per kernel group (src/kernels/<group>.ts; conv split into its Winograd and direct kernels), largest first. */
function groupShares(kernels: readonly { kernel: string; gpu_ms: number }[], total: number): ProfileGroupRow[] {
  const by = new Map<string, number>();
  for (const k of kernels) {
    const g = kernelGroup(k.kernel);
    const name = g === 'conv' ? (k.kernel.startsWith('winograd_') ? 'conv (Winograd)' : 'conv (direct)') : g;
    by.set(name, (by.get(name) ?? 0) + k.gpu_ms);
  }
  return [...by.entries()].sort((a, b) => b[1] - a[1]).map(([group, ms]) => ({ group, gpu_ms: +ms.toFixed(2), share_pct: +((100 * ms) / total).toFixed(1) }));
}

async function finite(t: Tensor): Promise<boolean> {
  const a = await t.toArray();
  for (let i = 0; i < a.length; i += Math.max(1, Math.floor(a.length / 4096))) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/**
 * Times `model` on a random input of `inputShape` in the peers' modes: fwd (train-mode BatchNorm, no tape,
 * output read back), fwd_eval (running statistics), train (forward, mean BCE-with-logits against a fixed
 * random 0/1 mask, backward, SGD step; done when the loss is read back, which waits for the updates too).
 */
export async function benchModel(model: Module, inputShape: readonly number[], device: Backend, opts: BenchOptions = {}): Promise<BenchResult> {
  const { modes = ['fwd', 'fwd_eval', 'train'], reps = 5, warmup = 2, budgetS = 170, lr = 0.01, log = () => {} } = opts;
  const x = withDevice(device, () => randn(inputShape, { seed: 7 }));
  let outShape: number[] = [];
  const gmacs =
    convMacs(model, () =>
      noGrad(() => {
        const y = model.forward(x) as Tensor;
        outShape = [...y.shape];
        y.dispose();
      }),
    ) / 1e9;
  await device.sync();
  const target = withDevice(device, () => noGrad(() => gt(rand(outShape, { seed: 3 }), 0.5)));
  const opt = new SGD(model.parameters(), { lr });
  const result: BenchResult = { out_shape: outShape, conv_gmacs_fwd: +gmacs.toFixed(3), modes: {}, gpu_peak_bytes: 0, gpu_pooled_bytes: 0, adapter: device.description };
  device.resetPeak();
  /** Forward, loss, backward, SGD update; resolves with the loss once read back (after the update's dispatches). */
  const trainStep = async (): Promise<number> => {
    model.train();
    const y = model.forward(x) as Tensor;
    const loss = bceWithLogits(y, target);
    y.dispose();
    loss.backward();
    opt.step();
    opt.zeroGrad();
    const v = await loss.item();
    loss.dispose();
    return v;
  };

  for (const mode of modes) {
    const step = async (): Promise<{ ok: boolean; loss?: number }> => {
      if (mode === 'train') {
        const v = await trainStep();
        return { ok: Number.isFinite(v), loss: v };
      }
      if (mode === 'fwd') model.train();
      else model.eval();
      const y = noGrad(() => model.forward(x) as Tensor);
      const ok = await finite(y);
      y.dispose();
      return { ok };
    };
    const t0 = performance.now();
    const first = await step();
    const firstMs = performance.now() - t0;
    log(`${mode}: cold ${firstMs.toFixed(0)} ms`);
    for (let i = 1; i < warmup; i++) await step();
    const samples: number[] = [];
    let ok = first.ok;
    const losses: number[] = first.loss !== undefined ? [first.loss] : [];
    const s0 = device.stats();
    const tStart = performance.now();
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const r = await step();
      samples.push(performance.now() - t);
      ok &&= r.ok;
      if (r.loss !== undefined) losses.push(r.loss);
      log(`${mode}: rep ${i + 1}/${reps} ${samples[samples.length - 1]!.toFixed(0)} ms`);
      if ((performance.now() - tStart) / 1000 > budgetS) break;
    }
    const s1 = device.stats();
    const n = Math.max(1, samples.length);
    const st = timingStats(firstMs, samples);
    const work = (mode === 'train' ? 3 : 1) * 2 * gmacs;
    result.modes[mode] = {
      ...st,
      finite: ok,
      dispatches_per_step: Math.round((s1.dispatches - s0.dispatches) / n),
      submits_per_step: Math.round((s1.submits - s0.submits) / n),
      ...(losses.length ? { loss_first: losses[0], loss_last: losses[losses.length - 1] } : {}),
      conv_gflops: +(work / (st.median_ms / 1000)).toFixed(2),
    };
  }
  const prof = device as unknown as Partial<Profiler>;
  if (opts.profile && prof.startProfiling && prof.stopProfiling) {
    prof.startProfiling();
    await trainStep();
    const p = await prof.stopProfiling();
    result.profile = {
      total_gpu_ms: +p.total_gpu_ms.toFixed(2),
      source: p.source ?? 'timestamp-query',
      kernels: p.kernels.slice(0, 15).map((k) => ({
        kernel: k.kernel,
        dispatches: k.dispatches,
        gpu_ms: +k.gpu_ms.toFixed(2),
        share_pct: +((100 * k.gpu_ms) / p.total_gpu_ms).toFixed(1),
        ...(k.flops ? { gflops: +(k.flops / 1e6 / k.gpu_ms).toFixed(2) } : {}),
        ...(k.bytes ? { gbps: +(k.bytes / 1e6 / k.gpu_ms).toFixed(2) } : {}),
      })),
      groups: groupShares(p.kernels, p.total_gpu_ms),
    };
  }
  const st = device.stats();
  result.gpu_peak_bytes = st.peakBytes;
  result.gpu_pooled_bytes = st.pooledBytes;
  opt.zeroGrad();
  x.dispose();
  target.dispose();
  return result;
}
