/// <reference types="node" />
// The core of `unet-webgpu predict`: read image files, normalise them as the model was trained, predict them tile by
// tile (predictTiled) and write PNG masks, 16-bit probability maps and optional overlays. Node-only (files), so it
// lives with the commands: src/seg stays browser-safe and below the Node entry. The command itself (flags, the
// checkpoint loader) wires a model and its normalisation into predictFiles.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { intFlag, numFlag } from './args.js';
import { ArgumentError } from '../core/errors.js';
import { encodePng } from '../data/image.js';
import { loadSegModel, openNodeDevice, readImage, writeAtomic } from '../node.js';
import { argmaxClasses, predictTiled, type PredictOptions, type TileModel } from '../seg/predict.js';
import type { SegDataMeta } from '../seg/checkpoint.js';
import { normalizePage, type Normalization } from '../seg/input.js';
import type { FamilyModel } from '../unet/family/index.js';

export { normalizePage, type Normalization };

export interface PredictFilesOptions extends PredictOptions {
  /** Foreground threshold of a one-class (sigmoid) model; default 0.5. */
  threshold?: number;
  /** Write probability maps (16-bit PNG); default true. */
  probabilities?: boolean;
  /** Write overlays (the image in grey, predicted classes tinted; 8-bit RGB PNG); default false. */
  overlay?: boolean;
  /** Progress lines (one per page). */
  log?: (line: string) => void;
  /**
   * The mask value written for each class (a checkpoint's data.mapping.values, so masks come back in the training
   * masks' convention); default 0/255 for a binary model, else the labels 0..K-1.
   */
  maskValues?: readonly number[];
}

