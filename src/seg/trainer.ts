// The segmentation trainer (browser-safe): fit() draws batches of random augmented crops, steps the optimizer and
// scheduler, validates Dice / IoU per class at each epoch's end, keeps a JSON-lines log, an SVG plot and the
// latest / best checkpoints in a RunStore, and resumes bit for bit: every random draw comes from one Rng whose
// state the checkpoint holds, beside the weights, the optimizer and scheduler state and the counters.
// The hot path reads nothing back but the loss, and that asynchronously (awaited every `logEvery` steps).
import { ArgumentError, TensorError } from '../core/errors.js';
import { augment, cropMirror, randomCrop, type AugmentOptions } from '../data/augment.js';
import { computeNormalization, normalizeInPlace, type Normalization, type SegDataset, type SegSample } from '../data/dataset.js';
import { Adam, AdamW, SGD, type Optimizer } from '../nn/optim.js';
import { CosineAnnealingLR, ReduceLROnPlateau, StepLR } from '../nn/lr_scheduler.js';
import { serializeSafetensors } from '../nn/safetensors.js';
import { noGrad } from '../tensor/context.js';
import { tensor } from '../tensor/creation.js';
import * as F from '../tensor/ops/index.js';
import { Rng } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { forwardWithLoss, geometryOf, modelSpecOf, outputSizeOf, type FamilyModel } from '../unet/family/index.js';
import { addConfusion, confusion, dice, iou, pixelError, type Confusion } from './metrics.js';
import { checkpointMetadata, checkpointTensors, optimizerMeta, optimizerStateOf, CHECKPOINT_FORMAT, type SegCheckpoint, type SegCheckpointMeta, type TrainState, type ValRecord } from './checkpoint.js';
import { trainingPlotSvg } from './plot.js';

