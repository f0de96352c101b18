// Label masks from decoded images: the values a mask file stores mapped to class indices, with a message naming the
// file and the values found when they are not labels (RGB masks, JPEG artefacts, more values than classes), never a
// silent misreading.
import { FormatError } from '../core/errors.js';
import type { RasterImage } from './image.js';

/**
 * Class indices [height][width] of a decoded mask page. With 2 classes a mask holding only 0 and its format's maximum
 * (0/255, 0/65535, 1-bit) reads as 0/1; otherwise values must be the labels 0..classes-1. Grey stored as RGB(A) is
 * taken from its first channel (alpha ignored). FormatError naming `name` and the values found otherwise.
 */
export function maskLabels(img: RasterImage, classes: number, name = 'mask'): Int32Array {
  const n = img.width * img.height;
  const colour = img.channels >= 3 ? 3 : 1;
  for (let i = 0; i < n && colour === 3; i++) {
    const [r, g, b] = [img.data[i]!, img.data[n + i]!, img.data[2 * n + i]!];
    if (r !== g || r !== b) throw new FormatError(`${name} is a colour mask (pixel ${i % img.width}, ${Math.floor(i / img.width)} is RGB ${r}, ${g}, ${b}); masks must hold grey labels`);
  }
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) seen.add(img.data[i]!);
  const values = [...seen].sort((a, b) => a - b);
  const binary = classes === 2 && values.every((v) => v === 0 || v === img.maxValue);
  if (!binary && !values.every((v) => Number.isInteger(v) && v >= 0 && v < classes)) {
    const shown = values.length > 12 ? `${values.slice(0, 12).join(', ')}, ...` : values.join(', ');
    const want = classes === 2 ? `0 and ${img.maxValue} (binary) or the labels 0, 1` : `the labels 0..${classes - 1}`;
    throw new FormatError(`${name} has values ${shown} (${values.length} distinct); expected ${want}`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = binary ? (img.data[i] === 0 ? 0 : 1) : img.data[i]!;
  return out;
}
