// Segmentation checkpoints in safetensors (browser-safe half): tensors 'model.<state dict key>' and
// 'optim.<param index>.<state key>', and one metadata key 'unet-webgpu' holding JSON with everything else a
// prediction or a resumed run needs: the UNet options, the data (channels, classes, mask values, normalisation),
// the optimizer's groups and scalar state, the scheduler state, the RNG state and the step / epoch counters.
// Node reads and writes files through saveCheckpoint / loadCheckpoint / loadSegModel in the ./node entry.
import { FormatError } from '../core/errors.js';
import type { MaskMapping, Normalization } from '../data/dataset.js';
import type { OptimizerStateDict, ParamState } from '../nn/optim.js';
import type { Optimizer } from '../nn/optim.js';
import type { LoadStateDictOptions, StateDict } from '../nn/module.js';
import { checkOptions } from '../core/options.js';
import type { SafetensorsFile } from '../nn/safetensors.js';
import { withDevice } from '../tensor/context.js';
import type { Tensor } from '../tensor/tensor.js';
import type { UNetOptions } from '../unet/unet.js';
import { createModel, type FamilyModel, type ModelName } from '../unet/family/index.js';

/** The metadata key of the JSON. */
export const CHECKPOINT_KEY = 'unet-webgpu';
export const CHECKPOINT_FORMAT = 'unet-webgpu-seg/1';

/** What a model needs to predict: its data conventions. */
export interface SegDataMeta {
  channels: number;
  /** Label classes (2 for binary; the net then has one output channel when trained with BCE / Dice). */
  classes: number;
  /** The mask value of each class (class k <- values[k]); predictions are written back with these values. */
  mapping: MaskMapping;
  /** Inputs are image / maxValue, then (x - mean) / std per channel. */
  normalization: Normalization;
  /** Optional class names for reports (e.g. ['cell', 'membrane']). */
  classNames?: string[];
}

/** One validation pass. */
export interface ValRecord {
  epoch: number;
  step: number;
  dice: number[];
  iou: number[];
  pixelError: number;
}

/** The training state a resumed run continues from. */
export interface TrainState {
  /** Optimizer steps taken. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** Training wall time so far (resumed runs add to it), ms. */
  elapsedMs: number;
  /** The augmentation / sampling Rng's state (Rng.getState()). */
  rng: number[];
  optimizer: { name: string; paramGroups: Record<string, unknown>[]; scalars: Record<number, Record<string, number | null>> };
  scheduler: { name: string; state: Record<string, unknown> } | null;
  /** Loss of every step (index = step - 1) and every validation. */
  history: { loss: number[]; val: ValRecord[] };
  best: { score: number; step: number } | null;
  /** The trainer's options (JSON), so a resume needs nothing else. */
  options: Record<string, unknown>;
}

export interface SegCheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  /** The model's options (a UNet's config; another family model's: see modelName). */
  model: Required<UNetOptions> | Record<string, unknown>;
  /** The family model the options build (src/unet/family); absent: 'unet' (checkpoints before the family). */
  modelName?: ModelName;
  data: SegDataMeta;
  train?: TrainState;
  /** Free-form fields of the caller (the CLI records its data folders here). */
  extra?: Record<string, unknown>;
}

/** A parsed checkpoint: its metadata, the model's state dict and the optimizer's state tensors by param index. */
export interface SegCheckpoint {
  meta: SegCheckpointMeta;
  model: StateDict;
  optim: Map<number, Record<string, Tensor>>;
}

/** The tensors of a checkpoint: 'model.<key>' for the state dict and 'optim.<i>.<key>' for optimizer state. */
export function checkpointTensors(model: FamilyModel, optimizer?: Optimizer<{ lr: number }> | null): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of Object.entries(model.stateDict())) out.set(`model.${k}`, t);
  if (optimizer) {
    for (const [i, st] of Object.entries(optimizer.stateDict().state)) {
      for (const [k, v] of Object.entries(st)) if (v !== null && typeof v === 'object') out.set(`optim.${i}.${k}`, v);
    }
  }
  return out;
}