export const LOSSES = ['bce', 'ce', 'dice', 'bce+dice'] as const;
export type LossName = (typeof LOSSES)[number];
export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const SCHEDULERS = ['none', 'cosine', 'step', 'plateau'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

/** Where a run keeps its files (a folder in Node: runFolder in the ./node entry; memoryRunStore elsewhere). */
export interface RunStore {
  /** Writes a safetensors file atomically (latest / best never half-written). */
  saveTensors(name: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>): Promise<void>;
  /** Replaces a text file (atomically where the store can). */
  writeText(name: string, text: string): Promise<void>;
  /** Appends to a text file. */
  appendText(name: string, text: string): Promise<void>;
}

/** A RunStore in memory (tests, browsers): safetensors as bytes, text as strings. */
export function memoryRunStore(): RunStore & { files: Map<string, Uint8Array | string> } {
  const files = new Map<string, Uint8Array | string>();
  return {
    files,
    async saveTensors(name, tensors, metadata) {
      files.set(name, await serializeSafetensors(tensors, metadata));
    },
    async writeText(name, text) {
      files.set(name, text);
    },
    async appendText(name, text) {
      files.set(name, `${(files.get(name) as string | undefined) ?? ''}${text}`);
    },
  };
}

export interface FitOptions {
  /** Square crop side fed to the net (default 256; clipped to nothing: larger than the image mirrors). */
  crop?: number;
  batch?: number;
  loss?: LossName;
  optimizer?: OptimizerName;
  lr?: number;
  /** Default 0 (Adam, SGD), 1e-2 (AdamW). */
  weightDecay?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  scheduler?: SchedulerName;
  /** Budget: epochs, steps or minutes of training wall time (the first one set; default 10 epochs). */
  epochs?: number;
  steps?: number;
  minutes?: number;
  /** Steps per epoch (default: one pass over the training pixels, ceil(pixels / (batch crop^2))). */
  stepsPerEpoch?: number;
  augment?: AugmentOptions;
  seed?: number;
  /** Await the asynchronous loss readbacks every this many steps (default 5); onStep fires then, in order. */
  logEvery?: number;
  /** Dice smoothing of the dice losses (default 1). */
  diceSmooth?: number;
  /** Where checkpoints, the log and the plot go (none: nothing is written). */
  store?: RunStore | null;
  /** Stop at the next step boundary (the latest checkpoint is written there, so a resume continues exactly). */
  signal?: AbortSignal;
  /** Continue from this checkpoint (weights, optimizer, scheduler, Rng, counters, history). */
  resume?: SegCheckpoint | null;
  /** Class names for reports and the plot. */
  classNames?: string[];
  /** Caller's fields kept in the checkpoint's metadata (the CLI's data folders). */
  extra?: Record<string, unknown>;
}

export interface FitData {
  train: SegDataset;
  val?: SegDataset | null;
  /** Default: computed from the training images (or taken from the resumed checkpoint). */
  normalization?: Normalization;
}

export interface StepInfo {
  step: number;
  epoch: number;
  /** Steps of the whole run (NaN for a minutes budget). */
  totalSteps: number;
  loss: number;
  lr: number;
  elapsedMs: number;
  imagesPerSec: number;
  /** Estimated time left (NaN when unknown). */
  etaMs: number;
}

export interface EpochInfo {
  epoch: number;
  step: number;
  /** Mean training loss of the epoch's steps. */
  loss: number;
  val: ValRecord | null;
  /** The best-checkpoint score (mean foreground Dice) improved. */
  best: boolean;
  elapsedMs: number;
}

export interface FitCallbacks {
  onStart?(info: { step: number; totalSteps: number; stepsPerEpoch: number; trainSamples: number; valSamples: number; outChannels: number }): void;
  /** Return 'stop' to end the run at the next step boundary. */
  onStep?(info: StepInfo): void | 'stop';
  onEpoch?(info: EpochInfo): void | 'stop';
  onCheckpoint?(name: string, step: number): void;
}

export interface FitResult {
  steps: number;
  epochs: number;
  losses: number[];
  val: ValRecord[];
  best: { score: number; step: number } | null;
  elapsedMs: number;
  stopped: 'budget' | 'signal' | 'callback';
  normalization: Normalization;
}

/** Output channels of the net for `classes` label classes: 1 for a binary task unless the loss is cross-entropy. */
export function outChannelsFor(classes: number, loss: LossName): number {
  return classes === 2 && loss !== 'ce' ? 1 : classes;
}

/** The output size a net gives and the border it trims per side for `size` inputs. */
function geometry(model: FamilyModel, size: number) {
  const out = outputSizeOf(model, size);
  const g = geometryOf(model);
  if (out <= 0 || (size - out) % 2) throw new ArgumentError('fit', `a ${size} crop gives a ${out} output with this U-Net (${g.padding} padding, depth ${g.depth}); choose another --crop`);
  return { out, border: (size - out) / 2 };
}

/** The smallest input side >= n whose output covers n, and its border (whole-image validation). */
function wholeInput(model: FamilyModel, n: number): { size: number; border: number } {
  const q = 2 ** model.config.depth;
  for (let s = Math.ceil(n / q) * q; ; s += q) {
    const o = outputSizeOf(model, s);
    if (o >= n && (s - o) % 2 === 0) return { size: s, border: (s - o) / 2 };
  }
}

const OPTIMIZER_NAMES: Record<OptimizerName, string> = { adam: 'Adam', adamw: 'AdamW', sgd: 'SGD' };

function makeOptimizer(model: FamilyModel, o: Required<Pick<FitOptions, 'optimizer' | 'lr'>> & FitOptions): Optimizer<{ lr: number }> {
  const params = model.parameters();
  if (o.optimizer === 'adam') return new Adam(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0 }) as unknown as Optimizer<{ lr: number }>;
  if (o.optimizer === 'adamw') return new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay ?? 1e-2 }) as unknown as Optimizer<{ lr: number }>;
  return new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 0 }) as unknown as Optimizer<{ lr: number }>;
}

type Scheduler = { kind: 'step' | 'epoch'; s: CosineAnnealingLR | StepLR } | { kind: 'plateau'; s: ReduceLROnPlateau } | null;

/** Pools the confusion counts of whole-image predictions on `samples` (eval mode, no grad; reads logits back). */
export async function validate(model: FamilyModel, samples: readonly SegSample[], classes: number, norm: Normalization): Promise<{ conf: Confusion; record: Omit<ValRecord, 'epoch' | 'step'> }> {
  const wasTraining = model.training;
  model.eval();
  let conf: Confusion | null = null;
  try {
    for (const s of samples) {
      const { size, border } = wholeInput(model, Math.max(s.height, s.width));
      const patch = cropMirror(s, -border, -border, size, size);
      const x = tensor(normalizeInPlace(patch.image, norm), [1, s.channels, size, size], { device: model.parameters()[0]!.device });
      const logits = noGrad(() => model.forward(x));
      x.dispose();
      const [, ch, oh, ow] = logits.shape as [number, number, number, number];
      const data = await logits.toArray();
      logits.dispose();
      const pred = new Uint8Array(s.height * s.width);
      const plane = oh * ow;
      for (let y = 0; y < s.height; y++) {
        for (let xx = 0; xx < s.width; xx++) {
          const o = y * ow + xx;
          let k = 0;
          if (ch === 1) k = data[o]! > 0 ? 1 : 0;
          else for (let c = 1; c < ch; c++) if (data[c * plane + o]! > data[k * plane + o]!) k = c;
          pred[y * s.width + xx] = k;
        }
      }
      const c = confusion(pred, s.mask, classes);
      conf = conf ? addConfusion(conf, c) : c;
    }
  } finally {
    model.train(wasTraining);
  }
  if (!conf) throw new ArgumentError('validate', 'no validation samples');
  return { conf, record: { dice: dice(conf), iou: iou(conf), pixelError: pixelError(conf) } };
}

