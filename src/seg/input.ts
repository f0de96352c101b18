// A page's model input (browser-safe): its channels as the model takes them (an alpha channel dropped), normalised
// as the model was trained. Shared by `unet-webgpu predict` (src/cli/predict.ts) and the browser demo.
import { ArgumentError } from '../core/errors.js';
import { imageToUnit, normalizeInPlace } from '../data/dataset.js';
import type { RasterImage } from '../data/image.js';
import type { PlaneImage } from './predict.js';

/**
 * How raw pixels become the model's input: per-channel mean and std of values scaled to [0, 1] by the format's
 * maximum, x = (v / maxValue - mean[c]) / std[c] (one entry applies to every channel), or a function of the page.
 */
export type Normalization = { readonly mean: readonly number[]; readonly std: readonly number[] } | ((img: RasterImage) => Float32Array);

/** The model input of a page: channels as the model takes them (an alpha channel dropped), normalised. */
export function normalizePage(img: RasterImage, normalization: Normalization, inChannels: number, name = 'image'): PlaneImage {
  const n = img.width * img.height;
  // Grey + alpha or RGBA for a model without the alpha: drop it.
  const channels = img.channels === inChannels + 1 && (img.channels === 2 || img.channels === 4) ? inChannels : img.channels;
  if (channels !== inChannels) throw new ArgumentError('predictFiles', `${name} has ${img.channels} channels, the model takes ${inChannels}`);
  if (typeof normalization === 'function') {
    const data = normalization(img);
    if (data.length !== channels * n) throw new ArgumentError('predictFiles', `the normalisation of ${name} returned ${data.length} values, ${channels} x ${img.height} x ${img.width} needs ${channels * n}`);
    return { width: img.width, height: img.height, channels, data };
  }
  // The training set's transform (src/data/dataset.ts): image / maxValue (alpha dropped), then (x - mean) / std.
  const unit = imageToUnit(img);
  if (unit.channels !== channels) throw new ArgumentError('predictFiles', `${name} has ${img.channels} channels, the model takes ${inChannels}`);
  const expand = (k: string, v: readonly number[]) => {
    if (v.length !== 1 && v.length !== channels) throw new ArgumentError('predictFiles', `normalisation ${k} has ${v.length} entries, the model takes ${channels} channels`);
    return Array.from({ length: channels }, (_, c) => v[v.length === 1 ? 0 : c]!);
  };
  const std = expand('std', normalization.std);
  if (!std.every((s) => s > 0)) throw new ArgumentError('predictFiles', `normalisation std must be positive, got ${std.join(', ')}`);
  const data = normalizeInPlace(unit.data, { mean: expand('mean', normalization.mean), std });
  return { width: img.width, height: img.height, channels, data };
}