/** The optimizer's groups and non-tensor state (Adam's step) for TrainState.optimizer. */
export function optimizerMeta(name: string, optimizer: Optimizer<{ lr: number }>): TrainState['optimizer'] {
  const sd = optimizer.stateDict();
  const scalars: Record<number, Record<string, number | null>> = {};
  for (const [i, st] of Object.entries(sd.state)) {
    const s: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(st)) if (v === null || typeof v === 'number') s[k] = v;
    scalars[Number(i)] = s;
  }
  return { name, paramGroups: sd.param_groups, scalars };
}

/** The safetensors metadata of a checkpoint (one JSON string under 'unet-webgpu'). */
export function checkpointMetadata(meta: SegCheckpointMeta): Record<string, string> {
  return { [CHECKPOINT_KEY]: JSON.stringify(meta), format: 'pt' };
}

/** Splits a loaded safetensors file into a SegCheckpoint; FormatError when it is not one of ours. */
export function parseCheckpoint(file: SafetensorsFile, name = 'checkpoint'): SegCheckpoint {
  const json = file.metadata[CHECKPOINT_KEY];
  if (!json) throw new FormatError(`checkpoint: ${name} has no '${CHECKPOINT_KEY}' metadata (not a unet-webgpu segmentation checkpoint; plain weights load with loadSafetensors)`);
  let meta: SegCheckpointMeta;
  try {
    meta = JSON.parse(json) as SegCheckpointMeta;
  } catch (e) {
    throw new FormatError(`checkpoint: ${name}'s '${CHECKPOINT_KEY}' metadata is not JSON (${(e as Error).message})`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new FormatError(`checkpoint: ${name} has format ${String(meta.format)}, this version reads ${CHECKPOINT_FORMAT}`);
  const model: StateDict = {};
  const optim = new Map<number, Record<string, Tensor>>();
  for (const [k, t] of Object.entries(file.tensors)) {
    if (k.startsWith('model.')) model[k.slice(6)] = t;
    else if (k.startsWith('optim.')) {
      const m = /^optim\.(\d+)\.(.+)$/.exec(k);
      if (!m) throw new FormatError(`checkpoint: ${name} has a tensor '${k}' that is not optim.<index>.<key>`);
      const i = Number(m[1]);
      if (!optim.has(i)) optim.set(i, {});
      optim.get(i)![m[2]!] = t;
    } else throw new FormatError(`checkpoint: ${name} has a tensor '${k}' outside model.* and optim.*`);
  }
  return { meta, model, optim };
}

/** The optimizer state dict of a checkpoint (tensors and scalars by param index, groups), for Optimizer.loadStateDict. */
export function optimizerStateOf(ck: SegCheckpoint): OptimizerStateDict {
  const t = ck.meta.train;
  if (!t) throw new FormatError('checkpoint: it has no training state (a model-only checkpoint cannot resume)');
  const state: Record<number, ParamState> = {};
  const indices = new Set([...ck.optim.keys(), ...Object.keys(t.optimizer.scalars).map(Number)]);
  for (const i of indices) state[i] = { ...(t.optimizer.scalars[i] ?? {}), ...(ck.optim.get(i) ?? {}) };
  return { state, param_groups: t.optimizer.paramGroups as OptimizerStateDict['param_groups'] };
}

/**
 * The model of a checkpoint (meta.modelName, default unet) with its weights loaded (strict), in eval mode, and the
 * checkpoint's metadata. stripPrefixes: state-dict keys saved from a DDP-wrapped or torch.compile'd model
 * ('model.module.inc...') load too.
 */
export function segModelFromCheckpoint(ck: SegCheckpoint, opts?: Pick<LoadStateDictOptions, 'stripPrefixes'>): { model: FamilyModel; meta: SegCheckpointMeta } {
  const first = Object.values(ck.model)[0];
  if (!first) throw new FormatError('checkpoint: it holds no model tensors');
  // The model lives where the checkpoint was loaded.
  const model = withDevice(first.device, () => createModel(ck.meta.modelName ?? 'unet', ck.meta.model as never));
  model.loadStateDict(ck.model, { ...checkOptions('segModelFromCheckpoint', opts, { stripPrefixes: true }) });
  model.eval();
  return { model, meta: ck.meta };
}

/** Frees a parsed checkpoint's tensors. */
export function disposeCheckpoint(ck: SegCheckpoint): void {
  for (const t of Object.values(ck.model)) t.dispose();
  for (const st of ck.optim.values()) for (const t of Object.values(st)) t.dispose();
}
