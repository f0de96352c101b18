// Segmentation datasets (browser-safe): images as planes scaled to [0, 1] by their format's range, masks as class
// indices, both in host memory. Masks are checked when they load: values that are not the expected labels (RGB
// colours, JPEG artefacts, 0/1 next to 0/255, more values than classes) are a MaskError naming the file and the
// values found, never a silent all-background training. Files are paired by base name (or one stack each).
import { TensorError } from '../core/errors.js';
import { Rng } from '../tensor/random.js';
import { decodeImage, type RasterImage } from './image.js';

/** A mask whose values are not the labels the dataset expects; the message names the file and the values found. */
export class MaskError extends TensorError {}

/** One image with its mask: image planes [channels][height][width] in [0, 1], mask [height][width] of class indices. */
export interface SegSample {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly image: Float32Array;
  readonly mask: Uint8Array;
}

/** Class k is the pixels whose mask value is values[k] (ISBI 2012 with membrane as class 1: [255, 0]). */
export interface MaskMapping {
  readonly values: readonly number[];
}

/** Per-channel mean and standard deviation of the [0, 1]-scaled training images; inputs are (x - mean) / std. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface SegDataset {
  readonly samples: readonly SegSample[];
  readonly channels: number;
  /** Number of label classes (2 for a binary task). */
  readonly classes: number;
  readonly mapping: MaskMapping;
}

/** One decoded page and the name it is reported by (`file` or `file#page` for a stack). */
export interface NamedRaster {
  readonly name: string;
  readonly raster: RasterImage;
}

export interface MaskOptions {
  /** Label classes (default 2, binary); masks hold 0..classes-1, or for 2 classes 0/1 or 0/max (255 for 8 bits). */
  classes?: number;
  /** The mask value of each class, in class order (overrides `classes`): [255, 0] makes 0 the foreground class 1. */
  values?: readonly number[];
}

/** A page's planes without an alpha channel (grey+alpha -> grey, RGBA -> RGB). */
function withoutAlpha(r: RasterImage): { channels: number; data: Float32Array } {
  const n = r.width * r.height;
  const channels = r.channels === 2 || r.channels === 4 ? r.channels - 1 : r.channels;
  return { channels, data: channels === r.channels ? r.data : r.data.subarray(0, channels * n) };
}

/** An image page as planes in [0, 1] (divided by its format's largest value; float samples kept). */
export function imageToUnit(r: RasterImage): { channels: number; data: Float32Array } {
  const { channels, data } = withoutAlpha(r);
  const out = new Float32Array(data.length);
  const s = 1 / r.maxValue;
  for (let i = 0; i < out.length; i++) out[i] = data[i]! * s;
  return { channels, data: out };
}

const pct = (k: number, n: number) => `${((100 * k) / n).toPrecision(2)}%`;

/** "0 (61%), 255 (39%)" for the first few values of a histogram, ascending. */
function listValues(hist: Map<number, number>, n: number, most = 8): string {
  const vs = [...hist.keys()].sort((a, b) => a - b);
  const shown = vs.length <= most ? vs : [...vs.slice(0, most - 2), ...vs.slice(-2)];
  const parts = shown.map((v) => `${+v.toPrecision(6)} (${pct(hist.get(v)!, n)})`);
  if (vs.length > most) parts.splice(most - 2, 0, `... ${vs.length - most} more ...`);
  return parts.join(', ');
}

/** The grey plane of a mask page; an RGB mask with distinct channels (colour-coded labels) is a MaskError. */
function maskPlane(m: NamedRaster): Float32Array {
  const { channels, data } = withoutAlpha(m.raster);
  const n = m.raster.width * m.raster.height;
  if (channels === 1) return data;
  const colours = new Map<string, number>();
  let grey = true;
  for (let i = 0; i < n; i++) {
    const r = data[i]!, g = data[n + i]!, b = data[2 * n + i]!;
    if (r !== g || r !== b) grey = false;
    if (colours.size < 64) {
      const k = `(${r}, ${g}, ${b})`;
      colours.set(k, (colours.get(k) ?? 0) + 1);
    }
  }
  if (grey) return data.subarray(0, n);
  const shown = [...colours.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k]) => k);
  throw new MaskError(
    `mask ${m.name} is an RGB mask with colours ${shown.join(', ')}${colours.size > 6 ? ', ...' : ''}: a mask must hold one label per pixel ` +
      '(a single grey channel of class indices 0..K-1, or 0/255 for two classes); map each colour to its class index first',
  );
}

