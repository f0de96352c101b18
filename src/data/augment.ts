// Data augmentation for segmentation (browser-safe, host arrays): random crops with mirror padding, flips,
// 90-degree rotations, the U-Net paper's elastic deformation and intensity jitter. Image and mask move together
// (the mask with nearest-neighbour sampling, so labels stay labels); every random draw comes from the one Rng
// passed in, so a seed (or a saved Rng state) reproduces a run.
import { ArgumentError } from '../core/errors.js';
import type { Rng } from '../tensor/random.js';
import type { SegSample } from './dataset.js';

/** An image patch [channels][height][width] (values in [0, 1] before normalisation) with its mask [height][width]. */
export interface Patch {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly image: Float32Array;
  readonly mask: Uint8Array;
}

/** The augmentations `--augment` names. */
export const AUGMENTATIONS = ['flips', 'rot90', 'elastic', 'intensity'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

export interface ElasticOptions {
  /** Control points per side of the coarse displacement grid (paper: 3). */
  grid?: number;
  /** Standard deviation of each control point's displacement, pixels (paper: 10). */
  sigma?: number;
}

export interface IntensityOptions {
  /** Added offset, uniform in [-brightness, brightness] (default 0.1). */
  brightness?: number;
  /** Contrast factor around the patch mean, log-uniform in [1/(1+c), 1+c] (default 0.2). */
  contrast?: number;
  /** Gamma exponent, log-uniform in [1/(1+g), 1+g] on values clamped to [0, 1] (default 0.3). */
  gamma?: number;
}

export interface AugmentOptions {
  flips?: boolean;
  rot90?: boolean;
  elastic?: boolean | ElasticOptions;
  intensity?: boolean | IntensityOptions;
}

/** Augment options from a list of names (`flips,rot90`); unknown names are an ArgumentError. */
export function augmentOptions(names: readonly string[]): AugmentOptions {
  const out: Record<string, boolean> = {};
  for (const n of names) {
    if (!(AUGMENTATIONS as readonly string[]).includes(n)) throw new ArgumentError('augment', `unknown augmentation '${n}' (known: ${AUGMENTATIONS.join(', ')})`);
    out[n] = true;
  }
  return out;
}

/** Reflects an index into [0, n) without repeating the edge (numpy 'reflect', torch ReflectionPad). */
export function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * n - 2;
  i %= p;
  if (i < 0) i += p;
  return i < n ? i : p - i;
}

/** The window [y0, y0+h) x [x0, x0+w) of a sample; outside the image it mirrors (reflect). */
export function cropMirror(s: Patch | SegSample, y0: number, x0: number, h: number, w: number): Patch {
  const { channels: C, height: H, width: W } = s;
  const image = new Float32Array(C * h * w);
  const mask = new Uint8Array(h * w);
  const xs = Int32Array.from({ length: w }, (_, x) => reflect(x0 + x, W));
  for (let y = 0; y < h; y++) {
    const sy = reflect(y0 + y, H);
    for (let x = 0; x < w; x++) mask[y * w + x] = s.mask[sy * W + xs[x]!]!;
    for (let c = 0; c < C; c++) {
      const src = c * H * W + sy * W;
      const dst = c * h * w + y * w;
      for (let x = 0; x < w; x++) image[dst + x] = s.image[src + xs[x]!]!;
    }
  }
  return { channels: C, height: h, width: w, image, mask };
}

/**
 * A random size x size window whose centre (size - 2 border) lands uniformly inside the image (or covers it, when
 * larger), mirrored where it leaves the image. `border` is what a 'valid'-padding net trims from each side.
 */
export function randomCrop(s: SegSample, size: number, rng: Rng, border = 0): Patch {
  const out = size - 2 * border;
  const pick = (n: number) => (n >= out ? rng.int(n - out + 1) : -rng.int(out - n + 1));
  const oy = pick(s.height);
  const ox = pick(s.width);
  return cropMirror(s, oy - border, ox - border, size, size);
}

/** Flips (horizontal, then vertical) and k quarter turns counter-clockwise; odd k needs a square patch. */
export function flipRotate(p: Patch, flipH: boolean, flipV: boolean, k: number): Patch {
  const { channels: C, height: H, width: W } = p;
  k = ((k % 4) + 4) % 4;
  if (k % 2 && H !== W) throw new ArgumentError('flipRotate', `a quarter turn needs a square patch, got ${H} x ${W}`);
  const image = new Float32Array(p.image.length);
  const mask = new Uint8Array(p.mask.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Output (y, x) reads the source after undoing the rotation, then the flips.
      let sy = y, sx = x;
      for (let r = 0; r < k; r++) [sy, sx] = [sx, W - 1 - sy];
      if (flipV) sy = H - 1 - sy;
      if (flipH) sx = W - 1 - sx;
      const o = y * W + x, i = sy * W + sx;
      mask[o] = p.mask[i]!;
      for (let c = 0; c < C; c++) image[c * H * W + o] = p.image[c * H * W + i]!;
    }
  }
  return { channels: C, height: H, width: W, image, mask };
}