/** What predictFiles wrote for one page. */
export interface PredictedPage {
  readonly input: string;
  readonly page: number;
  /** Base name of the outputs: the input's, with -PAGE for pages of a multi-page TIFF. */
  readonly name: string;
  readonly mask: string;
  readonly probabilities: readonly string[];
  readonly overlay: string | null;
  readonly seconds: number;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff']);
/** Overlay tints of classes 1, 2, ... (class 0 is left untinted). */
const PALETTE: readonly (readonly [number, number, number])[] = [[255, 40, 40], [40, 200, 40], [40, 90, 255], [255, 200, 0], [200, 0, 255], [0, 220, 220]];

/** The image files of `inputs`: a file, a directory's image files (sorted), or a list of files. */
async function inputFiles(inputs: string | readonly string[]): Promise<string[]> {
  if (typeof inputs !== 'string') return [...inputs];
  const s = await stat(inputs).catch(() => null);
  if (!s) throw new ArgumentError('predictFiles', `${inputs}: no such file or directory`);
  if (!s.isDirectory()) return [inputs];
  const files = (await readdir(inputs)).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort();
  if (!files.length) throw new ArgumentError('predictFiles', `${inputs} has no PNG, JPEG or TIFF files`);
  return files.map((f) => join(inputs, f));
}

/**
 * Predicts every page of `inputs` (FILE, DIR or a list of files) with `model` and writes, under `outDir`:
 * masks/NAME.png (0/255 for a binary model: one sigmoid class or two softmax classes; else the labels 0..K-1),
 * probabilities/NAME.png (16-bit: the foreground probability for binary models, NAME_cK.png per class otherwise) and,
 * with `overlay`, overlays/NAME.png. NAME is the input's base name (-PAGE added for multi-page TIFFs).
 */
export async function predictFiles(model: FamilyModel | TileModel, normalization: Normalization, inputs: string | readonly string[], outDir: string, opts: PredictFilesOptions = {}): Promise<PredictedPage[]> {
  const { threshold = 0.5, probabilities = true, overlay = false, log } = opts;
  const K = model.config.classes;
  const binary = K <= 2;
  const files = await inputFiles(inputs);
  const dirs = { masks: join(outDir, 'masks'), probabilities: join(outDir, 'probabilities'), overlays: join(outDir, 'overlays') };
  await mkdir(dirs.masks, { recursive: true });
  if (probabilities) await mkdir(dirs.probabilities, { recursive: true });
  if (overlay) await mkdir(dirs.overlays, { recursive: true });
  const out: PredictedPage[] = [];
  for (const file of files) {
    const pages = await readImage(file);
    for (let page = 0; page < pages.length; page++) {
      const t0 = performance.now();
      const img = pages[page]!;
      const name = basename(file, extname(file)) + (pages.length > 1 ? `-${page}` : '');
      const x = normalizePage(img, normalization, model.config.inChannels, pages.length > 1 ? `${file} page ${page}` : file);
      const probs = await predictTiled(model, x, opts);
      const labels = argmaxClasses(probs, K, threshold);
      const n = img.width * img.height;
      const size = { width: img.width, height: img.height, channels: 1 };
      const mask = join(dirs.masks, `${name}.png`);
      const values = opts.maskValues ?? (binary ? [0, 255] : null);
      await writeAtomic(mask, encodePng({ ...size, data: values ? labels.map((k) => values[k]!) : labels }, values && Math.max(...values) > 255 ? 16 : 8));
      const probFiles: string[] = [];
      if (probabilities) {
        // Binary: the foreground's probability (class 1 of two, or the one sigmoid class).
        const planes = binary ? [K - 1] : Array.from({ length: K }, (_, k) => k);
        for (const k of planes) {
          const f = join(dirs.probabilities, binary ? `${name}.png` : `${name}_c${k}.png`);
          await writeAtomic(f, encodePng({ ...size, data: probs.subarray(k * n, (k + 1) * n).map((p) => p * 65535) }, 16));
          probFiles.push(f);
        }
      }
      let overlayFile: string | null = null;
      if (overlay) {
        const rgb = new Float32Array(3 * n);
        for (let i = 0; i < n; i++) {
          const g = (img.data[i]! / img.maxValue) * 255;
          const tint = labels[i] ? PALETTE[(labels[i]! - 1) % PALETTE.length]! : null;
          for (let c = 0; c < 3; c++) rgb[c * n + i] = tint ? 0.55 * g + 0.45 * tint[c]! : g;
        }
        overlayFile = join(dirs.overlays, `${name}.png`);
        await writeAtomic(overlayFile, encodePng({ width: img.width, height: img.height, channels: 3, data: rgb }));
      }
      const seconds = (performance.now() - t0) / 1000;
      log?.(`${name}: ${img.width} x ${img.height} in ${seconds.toFixed(1)} s -> ${mask}`);
      out.push({ input: file, page, name, mask, probabilities: probFiles, overlay: overlayFile, seconds });
    }
  }
  return out;
}

export const PREDICT_HELP = `usage: unet-webgpu predict --weights CKPT|--onnx MODEL --input FILE|DIR --out DIR [flags]

Segments images of any size with a checkpoint written by \`unet-webgpu train\` (its model, normalisation and mask values
come from the checkpoint): overlapping tiles with mirrored borders, blended with a Gaussian weight.

  --weights CKPT     a checkpoint (best.safetensors or latest.safetensors of a run folder)
  --onnx MODEL       instead of --weights: a model from \`unet-webgpu export\`, run in ONNX Runtime (onnxruntime-node, CPU)
  --input FILE|DIR   a PNG, JPEG or TIFF file (every page of a stack), or a folder of them
  --out DIR          writes masks/NAME.png (the training masks' values), probabilities/NAME.png (16-bit), overlays/
  --tile N           input tile edge (default: from the device's limits)
  --overlap F        fraction of a tile shared with its neighbour, in [0, 1) (default 0.5)
  --tta              also predict flipped copies and average
  --overlay          write overlays/NAME.png (the image with the predicted classes tinted)
  --threshold P      foreground threshold of a one-output model (default 0.5)
`;

/** \`unet-webgpu predict\`: a checkpoint's model over files, with the checkpoint's normalisation and mask values. */
export async function predictCmd(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      weights: { type: 'string' }, onnx: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, tile: { type: 'string' }, overlap: { type: 'string' },
      threshold: { type: 'string' }, tta: { type: 'boolean', default: false }, overlay: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(PREDICT_HELP);
  if (!v.weights === !v.onnx) throw new ArgumentError('predict', 'give one of --weights CKPT and --onnx MODEL (see --help)');
  for (const k of ['input', 'out'] as const) if (!v[k]) throw new ArgumentError('predict', `--${k} is required (see --help)`);
  const overlap = v.overlap === undefined ? undefined : numFlag('predict', 'overlap', v.overlap, 0);
  if (overlap !== undefined && overlap >= 1) throw new ArgumentError('predict', `--overlap must be in [0, 1), got '${v.overlap}'`);
  const run = async (model: FamilyModel | TileModel, data: SegDataMeta, where: string) => {
    const pages = await predictFiles(model, data.normalization, v.input!, v.out!, {
      tile: v.tile === undefined ? undefined : intFlag('predict', 'tile', v.tile),
      overlap,
      tta: v.tta,
      overlay: v.overlay,
      threshold: v.threshold === undefined ? undefined : numFlag('predict', 'threshold', v.threshold, 0),
      maskValues: data.mapping.values,
      log: (line) => console.log(line),
    });
    console.log(`predicted ${pages.length} page(s) on ${where} -> ${v.out}`);
  };
  if (v.onnx) {
    const { loadOnnxSegModel } = await import('./onnx_model.js');
    const onnx = await loadOnnxSegModel(v.onnx);
    try {
      await run(onnx.model, onnx.meta.data, 'ONNX Runtime (CPU)');
    } finally {
      await onnx.close();
    }
    return;
  }
  const dev = await openNodeDevice();
  try {
    const { model, meta } = await loadSegModel(v.weights!, { device: dev });
    await run(model, meta.data, dev.description);
    model.dispose();
  } finally {
    await dev.destroy();
  }
}
