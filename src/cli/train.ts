// `unet-webgpu train`: trains a U-Net on an images folder and a masks folder (with no arguments: the ISBI 2012
// example sections shipped in examples/isbi2012, a short run), with a progress bar on a terminal and plain lines
// otherwise; checkpoints, the JSON-lines log and the plot go to --out. --resume continues a run exactly.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../core/errors.js';
import { augmentOptions, AUGMENTATIONS } from '../data/augment.js';
import { splitDataset, type SegDataset } from '../data/dataset.js';
import { loadCheckpoint, openNodeDevice, readSegDataset, readTuningFile, runFolder, tuningPath, writeTuningTable } from '../node.js';
import { manualSeed } from '../tensor/random.js';
import { fit, foregroundDice, LOSSES, OPTIMIZERS, outChannelsFor, SCHEDULERS, type FitOptions, type StepInfo } from '../seg/trainer.js';
import type { SegCheckpoint } from '../seg/checkpoint.js';
import type { UNet, UNetOptions } from '../unet/unet.js';
import { createModel, forwardWithLoss, geometryOf, MODEL_NAMES, type FamilyModel } from '../unet/family/index.js';
import { tuneStep } from '../bench/lab/tune.js';
import { adapterFingerprint, setTuning, tuningOf } from '../kernels/tuning.js';
import type { WebGpuDevice } from '../device.js';
import { randn } from '../tensor/creation.js';
import { applyCheckpointing, familyOptions, modelFlag } from './model_flag.js';
import { choiceFlag, intFlag, numFlag } from './args.js';

const EXAMPLE = resolve(fileURLToPath(import.meta.url), '../../../examples/isbi2012');