/** Cubic convolution weights (Keys, a = -0.5) for the 4 taps around fraction t. */
function cubicWeights(t: number): [number, number, number, number] {
  const a = -0.5;
  const w = (d: number) => {
    d = Math.abs(d);
    return d <= 1 ? (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1 : d < 2 ? a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a : 0;
  };
  return [w(1 + t), w(t), w(1 - t), w(2 - t)];
}

/** A g x g grid of values bicubically interpolated to n x m (grid points on the patch's corners and evenly between). */
function bicubicUpsample(grid: Float64Array, g: number, n: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  const at = (i: number, j: number) => grid[Math.min(g - 1, Math.max(0, i)) * g + Math.min(g - 1, Math.max(0, j))]!;
  for (let y = 0; y < n; y++) {
    const gy = n > 1 ? (y * (g - 1)) / (n - 1) : 0;
    const iy = Math.min(g - 2, Math.floor(gy));
    const wy = cubicWeights(gy - iy);
    for (let x = 0; x < m; x++) {
      const gx = m > 1 ? (x * (g - 1)) / (m - 1) : 0;
      const ix = Math.min(g - 2, Math.floor(gx));
      const wx = cubicWeights(gx - ix);
      let v = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) v += wy[a]! * wx[b]! * at(iy - 1 + a, ix - 1 + b);
      out[y * m + x] = v;
    }
  }
  return out;
}

/**
 * The U-Net paper's elastic deformation: displacements drawn N(0, sigma^2) on a coarse grid x grid lattice,
 * bicubically interpolated per pixel; the image is resampled bilinearly, the mask by nearest neighbour, both
 * mirrored at the border.
 */
export function elasticDeform(p: Patch, rng: Rng, { grid = 3, sigma = 10 }: ElasticOptions = {}): Patch {
  if (!(Number.isInteger(grid) && grid >= 2)) throw new ArgumentError('elasticDeform', `grid must be an integer >= 2, got ${grid}`);
  const { channels: C, height: H, width: W } = p;
  const gy = new Float64Array(grid * grid);
  const gx = new Float64Array(grid * grid);
  for (let i = 0; i < grid * grid; i++) {
    gy[i] = rng.normal() * sigma;
    gx[i] = rng.normal() * sigma;
  }
  const dy = bicubicUpsample(gy, grid, H, W);
  const dx = bicubicUpsample(gx, grid, H, W);
  const image = new Float32Array(p.image.length);
  const mask = new Uint8Array(p.mask.length);
  const HW = H * W;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = y * W + x;
      const sy = y + dy[o]!, sx = x + dx[o]!;
      mask[o] = p.mask[reflect(Math.round(sy), H) * W + reflect(Math.round(sx), W)]!;
      const y0 = Math.floor(sy), x0 = Math.floor(sx);
      const fy = sy - y0, fx = sx - x0;
      const r0 = reflect(y0, H) * W, r1 = reflect(y0 + 1, H) * W;
      const c0 = reflect(x0, W), c1 = reflect(x0 + 1, W);
      for (let c = 0; c < C; c++) {
        const b = c * HW;
        const v0 = p.image[b + r0 + c0]! * (1 - fx) + p.image[b + r0 + c1]! * fx;
        const v1 = p.image[b + r1 + c0]! * (1 - fx) + p.image[b + r1 + c1]! * fx;
        image[b + o] = v0 * (1 - fy) + v1 * fy;
      }
    }
  }
  return { channels: C, height: H, width: W, image, mask };
}

/** Gamma, contrast around the patch mean and brightness, one draw per patch (all channels alike); in place. */
export function jitterIntensity(p: Patch, rng: Rng, { brightness = 0.1, contrast = 0.2, gamma = 0.3 }: IntensityOptions = {}): Patch {
  const logUniform = (r: number) => Math.exp((2 * rng.uniform() - 1) * Math.log(1 + r));
  const g = logUniform(gamma);
  const k = logUniform(contrast);
  const b = (2 * rng.uniform() - 1) * brightness;
  const x = p.image;
  let mean = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.min(1, Math.max(0, x[i]!)) ** g;
    mean += x[i]!;
  }
  mean /= x.length || 1;
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - mean) * k + mean + b;
  return p;
}

/** The enabled augmentations in a fixed order (flips, rotation, elastic, intensity), drawing from `rng`. */
export function augment(p: Patch, rng: Rng, opts: AugmentOptions): Patch {
  if (opts.flips || opts.rot90) {
    const flipH = !!opts.flips && rng.uniform() < 0.5;
    const flipV = !!opts.flips && rng.uniform() < 0.5;
    const k = opts.rot90 ? (p.height === p.width ? rng.int(4) : 2 * rng.int(2)) : 0;
    if (flipH || flipV || k) p = flipRotate(p, flipH, flipV, k);
  }
  if (opts.elastic) p = elasticDeform(p, rng, opts.elastic === true ? {} : opts.elastic);
  if (opts.intensity) p = jitterIntensity(p, rng, opts.intensity === true ? {} : opts.intensity);
  return p;
}