/** Mean Dice over the foreground classes 1..K-1 (the best-checkpoint score). */
export const foregroundDice = (v: { dice: number[] }) => v.dice.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, v.dice.length - 1);

/**
 * Trains `model` on `data.train` with random augmented crops; validates on `data.val` at each epoch's end.
 * The model's output channels must be outChannelsFor(classes, loss). Resolves when the budget is spent, the
 * signal aborts or a callback returns 'stop' (then 'latest' is saved at that step).
 */
export async function fit(model: FamilyModel, data: FitData, options: FitOptions = {}, callbacks: FitCallbacks = {}): Promise<FitResult> {
  const o = { crop: 256, batch: 4, loss: 'bce+dice' as LossName, optimizer: 'adam' as OptimizerName, lr: 1e-3, scheduler: 'none' as SchedulerName, seed: 0, logEvery: 5, diceSmooth: 1, ...options };
  const { train } = data;
  const val = data.val?.samples.length ? data.val : null;
  const K = train.classes;
  const outCh = outChannelsFor(K, o.loss);
  if (model.config.classes !== outCh) {
    throw new ArgumentError('fit', `the U-Net has ${model.config.classes} output channels; ${K} classes with loss ${o.loss} need ${outCh}`);
  }
  if (model.config.inChannels !== train.channels) throw new ArgumentError('fit', `the U-Net takes ${model.config.inChannels} channels, the images have ${train.channels}`);
  if (!train.samples.length) throw new ArgumentError('fit', 'no training samples');
  for (const [k, v] of Object.entries({ crop: o.crop, batch: o.batch, logEvery: o.logEvery })) {
    if (!(Number.isInteger(v) && v >= 1)) throw new ArgumentError('fit', `${k} must be a positive integer, got ${v}`);
  }
  const { out, border } = geometry(model, o.crop);
  const device = model.parameters()[0]!.device;
  const ck = o.resume ?? null;
  const norm = data.normalization ?? ck?.meta.data.normalization ?? computeNormalization(train.samples);
  const pixels = train.samples.reduce((a, s) => a + s.height * s.width, 0);
  const stepsPerEpoch = o.stepsPerEpoch ?? Math.max(1, Math.ceil(pixels / (o.batch * out * out)));
  const budget = o.steps !== undefined ? { steps: o.steps } : o.minutes !== undefined ? { minutes: o.minutes } : { steps: (o.epochs ?? 10) * stepsPerEpoch };
  const totalSteps = 'steps' in budget ? budget.steps! : NaN;

  const opt = makeOptimizer(model, o);
  let sched: Scheduler = null;
  const state: TrainState = ck?.meta.train
    ? structuredClone(ck.meta.train)
    : { step: 0, epoch: 0, elapsedMs: 0, rng: new Rng(o.seed).getState(), optimizer: optimizerMeta(o.optimizer, opt), scheduler: null, history: { loss: [], val: [] }, best: null, options: {} };
  if (ck) {
    if (!ck.meta.train) throw new ArgumentError('fit', 'the checkpoint to resume has no training state');
    model.loadStateDict(ck.model);
    opt.loadStateDict(optimizerStateOf(ck));
  }
  if (o.scheduler === 'cosine') {
    if (!Number.isFinite(totalSteps)) throw new ArgumentError('fit', 'the cosine scheduler needs a steps or epochs budget (not minutes)');
    sched = { kind: 'step', s: new CosineAnnealingLR(opt, { tMax: totalSteps, etaMin: o.lr * 1e-2 }) };
  } else if (o.scheduler === 'step') {
    const epochs = Number.isFinite(totalSteps) ? Math.ceil(totalSteps / stepsPerEpoch) : 30;
    sched = { kind: 'epoch', s: new StepLR(opt, { stepSize: Math.max(1, Math.round(epochs / 3)), gamma: 0.1 }) };
  } else if (o.scheduler === 'plateau') {
    if (!val) throw new ArgumentError('fit', 'the plateau scheduler needs a validation set');
    sched = { kind: 'plateau', s: new ReduceLROnPlateau(opt, { mode: 'max', factor: 0.5, patience: 3 }) };
  }
  if (sched && ck?.meta.train?.scheduler) sched.s.loadStateDict(ck.meta.train.scheduler.state);

  const rng = Rng.fromState(state.rng);
  const { store } = o;
  const jsonOptions = Object.fromEntries(Object.entries(o).filter(([k]) => !['store', 'signal', 'resume', 'extra'].includes(k)));
  state.options = jsonOptions;
  const meta = (): SegCheckpointMeta => ({
    format: CHECKPOINT_FORMAT,
    ...(() => {
      const spec = modelSpecOf(model);
      return { model: spec.options, modelName: spec.name };
    })(),
    data: { channels: train.channels, classes: K, mapping: train.mapping, normalization: norm, ...(o.classNames ? { classNames: o.classNames } : {}) },
    train: {
      ...state,
      rng: rng.getState(),
      optimizer: optimizerMeta(o.optimizer, opt),
      scheduler: sched ? { name: o.scheduler, state: sched.s.stateDict() } : null,
    },
    ...(o.extra ? { extra: o.extra } : {}),
  });
  const save = async (name: string) => {
    if (!store) return;
    await store.saveTensors(name, checkpointTensors(model, opt), checkpointMetadata(meta()));
    callbacks.onCheckpoint?.(name, state.step);
  };
  let logBuf = ck ? `${JSON.stringify({ type: 'resume', step: state.step, epoch: state.epoch })}\n` : '';
  const writeLog = async () => {
    if (store && logBuf) await store.appendText('train.jsonl', logBuf);
    logBuf = '';
  };
  const writePlot = async () => {
    if (store) await store.writeText('plot.svg', trainingPlotSvg(state.history.loss, state.history.val, { classNames: o.classNames }));
  };

  const outSize = out;
  const C = train.channels;
  const sampleBatch = (): { x: Tensor; t: Tensor } => {
    const B = o.batch, n = o.crop * o.crop, m = outSize * outSize;
    const xs = new Float32Array(B * C * n);
    const binary = outCh === 1;
    const onehot = !binary && (o.loss === 'bce' || o.loss === 'bce+dice');
    const ts = binary || onehot ? new Float32Array(B * (binary ? 1 : K) * m) : new Int32Array(B * m);
    for (let b = 0; b < B; b++) {
      const s = train.samples[rng.int(train.samples.length)]!;
      const p = augment(randomCrop(s, o.crop, rng, border), rng, o.augment ?? {});
      xs.set(normalizeInPlace(p.image, norm), b * C * n);
      for (let y = 0; y < outSize; y++) {
        for (let x = 0; x < outSize; x++) {
          const k = p.mask[(y + border) * o.crop + x + border]!;
          const i = y * outSize + x;
          if (binary) ts[b * m + i] = k;
          else if (onehot) ts[(b * K + k) * m + i] = 1;
          else ts[b * m + i] = k;
        }
      }
    }
    const x = tensor(xs, [B, C, o.crop, o.crop], { device });
    const t = tensor(ts, binary ? [B, 1, outSize, outSize] : onehot ? [B, K, outSize, outSize] : [B, outSize, outSize], { device });
    return { x, t };
  };
  const lossOf = (logits: Tensor, t: Tensor): Tensor => {
    const smooth = o.diceSmooth;
    const diceTerm = () => F.diceLoss(outCh === 1 ? F.sigmoid(logits) : F.softmax(logits, 1), t, { smooth });
    if (o.loss === 'ce') return F.crossEntropy(logits, t);
    if (o.loss === 'bce') return F.bceWithLogits(logits, t);
    if (o.loss === 'dice') return diceTerm();
    return F.add(F.bceWithLogits(logits, t), diceTerm());
  };

  callbacks.onStart?.({ step: state.step, totalSteps, stepsPerEpoch, trainSamples: train.samples.length, valSamples: val?.samples.length ?? 0, outChannels: outCh });
  const t0 = performance.now() - state.elapsedMs;
  const startStep = state.step;
  const runStart = performance.now();
  const pending: { step: number; lr: number; value: Promise<ArrayLike<number>> }[] = [];
  let stopped: FitResult['stopped'] = 'budget';
  let stopAsked = false;
  let epochLoss = 0, epochSteps = 0;
  const elapsed = () => performance.now() - t0;
  const budgetLeft = () => ('steps' in budget ? state.step < budget.steps! : elapsed() < budget.minutes! * 60_000);

  const drain = async () => {
    while (pending.length) {
      const p = pending.shift()!;
      const loss = (await p.value)[0]!;
      if (!Number.isFinite(loss)) throw new TensorError(`fit: the loss is ${loss} at step ${p.step} (learning rate ${p.lr} too high?)`);
      state.history.loss[p.step - 1] = loss;
      epochLoss += loss;
      epochSteps++;
      const el = elapsed();
      const rate = (o.batch * (p.step - startStep)) / Math.max(1e-9, (performance.now() - runStart) / 1000);
      const eta = 'steps' in budget ? ((budget.steps! - p.step) * o.batch) / rate * 1000 : Math.max(0, budget.minutes! * 60_000 - el);
      logBuf += `${JSON.stringify({ type: 'step', step: p.step, epoch: Math.floor((p.step - 1) / stepsPerEpoch) + 1, loss, lr: p.lr, time: +(el / 1000).toFixed(3) })}\n`;
      if (callbacks.onStep?.({ step: p.step, epoch: Math.floor((p.step - 1) / stepsPerEpoch) + 1, totalSteps, loss, lr: p.lr, elapsedMs: el, imagesPerSec: rate, etaMs: eta }) === 'stop') {
        stopAsked = true;
        stopped = 'callback';
      }
    }
  };

  const endEpoch = async () => {
    await drain();
    state.epoch = Math.floor(state.step / stepsPerEpoch);
    let record: ValRecord | null = null;
    let best = false;
    if (val) {
      const v = await validate(model, val.samples, K, norm);
      record = { epoch: state.epoch, step: state.step, ...v.record };
      state.history.val.push(record);
      const score = foregroundDice(record);
      if (!state.best || score > state.best.score) {
        state.best = { score, step: state.step };
        best = true;
      }
      logBuf += `${JSON.stringify({ type: 'val', ...record, time: +(elapsed() / 1000).toFixed(3) })}\n`;
    }
    const whole = state.step % stepsPerEpoch === 0;
    if (whole && sched?.kind === 'epoch') sched.s.step();
    if (whole && sched?.kind === 'plateau' && record) sched.s.step(foregroundDice(record));
    state.elapsedMs = elapsed();
    await save('latest.safetensors');
    if (best) await save('best.safetensors');
    await writeLog();
    await writePlot();
    const r = callbacks.onEpoch?.({ epoch: state.epoch, step: state.step, loss: epochLoss / Math.max(1, epochSteps), val: record, best, elapsedMs: state.elapsedMs });
    epochLoss = 0;
    epochSteps = 0;
    if (r === 'stop') {
      stopAsked = true;
      stopped = 'callback';
    }
  };

  model.train();
  try {
    while (budgetLeft() && !stopAsked) {
      if (o.signal?.aborted) {
        stopped = 'signal';
        break;
      }
      const lr = opt.paramGroups[0]!.lr;
      const { x, t } = sampleBatch();
      // UNet++ with deep supervision: the mean of its heads' losses.
      const loss = tidy(() => forwardWithLoss(model, x, (y) => lossOf(y, t)).loss);
      x.dispose();
      t.dispose();
      loss.backward();
      opt.step();
      opt.zeroGrad();
      if (sched?.kind === 'step') sched.s.step();
      state.step++;
      // Started now (the step is submitted with it), awaited later: the loop never waits for the GPU here.
      pending.push({ step: state.step, lr, value: loss.toArray() });
      loss.dispose();
      if (pending.length >= o.logEvery) await drain();
      if (state.step % stepsPerEpoch === 0) await endEpoch();
    }
    await drain();
    if (stopped === 'budget' && state.step % stepsPerEpoch !== 0) await endEpoch();
    else if (state.step % stepsPerEpoch !== 0 || state.step === startStep) {
      // Stopped mid-epoch (or nothing to do): keep the exact state so a resume continues from this step.
      state.elapsedMs = elapsed();
      await save('latest.safetensors');
      await writeLog();
      await writePlot();
    }
  } finally {
    opt.dispose();
  }
  return {
    steps: state.step,
    epochs: state.epoch,
    losses: [...state.history.loss],
    val: [...state.history.val],
    best: state.best,
    elapsedMs: elapsed(),
    stopped,
    normalization: norm,
  };
}