function histogram(plane: Float32Array): Map<number, number> {
  const h = new Map<number, number>();
  for (let i = 0; i < plane.length; i++) h.set(plane[i]!, (h.get(plane[i]!) ?? 0) + 1);
  return h;
}

/** True when most pixels sit near the two ends of the range but more than two values occur (lossy compression). */
function looksCompressed(hist: Map<number, number>, max: number, n: number): boolean {
  let low = 0, high = 0;
  for (const [v, k] of hist) {
    if (v <= 0.1 * max) low += k;
    else if (v >= 0.9 * max) high += k;
  }
  // Both ends populated: index masks 0..K-1 sit all at the low end.
  return hist.size > 2 && low + high >= 0.9 * n && low >= 0.01 * n && high >= 0.01 * n;
}

/**
 * Checks every mask against the expected labels and returns the mapping (mask value of each class). Auto mode
 * (no `values`): 2 classes take 0/1 or 0/max (one encoding for all files), K classes take 0..K-1. Throws
 * MaskError naming the file and the values found for RGB masks, JPEG artefacts, mixed 0/1 and 0/255 masks,
 * more values than classes, unknown values, and a dataset whose masks all hold one value.
 */
export function checkMasks(masks: readonly NamedRaster[], opts: MaskOptions = {}): MaskMapping {
  const K = opts.values ? opts.values.length : (opts.classes ?? 2);
  if (!Number.isInteger(K) || K < 2) throw new MaskError(`masks: need at least 2 classes (a binary task has 2: background and foreground), got ${K}`);
  if (K > 255) throw new MaskError(`masks: at most 255 classes, got ${K}`);
  if (opts.values && new Set(opts.values).size !== K) throw new MaskError(`masks: mask values ${opts.values.join(', ')} repeat a value`);
  if (!masks.length) throw new MaskError('masks: no masks given');
  let with01: string | null = null;
  let withMax: string | null = null;
  const union = new Set<number>();
  let maxValue = 255;
  for (const m of masks) {
    const plane = maskPlane(m);
    const n = plane.length;
    const hist = histogram(plane);
    for (const v of hist.keys()) union.add(v);
    const max = m.raster.maxValue;
    const found = `values found: ${listValues(hist, n)}`;
    const lossy = /\.jpe?g(#|$)/i.test(m.name) || looksCompressed(hist, max, n);
    const tooMany = hist.size > K;
    if (opts.values) {
      const bad = [...hist.keys()].filter((v) => !opts.values!.includes(v));
      if (bad.length) {
        const why = lossy && tooMany ? ' (JPEG compression artefacts? save masks losslessly, as PNG or TIFF)' : '';
        throw new MaskError(`mask ${m.name} holds values outside the mask values ${opts.values.join(', ')} (${bad.length} unexpected)${why}; ${found}`);
      }
      continue;
    }
    if (tooMany && lossy) {
      throw new MaskError(
        `mask ${m.name} has ${hist.size} distinct values, mostly near 0 and ${max}: JPEG compression artefacts? Save masks losslessly (PNG or TIFF) ` +
          `or threshold them; ${found}`,
      );
    }
    if (K === 2) {
      const vs = [...hist.keys()];
      const is01 = vs.every((v) => v === 0 || v === 1);
      const isMax = vs.every((v) => v === 0 || v === max);
      if (!is01 && !isMax) {
        const hint = tooMany ? `more values than the 2 classes: for index masks 0..K-1 give --classes K` : 'give the value of each class (--mask-values BACKGROUND,FOREGROUND)';
        throw new MaskError(`mask ${m.name} is not a binary mask of 0/1 or 0/${max}: ${hint}; ${found}`);
      }
      if (is01 && vs.includes(1)) with01 ??= m.name;
      if (isMax && vs.includes(max) && max !== 1) withMax ??= m.name;
      if (with01 && withMax) {
        throw new MaskError(
          `masks mix two encodings: ${with01} holds 0/1 and ${withMax} holds 0/${max}; give every mask the same one ` +
            '(a 0/1 mask read as 0/255 would train on all background), or name the values with --mask-values',
        );
      }
      maxValue = max;
    } else {
      const bad = [...hist.keys()].filter((v) => !(Number.isInteger(v) && v >= 0 && v < K));
      if (bad.length) {
        const more = tooMany ? `it has ${hist.size} values, more than the ${K} classes` : `values ${bad.slice(0, 6).join(', ')} are not class indices`;
        throw new MaskError(`mask ${m.name} does not hold class indices 0..${K - 1} for ${K} classes: ${more}; ${found}`);
      }
    }
  }
  if (union.size < 2) {
    const v = [...union][0];
    throw new MaskError(`masks: all ${masks.length} masks hold only the value ${v}: nothing to learn (every pixel one class; wrong mask folder, or masks saved blank?)`);
  }
  if (opts.values) return { values: [...opts.values] };
  if (K === 2) return { values: with01 ? [0, 1] : [0, maxValue] };
  return { values: Array.from({ length: K }, (_, k) => k) };
}

/** A checked mask page as class indices. */
export function maskToClasses(m: NamedRaster, mapping: MaskMapping): Uint8Array {
  const plane = maskPlane(m);
  const index = new Map(mapping.values.map((v, k) => [v, k]));
  const out = new Uint8Array(plane.length);
  for (let i = 0; i < plane.length; i++) {
    const k = index.get(plane[i]!);
    if (k === undefined) throw new MaskError(`mask ${m.name} pixel ${i} holds ${plane[i]}, not one of the mask values ${mapping.values.join(', ')}`);
    out[i] = k;
  }
  return out;
}

/**
 * A dataset from paired pages (same order, same sizes): masks checked (MaskError) and mapped to class indices,
 * images scaled to [0, 1]. All images must have the same number of channels.
 */
export function segDataset(images: readonly NamedRaster[], masks: readonly NamedRaster[], opts: MaskOptions = {}): SegDataset {
  if (images.length !== masks.length) throw new MaskError(`dataset: ${images.length} images but ${masks.length} masks`);
  if (!images.length) throw new MaskError('dataset: no images');
  const mapping = checkMasks(masks, opts);
  let channels = 0;
  const samples = images.map((im, i) => {
    const m = masks[i]!;
    const { width, height } = im.raster;
    if (m.raster.width !== width || m.raster.height !== height) {
      throw new MaskError(`dataset: image ${im.name} is ${width} x ${height}, its mask ${m.name} ${m.raster.width} x ${m.raster.height}`);
    }
    const unit = imageToUnit(im.raster);
    if (channels && unit.channels !== channels) throw new MaskError(`dataset: image ${im.name} has ${unit.channels} channels, ${images[0]!.name} ${channels}`);
    channels = unit.channels;
    return { name: im.name, channels, height, width, image: unit.data, mask: maskToClasses(m, mapping) };
  });
  return { samples, channels, classes: mapping.values.length, mapping };
}

/** Pages of decoded files, named `file` (one page) or `file#k` (page k of a stack). */
export function namedPages(name: string, pages: readonly RasterImage[]): NamedRaster[] {
  return pages.map((raster, k) => ({ name: pages.length > 1 ? `${name}#${k}` : name, raster }));
}

const baseName = (f: string) => f.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
const MASK_SUFFIX = /[_-]?(masks?|labels?|gt|seg)$/i;

/** Natural order: "2" before "10". */
export const naturalCompare = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });

/**
 * Pairs image and mask file names by base name (the mask may add `_mask`, `_label`, `-gt`, ...); a folder of
 * one file each (ISBI's train-volume.tif / train-labels.tif) pairs them. An image or mask without its partner is
 * a MaskError naming it. Returns [image, mask] in natural order of the images.
 */
export function pairFiles(imageFiles: readonly string[], maskFiles: readonly string[]): [string, string][] {
  if (!imageFiles.length) throw new MaskError('dataset: the images folder has no PNG, JPEG or TIFF files');
  if (!maskFiles.length) throw new MaskError('dataset: the masks folder has no PNG, JPEG or TIFF files');
  if (imageFiles.length === 1 && maskFiles.length === 1) return [[imageFiles[0]!, maskFiles[0]!]];
  const exact = new Map<string, string>();
  const stripped = new Map<string, string>();
  for (const m of maskFiles) {
    if (exact.has(baseName(m))) throw new MaskError(`dataset: masks ${exact.get(baseName(m))} and ${m} share the base name ${baseName(m)}`);
    exact.set(baseName(m), m);
    stripped.set(baseName(m).replace(MASK_SUFFIX, ''), m);
  }
  const used = new Set<string>();
  const pairs = [...imageFiles].sort(naturalCompare).map((im): [string, string] => {
    const m = exact.get(baseName(im)) ?? stripped.get(baseName(im));
    if (!m) throw new MaskError(`dataset: image ${im} has no mask (looked for ${baseName(im)}.* or ${baseName(im)}_mask.* among ${maskFiles.length} masks)`);
    if (used.has(m)) throw new MaskError(`dataset: mask ${m} matches two images`);
    used.add(m);
    return [im, m];
  });
  const left = maskFiles.filter((m) => !used.has(m));
  if (left.length) throw new MaskError(`dataset: mask ${left[0]} has no image${left.length > 1 ? ` (and ${left.length - 1} more)` : ''}`);
  return pairs;
}

