/// <reference types="node" />
// `unet-webgpu evaluate --pred DIR --masks DIR [--classes K] [--json]`: Dice, IoU, pixel error and HD95 of predicted
// masks against the truth, per image (paired by base name) and their mean, as a table or JSON.
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ArgumentError, FormatError } from '../core/errors.js';
import { maskLabels } from '../data/mask.js';
import { readImage } from '../node.js';
import { evaluateMasks, meanScores, type MaskScores } from '../seg/evaluate.js';
import { intFlag } from './args.js';

const USAGE = `usage: unet-webgpu evaluate --pred DIR --masks DIR [--classes K] [--json]

Scores predicted masks against the true ones, pairing files by base name (3.png with 3.tif); a multi-page TIFF pairs
page by page with a file of as many pages. Both are read as labels: with 2 classes 0 / 255 (0 / max) masks are 0 / 1,
otherwise values must be the labels 0..K-1.

  --pred DIR      predicted masks (PNG, JPEG, TIFF), e.g. predict's OUT/masks
  --masks DIR     true masks, same names
  --classes K     label classes, >= 2 (default 2: binary)
  --json          one JSON object instead of the table: { classes, images: [{ name, pixelError, dice: [...],
                  iou: [...], hd95: [...] }], mean: {...} }, lists indexed by class; an infinite HD95 is null
  -h, --help      this text

Per class: Dice and IoU (1 where the class is absent from both), HD95 = the 95th-percentile symmetric Hausdorff
distance in pixels as MONAI computes it (0 where absent from both, Infinity where absent from one). With 2 classes the
table shows the foreground (class 1) first, then class 0 (ISBI 2012 membranes are class 0).`;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff']);

/** Image files of a directory by base name; two files with one base name are an error. */
async function imagesByName(dir: string, flag: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new ArgumentError('evaluate', `--${flag} ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  const out = new Map<string, string>();
  for (const f of names.sort()) {
    const ext = extname(f).toLowerCase();
    if (!IMAGE_EXT.has(ext)) continue;
    const base = basename(f, extname(f));
    if (out.has(base)) throw new ArgumentError('evaluate', `--${flag} ${dir} has two files named ${base}: ${basename(out.get(base)!)} and ${f}`);
    out.set(base, join(dir, f));
  }
  return out;
}

export interface EvaluatedImage extends MaskScores {
  readonly name: string;
}

/** Scores every truth mask in `masksDir` against its namesake in `predDir` (the command's work, without printing). */
export async function evaluateDirs(predDir: string, masksDir: string, classes: number): Promise<EvaluatedImage[]> {
  const preds = await imagesByName(predDir, 'pred');
  const truths = await imagesByName(masksDir, 'masks');
  if (!truths.size) throw new ArgumentError('evaluate', `--masks ${masksDir} has no PNG, JPEG or TIFF files`);
  const missing = [...truths.keys()].filter((k) => !preds.has(k));
  if (missing.length) throw new ArgumentError('evaluate', `--pred ${predDir} has no prediction for ${missing.length} of ${truths.size} masks: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`);
  const out: EvaluatedImage[] = [];
  for (const [name, truthPath] of truths) {
    const predPath = preds.get(name)!;
    const [tp, pp] = [await readImage(truthPath), await readImage(predPath)];
    if (tp.length !== pp.length) throw new FormatError(`${truthPath} has ${tp.length} pages, ${predPath} ${pp.length}`);
    for (let i = 0; i < tp.length; i++) {
      const [t, p] = [tp[i]!, pp[i]!];
      const page = tp.length > 1 ? `${name}[${i}]` : name;
      if (t.width !== p.width || t.height !== p.height) throw new FormatError(`${page}: the mask is ${t.width} x ${t.height}, the prediction ${p.width} x ${p.height}`);
      const truth = maskLabels(t, classes, tp.length > 1 ? `${truthPath} page ${i}` : truthPath);
      const pred = maskLabels(p, classes, pp.length > 1 ? `${predPath} page ${i}` : predPath);
      const { pixelError, classes: perClass } = evaluateMasks(pred, truth, t.width, t.height, classes);
      out.push({ name: page, pixelError, classes: perClass });
    }
  }
  return out;
}

/** The table: one row per image and the mean; with 2 classes the foreground's columns first. */
export function formatScores(rows: readonly EvaluatedImage[], classes: number): string {
  const order = classes === 2 ? [1, 0] : Array.from({ length: classes }, (_, k) => k);
  const mean = meanScores(rows);
  const num = (v: number, digits = 4) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
  const header = ['image', 'pixel error', ...order.flatMap((k) => [`dice ${k}`, `iou ${k}`, `hd95 ${k}`])];
  const line = (name: string, s: MaskScores) => [name, num(s.pixelError), ...order.flatMap((k) => [num(s.classes[k]!.dice), num(s.classes[k]!.iou), num(s.classes[k]!.hd95, 2)])];
  const table = [header, ...rows.map((r) => line(r.name, r)), line(`mean (${rows.length})`, mean)];
  const widths = header.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const text = table.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '));
  const legend = classes === 2 ? 'class 1 = foreground (255 in a 0/255 mask), class 0 = background' : `classes 0..${classes - 1}`;
  return [...text.slice(0, -1), '-'.repeat(text[0]!.length), text.at(-1)!, legend].join('\n');
}

export async function evaluateCmd(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      pred: { type: 'string' },
      masks: { type: 'string' },
      classes: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (!v.pred || !v.masks) throw new ArgumentError('evaluate', `--pred DIR and --masks DIR are required (see --help)`);
  const classes = intFlag('evaluate', 'classes', v.classes, 2);
  const rows = await evaluateDirs(v.pred, v.masks, classes);
  if (v.json) {
    const scores = (s: MaskScores) => ({
      pixelError: s.pixelError,
      dice: s.classes.map((c) => c.dice),
      iou: s.classes.map((c) => c.iou),
      // JSON has no Infinity: null stands for it (an HD95 is never NaN here).
      hd95: s.classes.map((c) => (Number.isFinite(c.hd95) ? c.hd95 : null)),
    });
    console.log(JSON.stringify({ classes, images: rows.map((r) => ({ name: r.name, ...scores(r) })), mean: scores(meanScores(rows)) }));
  } else console.log(formatScores(rows, classes));
}