const STRING_FLAGS = [
  'images', 'masks', 'val', 'epochs', 'steps', 'minutes', 'epoch-steps', 'batch', 'crop', 'lr', 'optimizer', 'scheduler', 'loss',
  'classes', 'mask-values', 'class-names', 'model', 'width', 'depth', 'padding', 'augment', 'seed', 'out', 'resume', 'log-every', 'nice-main',
] as const;
const FLAGS = {
  ...(Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' }])) as Record<(typeof STRING_FLAGS)[number], { type: 'string' }>),
  bilinear: { type: 'boolean' },
  'deep-supervision': { type: 'boolean' },
  checkpointing: { type: 'boolean' },
  tune: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TRAIN_HELP = `usage: unet-webgpu train [flags]

Trains a U-Net for segmentation. With no --images / --masks: the ISBI 2012 example (examples/isbi2012, 25 EM
sections; membrane = mask value 0 is class 1), a short run (40 steps of 128x128 crops, width 16) that prints the
validation Dice.

data
  --images DIR          images (PNG, JPEG, TIFF incl. multi-page stacks; 8/16-bit)
  --masks DIR           masks, paired with the images by base name (x.png <-> x.png / x_mask.png)
  --val F|DIR           validation: a fraction split off with the seed (default 0.2), or a folder with images/ and masks/
  --classes K           label classes (default 2: masks 0/255 or 0/1); K > 2: masks hold 0..K-1
  --mask-values LIST    the mask value of each class, in class order (e.g. 255,0 makes 0 the foreground)
  --class-names LIST    names for reports (e.g. cell,membrane)
  --augment LIST        any of ${AUGMENTATIONS.join(',')} (default flips,rot90; 'none' for nothing)
model
  --model ${MODEL_NAMES.join('|')} (unet; the others: src/unet/family)
  --deep-supervision    unet++: one head per top-row node, the loss the mean of theirs (predict uses the last)
  --width N (16) --depth N (4) --padding same|valid (same; unet only) --bilinear (unet only)
  --checkpointing       recompute each DoubleConv in backward: less activation memory, ~1.3x step time (unet, res-unet)
  --tune                before training, time the kernel candidates of this run's step buckets that this adapter's
                        cached tuning table lacks (first use; later runs reuse it; unet-webgpu kernels tune --print)
training
  --epochs N | --steps N | --minutes M     budget (default 10 epochs)
  --epoch-steps N       steps per epoch (default: one pass over the training pixels)
  --batch N (4) --crop N (256) --lr X (1e-3)
  --optimizer ${OPTIMIZERS.join('|')} (adam)   --scheduler ${SCHEDULERS.join('|')} (none)
  --loss ${LOSSES.join('|')} (bce+dice)
  --seed N (0)          one seed for init, split, crops and augmentation
  --out DIR             run folder (default runs/<date-time>): latest/best.safetensors, train.jsonl, plot.svg
  --resume DIR|FILE     continue a run (its latest.safetensors) with its own settings; a budget flag extends it
  --log-every N         read the loss back every N steps (default 5)
  --nice-main N         renice the JS main thread (Dawn spin-waits on it while the GPU works: on lavapipe, whose
                        workers share the CPU, --nice-main 19 trained 1.7x faster here)
`;

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** A val folder's images and masks subfolders. */
function valDirs(cmd: string, dir: string): [string, string] {
  const masks = ['masks', 'labels'].map((m) => join(dir, m)).find((d) => existsSync(d));
  if (!existsSync(join(dir, 'images')) || !masks) throw new ArgumentError(cmd, `--val ${dir} must hold images/ and masks/ (or labels/) folders`);
  return [join(dir, 'images'), masks];
}

function fmtTime(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function progressLine(s: StepInfo, tty: boolean): string {
  const total = Number.isFinite(s.totalSteps) ? `/${s.totalSteps}` : '';
  const frac = Number.isFinite(s.totalSteps) ? s.step / s.totalSteps : s.elapsedMs / (s.elapsedMs + s.etaMs);
  const bar = tty ? `[${'#'.repeat(Math.round(20 * frac)).padEnd(20, '.')}] ` : '';
  return `${bar}step ${s.step}${total} epoch ${s.epoch} loss ${s.loss.toFixed(4)} ${s.imagesPerSec.toFixed(2)} img/s elapsed ${fmtTime(s.elapsedMs)} ETA ${fmtTime(s.etaMs)}`;
}

/** `train`: see TRAIN_HELP. */
export async function trainCmd(argv: string[]): Promise<void> {
  const cmd = 'train';
  const { values: v } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  if (v.help) {
    console.log(TRAIN_HELP);
    return;
  }
  const budgets = (['epochs', 'steps', 'minutes'] as const).filter((k) => v[k] !== undefined);
  if (budgets.length > 1) throw new ArgumentError(cmd, `give one budget, not ${budgets.map((b) => `--${b}`).join(' and ')}`);
  if ((v.images === undefined) !== (v.masks === undefined)) throw new ArgumentError(cmd, '--images and --masks go together');

  let resume: SegCheckpoint | null = null;
  let saved: Record<string, unknown> = {};
  let resumeDir: string | null = null;
  if (v.resume !== undefined) {
    const file = existsSync(v.resume) && statSync(v.resume).isDirectory() ? join(v.resume, 'latest.safetensors') : v.resume;
    if (!existsSync(file)) throw new ArgumentError(cmd, `--resume ${v.resume}: no checkpoint ${file}`);
    resumeDir = resolve(file, '..');
    saved = { ...(await peekExtra(file)) };
  }
  // Settings: explicit flag, else the resumed run's, else the example's or the general defaults.
  const example = v.images === undefined && saved.images === undefined;
  const pick = (k: keyof typeof FLAGS, dflt: string | undefined): string | undefined => (v[k] as string | undefined) ?? (saved[k] as string | undefined) ?? dflt;
  const flag = (k: keyof typeof FLAGS, general: string | undefined, ex: string | undefined = general) => pick(k, example ? ex : general);

  const images = flag('images', undefined, join(EXAMPLE, 'images'))!;
  const masks = flag('masks', undefined, join(EXAMPLE, 'labels'))!;
  const valArg = flag('val', '0.2')!;
  const maskValues = flag('mask-values', undefined, '255,0');
  const classNames = flag('class-names', undefined, 'cell,membrane');
  const classes = intFlag(cmd, 'classes', flag('classes', '2')!, 2, 255);
  const loss = choiceFlag(cmd, 'loss', flag('loss', 'bce+dice')!, LOSSES);
  const seed = intFlag(cmd, 'seed', flag('seed', '0')!, 0, 2 ** 32 - 1);
  const augment = flag('augment', 'flips,rot90')!;
  const budgetGiven = budgets[0];
  const budgetFlag = budgetGiven ?? (saved.budget as string | undefined) ?? (example ? 'steps' : 'epochs');
  const budgetValue = budgetGiven ? (v[budgetGiven] as string) : ((saved.budgetValue as string | undefined) ?? (example ? '40' : '10'));
  const opts: FitOptions = {
    crop: intFlag(cmd, 'crop', flag('crop', '256', '128')!, 8),
    batch: intFlag(cmd, 'batch', flag('batch', '4')!),
    lr: numFlag(cmd, 'lr', flag('lr', '1e-3')!, 0, false),
    optimizer: choiceFlag(cmd, 'optimizer', flag('optimizer', 'adam')!, OPTIMIZERS),
    scheduler: choiceFlag(cmd, 'scheduler', flag('scheduler', 'none')!, SCHEDULERS),
    loss,
    seed,
    augment: augment === 'none' ? {} : augmentOptions(list(augment)),
    logEvery: intFlag(cmd, 'log-every', flag('log-every', '5')!),
    ...(flag('epoch-steps', undefined, '20') !== undefined ? { stepsPerEpoch: intFlag(cmd, 'epoch-steps', flag('epoch-steps', undefined, '20')!) } : {}),
    ...(budgetFlag === 'minutes' ? { minutes: numFlag(cmd, 'minutes', budgetValue, 0, false) } : { [budgetFlag]: intFlag(cmd, budgetFlag, budgetValue) }),
  };
  let modelName = modelFlag(cmd, pick('model', undefined));
  const common = { inChannels: 1, classes: outChannelsFor(classes, loss), width: intFlag(cmd, 'width', flag('width', '16')!), depth: intFlag(cmd, 'depth', flag('depth', '4')!, 0) };
  const padding = pick('padding', undefined);
  const bilinear = v.bilinear ?? (saved.bilinear as boolean | undefined);
  let modelOpts: Record<string, unknown> = modelName === 'unet'
    ? { ...familyOptions(cmd, 'unet', common, { deepSupervision: v['deep-supervision'] }), padding: choiceFlag(cmd, 'padding', padding ?? 'same', ['same', 'valid'] as const), bilinear: bilinear ?? false } satisfies UNetOptions
    : { ...familyOptions(cmd, modelName, common, { padding, bilinear, deepSupervision: v['deep-supervision'] }) };
  const maskOpts = maskValues ? { values: list(maskValues).map((s) => numFlag(cmd, 'mask-values', s)) } : { classes };
  if (maskOpts.values && maskOpts.values.length !== classes && v.classes !== undefined) {
    throw new ArgumentError(cmd, `--mask-values names ${maskOpts.values.length} classes, --classes says ${classes}`);
  }
  const names = classNames ? list(classNames) : undefined;

  const dev = await openNodeDevice({ niceMain: v['nice-main'] === undefined ? 0 : intFlag(cmd, 'nice-main', v['nice-main'], -20, 19) });
  try {
    manualSeed(seed);
    const t0 = performance.now();
    const all = await readSegDataset(images, masks, maskOpts);
    let train: SegDataset, val: SegDataset | null;
    const frac = Number(valArg);
    if (valArg.trim() !== '' && Number.isFinite(frac)) {
      if (!(frac >= 0 && frac < 1)) throw new ArgumentError(cmd, `--val must be a fraction in [0, 1) or a folder, got '${valArg}'`);
      ({ train, val } = splitDataset(all, { fraction: frac, seed }));
    } else {
      if (!existsSync(valArg)) throw new ArgumentError(cmd, `--val must be a fraction in [0, 1) or a folder, got '${valArg}' (no such folder)`);
      train = all;
      val = await readSegDataset(...valDirs(cmd, valArg), { values: all.mapping.values });
    }
    modelOpts.inChannels = all.channels;
    if (names && names.length !== all.classes) throw new ArgumentError(cmd, `--class-names gives ${names.length} names for ${all.classes} classes`);
    const out = v.out ?? resumeDir ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19));
    if (resumeDir === null) {
      if (existsSync(join(out, 'latest.safetensors'))) throw new ArgumentError(cmd, `${out} already holds a run: --resume ${out} to continue it, or choose another --out`);
    } else {
      resume = await loadCheckpoint(join(resumeDir, 'latest.safetensors'));
      modelName = resume.meta.modelName ?? 'unet';
      modelOpts = { ...resume.meta.model };
    }
    const model = applyCheckpointing(cmd, createModel(modelName, modelOpts as never), modelName, v.checkpointing);
    if (v.tune) await tuneRun(dev, () => createModel(modelName, modelOpts as never), opts.batch!, opts.crop!);
    const geo = geometryOf(model);
    const store = await runFolder(out);
    const tty = !!process.stderr.isTTY;
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    console.log(
      `train: ${train.samples.length} training and ${val?.samples.length ?? 0} validation images (${all.channels} channel${all.channels > 1 ? 's' : ''}, ` +
        `${all.classes} classes, mask values ${all.mapping.values.join('/')}) loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `${modelName === 'unet' ? 'U-Net' : modelName} width ${geo.width} depth ${geo.depth} ${geo.padding}, ${model.parameters().reduce((a, p) => a + p.numel, 0).toLocaleString('en-US')} parameters; ` +
        `crop ${opts.crop} batch ${opts.batch} ${opts.optimizer} lr ${opts.lr} loss ${opts.loss}; run folder ${out}${resume ? ` (resuming at step ${resume.meta.train?.step})` : ''}`,
    );
    const name = (k: number) => names?.[k] ?? `class ${k}`;
    const extra = {
      images, masks, val: valArg, 'mask-values': maskValues, 'class-names': classNames, classes: String(classes), loss, seed: String(seed), augment,
      crop: String(opts.crop), batch: String(opts.batch), lr: String(opts.lr), optimizer: opts.optimizer, scheduler: opts.scheduler, 'log-every': String(opts.logEvery),
      'epoch-steps': opts.stepsPerEpoch === undefined ? undefined : String(opts.stepsPerEpoch), budget: budgetFlag, budgetValue,
      model: modelName, width: String(geo.width), depth: String(geo.depth), padding: modelName === 'unet' ? geo.padding : undefined, bilinear: modelName === 'unet' ? (model as UNet).config.bilinear : undefined,
    };
    let lastLine = 0;
    const r = await fit(model, { train, val }, { ...opts, store, signal: ac.signal, resume, classNames: names, extra }, {
      onStep: (s) => {
        if (tty) process.stderr.write(`\r${progressLine(s, true)}\x1b[K`);
        else if (s.step - lastLine >= 10 || s.step === s.totalSteps) {
          console.log(progressLine(s, false));
          lastLine = s.step;
        }
      },
      onEpoch: (e) => {
        if (tty) process.stderr.write('\r\x1b[K');
        const valText = e.val ? `, val Dice ${e.val.dice.map((d, k) => `${name(k)} ${d.toFixed(4)}`).join(' ')}, IoU ${e.val.iou.map((d, k) => `${name(k)} ${d.toFixed(4)}`).join(' ')}, pixel error ${e.val.pixelError.toFixed(4)}${e.best ? ' (best)' : ''}` : '';
        console.log(`epoch ${e.epoch} (step ${e.step}): loss ${e.loss.toFixed(4)}${valText} [${fmtTime(e.elapsedMs)}]`);
      },
    });
    process.off('SIGINT', onSigint);
    if (tty) process.stderr.write('\r\x1b[K');
    const lastVal = r.val[r.val.length - 1];
    const curve = r.losses.length ? `loss ${r.losses[0]!.toFixed(4)} -> ${r.losses[r.losses.length - 1]!.toFixed(4)} over ${r.steps} steps` : 'no steps';
    console.log(`${r.stopped === 'budget' ? 'done' : 'interrupted'}: ${curve} in ${fmtTime(r.elapsedMs)}`);
    if (lastVal) {
      console.log(`validation Dice: ${lastVal.dice.map((d, k) => `${name(k)} ${d.toFixed(4)}`).join(', ')} (foreground mean ${foregroundDice(lastVal).toFixed(4)}); IoU ${lastVal.iou.map((d, k) => `${name(k)} ${d.toFixed(4)}`).join(', ')}; pixel error ${lastVal.pixelError.toFixed(4)}`);
    }
    console.log(`run folder ${out}: latest.safetensors${r.best ? `, best.safetensors (step ${r.best.step}, Dice ${r.best.score.toFixed(4)})` : ''}, train.jsonl, plot.svg`);
    if (r.stopped !== 'budget') console.log(`continue with: unet-webgpu train --resume ${out}`);
  } finally {
    await dev.destroy();
  }
}

/**
 * --tune: the buckets of one training step of this run's model (batch x crop x crop) that the adapter's cached table
 * does not hold are timed, merged into it, cached (tuning.json) and applied before the first step.
 */
async function tuneRun(dev: WebGpuDevice, build: () => FamilyModel, batch: number, crop: number): Promise<void> {
  const t0 = performance.now();
  // The cached table (read here even where devices do not load it: UNET_WEBGPU_TUNING=off), else the device's.
  const known = readTuningFile().adapters[adapterFingerprint(dev, process.env)] ?? tuningOf(dev);
  const table = await tuneStep(dev, () => {
    const m = build();
    forwardWithLoss(m, randn([batch, geometryOf(m).inChannels, crop, crop]), (y) => y.sum()).loss.backward();
  }, { env: process.env, known });
  const had = known && known.fingerprint === table.fingerprint ? Object.keys(known.entries).length : 0;
  const added = Object.keys(table.entries).length - had;
  if (table !== known) await writeTuningTable(table);
  setTuning(dev, table);
  console.log(`train: --tune: ${added} new shape bucket(s) timed in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${Object.keys(table.entries).length - added} already in this adapter's table (${tuningPath()})`);
}

/** The CLI settings a run recorded in its checkpoint (read without loading its tensors onto a device). */
async function peekExtra(file: string): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  const { parseSafetensors } = await import('../nn/safetensors.js');
  const json = parseSafetensors(await readFile(file)).metadata['unet-webgpu'];
  if (!json) throw new ArgumentError('train', `--resume ${file} is not a unet-webgpu training checkpoint`);
  return (JSON.parse(json) as { extra?: Record<string, unknown> }).extra ?? {};
}