/** A dataset from encoded files (bytes) paired by pairFiles: every page of a TIFF stack is a sample. */
export function segDatasetFromFiles(images: ReadonlyMap<string, Uint8Array>, masks: ReadonlyMap<string, Uint8Array>, opts: MaskOptions = {}): SegDataset {
  const ims: NamedRaster[] = [];
  const ms: NamedRaster[] = [];
  for (const [fi, fm] of pairFiles([...images.keys()], [...masks.keys()])) {
    const pi = decodeImage(images.get(fi)!, fi);
    const pm = decodeImage(masks.get(fm)!, fm);
    if (pi.length !== pm.length) throw new MaskError(`dataset: image ${fi} has ${pi.length} pages, its mask ${fm} ${pm.length}`);
    ims.push(...namedPages(fi, pi));
    ms.push(...namedPages(fm, pm));
  }
  return segDataset(ims, ms, opts);
}

/** Per-channel mean and std (population) over every pixel of the samples; std is at least 1e-6. */
export function computeNormalization(samples: readonly SegSample[]): Normalization {
  const C = samples[0]?.channels ?? 1;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0, s2 = 0, n = 0;
    for (const x of samples) {
      const hw = x.height * x.width;
      for (let i = c * hw; i < (c + 1) * hw; i++) {
        s += x.image[i]!;
        s2 += x.image[i]! * x.image[i]!;
      }
      n += hw;
    }
    const m = s / n;
    mean.push(m);
    std.push(Math.max(1e-6, Math.sqrt(Math.max(0, s2 / n - m * m))));
  }
  return { mean, std };
}

/** Applies (x - mean) / std per channel in place on planes [C][n]. */
export function normalizeInPlace(data: Float32Array, norm: Normalization): Float32Array {
  const C = norm.mean.length;
  const n = data.length / C;
  for (let c = 0; c < C; c++) {
    const m = norm.mean[c]!, s = 1 / norm.std[c]!;
    for (let i = c * n; i < (c + 1) * n; i++) data[i] = (data[i]! - m) * s;
  }
  return data;
}

/** The same dataset with only some samples. */
export const subset = (ds: SegDataset, samples: readonly SegSample[]): SegDataset => ({ ...ds, samples });

/**
 * Splits off a seeded random `fraction` of the samples for validation (at least one when fraction > 0 and there
 * are two samples), both parts in the original order.
 */
export function splitDataset(ds: SegDataset, { fraction, seed = 0 }: { fraction: number; seed?: number }): { train: SegDataset; val: SegDataset } {
  if (!(fraction >= 0 && fraction < 1)) throw new MaskError(`splitDataset: fraction must be in [0, 1), got ${fraction}`);
  const n = ds.samples.length;
  const nVal = fraction === 0 || n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const val = new Set(order.slice(0, nVal));
  return { train: subset(ds, ds.samples.filter((_, i) => !val.has(i))), val: subset(ds, ds.samples.filter((_, i) => val.has(i))) };
}
