// Boundary distances between binary masks: the (percentile) symmetric Hausdorff distance as MONAI computes it
// (monai.metrics.compute_hausdorff_distance, percentile 95, directed false), in pixel units, with an exact
// Euclidean distance transform (Felzenszwalb & Huttenlocher 2012: two passes of the 1-D lower envelope of
// parabolas, O(pixels)), not a brute-force pairing of boundary pixels. Pure functions on host arrays.
import { ArgumentError } from '../core/errors.js';

/** Stands for "no site" in the squared transform: finite so that the envelope arithmetic never makes Inf - Inf. */
const FAR = 1e20;

/**
 * Boundary pixels of a binary mask [height][width] (nonzero = inside), MONAI's definition: mask XOR its binary
 * erosion by the 3x3 cross, i.e. inside pixels with a 4-neighbour outside; beyond the image counts as outside
 * (scipy's border_value 0), so inside pixels on the image edge are boundary.
 */
export function maskBoundary(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  checkMask('maskBoundary', mask, width, height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width];
      if (edge) out[i] = 1;
    }
  }
  return out;
}

/** One row or column: d[q] = min over p of (q - p)^2 + f[p] (the lower envelope of parabolas rooted at p). */
function envelope1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s: number;
    for (;;) {
      const p = v[k]!;
      s = (f[q]! + q * q - (f[p]! + p * p)) / (2 * q - 2 * p);
      if (s > z[k]! || k === 0) break;
      k--;
    }
    // k === 0 with s <= z[0] cannot happen (z[0] = -Infinity); the guard keeps the loop finite on NaN.
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q) k++;
    const p = v[k]!;
    d[q] = (q - p) * (q - p) + f[p]!;
  }
}

/**
 * Exact squared Euclidean distance (pixels^2) from every pixel to the nearest site (nonzero pixel of `sites`),
 * [height][width]; FAR-sized (~1e20) everywhere when there is no site.
 */
export function squaredDistanceTransform(sites: ArrayLike<number>, width: number, height: number): Float64Array {
  checkMask('squaredDistanceTransform', sites, width, height);
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const out = new Float64Array(width * height);
  // Columns first (1-D distances to sites in the same column), then rows over those.
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = sites[y * width + x] ? 0 : FAR;
    envelope1d(f, height, d, v, z);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y]!;
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = out[row + x]!;
    envelope1d(f, width, d, v, z);
    for (let x = 0; x < width; x++) out[row + x] = d[x]!;
  }
  return out;
}

/**
 * Directed surface distances: for every boundary pixel of `a`, the Euclidean distance to the nearest boundary pixel
 * of `b` (pixels; row-major order of a's boundary). Infinity for each when b is empty; empty when a is.
 */
export function surfaceDistances(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): Float64Array {
  const ea = maskBoundary(a, width, height);
  const eb = maskBoundary(b, width, height);
  const count = ea.reduce((s, v) => s + v, 0);
  const out = new Float64Array(count);
  if (!count) return out;
  if (!eb.includes(1)) return out.fill(Infinity);
  const dt = squaredDistanceTransform(eb, width, height);
  let j = 0;
  for (let i = 0; i < ea.length; i++) if (ea[i]) out[j++] = Math.sqrt(dt[i]!);
  return out;
}

/** numpy.percentile's default ('linear'): sorted[i] + (sorted[i + 1] - sorted[i]) * frac at rank q / 100 * (n - 1). */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new ArgumentError('percentile', `q must be in [0, 100], got ${q}`);
  if (!values.length) return NaN;
  const s = Float64Array.from(values).sort();
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  const frac = pos - lo;
  // Infinity * 0 would be NaN: an exact rank takes the value itself.
  return frac === 0 ? s[lo]! : s[lo]! + (s[hi]! - s[lo]!) * frac;
}

/**
 * The symmetric percentile Hausdorff distance between binary masks [height][width] (nonzero = inside), MONAI's way:
 * max of the two directed percentiles of boundary-to-boundary distances (pixel units; percentile 95 by default, 100
 * for the classic Hausdorff distance). Empty masks: 0 when both are empty (nothing to find, nothing found; MONAI
 * returns NaN there), Infinity when exactly one is (as MONAI).
 */
export function hausdorff(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, q = 95): number {
  checkMask('hausdorff', a, width, height);
  checkMask('hausdorff', b, width, height);
  const ab = surfaceDistances(a, b, width, height);
  const ba = surfaceDistances(b, a, width, height);
  if (!ab.length && !ba.length) return 0;
  if (!ab.length || !ba.length) return Infinity;
  return Math.max(percentile(ab, q), percentile(ba, q));
}

/** HD95: the 95th-percentile symmetric Hausdorff distance (see hausdorff). */
export const hd95 = (a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): number => hausdorff(a, b, width, height, 95);

function checkMask(op: string, m: ArrayLike<number>, width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) throw new ArgumentError(op, `width and height must be positive integers, got ${width} x ${height}`);
  if (m.length !== width * height) throw new ArgumentError(op, `mask has ${m.length} pixels, ${height} x ${width} needs ${width * height}`);
}
