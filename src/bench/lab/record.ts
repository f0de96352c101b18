// The kernel lab's launches: which kernels a pattern selects, their cases recorded from the ops' random calls on the CPU
// (with input data, for `kernels check`), and the launch geometries of a U-Net step or of one explicit shape on the meta
// device (for `kernels bench`).
import type { DeviceLimits } from '../../kernels/backend.js';
import type { KernelSpec } from '../../kernels/define_kernel.js';
import { getKernel, KERNELS } from '../../kernels/index.js';
import type { AdapterFacts } from '../../kernels/runtime/webgpu_backend.js';
import { SGD } from '../../nn/optim.js';
import { withDevice } from '../../tensor/context.js';
import { ArgumentError } from '../../core/errors.js';
import { bceWithLogits } from '../../tensor/ops/loss.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import { CONFIGS, unetOptions, type ConfigName } from '../../unet/configs.js';
import { UNet } from '../../unet/unet.js';
import { createModel, type ModelName } from '../../unet/family/index.js';
import { launchKey, RecordingCpuBackend, RecordingMetaBackend, type Launch } from '../recorder.js';
import { groupOf, type ShapeOptions } from './cases.js';

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

/** Binding limits that force the ops' split paths (windows, accumulation, per-plane kernels) on tiny tensors. */
export const SPLIT_LIMITS: DeviceLimits = { maxBindingBytes: 2048, maxBufferBytes: 2 ** 32 - 1, bindingOffsetAlignment: 64 };

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
    const split = new RecordingCpuBackend(SPLIT_LIMITS);
    withDevice(split, () => g.cases(new Rng(seed + 104729)));
    add(split.launches, 2);
  }
  return out;
}

/**
 * The launches of one training step (forward, BCE-with-logits, backward, SGD step) of a benchmark config, on the meta
 * device: the U-Net, or another model of the family built as `bench --model` builds it.
 */
export function recordModel(config: ConfigName, limits?: DeviceLimits, adapter?: AdapterFacts, model: ModelName = 'unet'): Launch[] {
  const meta = new RecordingMetaBackend(limits, adapter);
  withDevice(meta, () => modelStep(config, model));
  return meta.launches;
}

/**
 * One training step of a config's model on the default device (built there: forward, BCE, backward, SGD): what
 * recordModel records and what `kernels tune` tunes.
 */
export function modelStep(config: ConfigName, model: ModelName = 'unet'): void {
  const cfg = CONFIGS[config];
  if (!cfg) throw new ArgumentError('kernels bench', `--config must be one of ${Object.keys(CONFIGS).join(', ')}, got ${config}`);
  const net = model === 'unet' ? new UNet(unetOptions(config)) : createModel(model, { inChannels: cfg.channels, classes: cfg.classes, width: cfg.width });
  const y = net.forward(Tensor.empty([cfg.batch, cfg.channels, cfg.size, cfg.size], 'f32'));
  const loss = bceWithLogits(y, Tensor.empty(y.shape, 'f32'));
  loss.backward();
  new SGD(net.parameters(), { lr: 0.01 }).step();
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
