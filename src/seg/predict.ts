// Tiled prediction of images of any size with a U-Net: the 2015 paper's overlap-tile strategy (mirror-padded
// borders, and with 'valid' padding an input tile larger than its output tile by the border the net consumes),
// overlapping tiles blended with a Gaussian importance map (nnU-Net, MONAI: sigma = tile / 8, normalised by the
// summed weights), optional flip test-time augmentation, tiles batched per forward. Tile geometry runs on the host;
// only the forward and the sigmoid / softmax run on the model's device.
import { ArgumentError, ShapeError } from '../core/errors.js';
import type { DeviceLimits } from '../kernels/backend.js';
import { cpuDevice, noGrad } from '../tensor/context.js';
import { tensor } from '../tensor/creation.js';
import { sigmoid } from '../tensor/ops/elementwise.js';
import { softmax } from '../tensor/ops/softmax.js';
import { tidy } from '../tensor/scope.js';
import { UNet } from '../unet/unet.js';
import { geometryOf, type FamilyModel } from '../unet/family/index.js';

/** The U-Net facts tiling depends on (a UNet's `config`). */
export type TileGeometry = Pick<UNet['config'], 'inChannels' | 'classes' | 'width' | 'depth' | 'padding' | 'merge'>;

/** An image as planes [channels][height][width] (row-major), already normalised as the model was trained. */
export interface PlaneImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: ArrayLike<number>;
}

export interface TileOptions {
  /** Input tile edge in pixels (what the net receives); rounded down to a size the net takes. Default: defaultTile(). */
  tile?: number;
  /**
   * Fraction of an output tile shared with its neighbour, in [0, 1). Default 0.5 (nnU-Net's step of half a tile):
   * every pixel then lies within a quarter tile of some tile's centre, where the net has its full context and the
   * Gaussian weight is high; MONAI's 0.25 costs ~1.8x fewer tiles in 2-D but predicts the seams from near-edge
   * context. Images no larger than a tile are one tile whatever the overlap.
   */
  overlap?: number;
  /**
   * Mirrored context (pixels) each tile's output discards on every side, on top of the border a 'valid' net
   * consumes. Default: 0 for 'valid' + 'crop' (the paper's net: its output depends on its input window only), else
   * 2^depth, so a 'same' (or zero-padded 'pad' merge) net sees mirrored image instead of zeros at the image border
   * and its tile-edge pixels are dropped.
   */
  margin?: number;
  /** Tiles per forward. Default: as many as fit `memoryBytes` and the binding limit, at most 8. */
  batch?: number;
  /** Memory a forward may use (bytes); WebGPU does not expose the device's size. Default 1 GiB. */
  memoryBytes?: number;
}

export interface PredictOptions extends TileOptions {
  /** Test-time augmentation: also predict the image flipped in x, in y and in both; probabilities un-flipped and averaged. */
  tta?: boolean;
  /** Called after each batch of tiles with (tiles done, tiles in all). */
  onProgress?: (done: number, total: number) => void;
}

/** Where the tiles go along one axis. */
export interface AxisPlan {
  /** Input tile length (what the net receives). */
  readonly tileIn: number;
  /** Output pixels each tile contributes (the net's output less the margin on both sides). */
  readonly tileOut: number;
  /** Image coordinate of each tile's first contributed output pixel (aligned to 2^depth; may be < 0: mirrored). */
  readonly origins: readonly number[];
  /** Input pixels before a tile's first contributed output pixel: the 'valid' border plus the margin. */
  readonly context: number;
}

/** A tiling of an image: per axis the tile sizes and origins, the margin, and tiles per forward. */
export interface TilePlan {
  readonly y: AxisPlan;
  readonly x: AxisPlan;
  readonly margin: number;
  readonly batch: number;
  readonly tiles: number;
}

const DEFAULT_MEMORY = 2 ** 30;
/** Largest default tile: beyond it fewer seams gain nothing measurable and readbacks get long. */
const MAX_DEFAULT_TILE = 1024;
const MAX_BATCH = 8;
/**
 * Peak live floats of a no-grad U-Net forward per tile pixel, in units of the first level's width: 5.3-5.5 measured
 * on the meta device (skips of every level ~2 w, the level-0 concat 2 w, conv and batch-norm outputs), rounded up to
 * 8 for kernel scratch (Winograd transforms) and the buffer pool's size classes.
 */
const PEAK_PER_WIDTH = 8;

/** Whether an input of `size` passes the net with every pooling exact (and for 'valid' a whole border): see validTile. */
export function isValidTile(size: number, g: Pick<TileGeometry, 'depth' | 'padding' | 'merge'>): boolean {
  const q = 2 ** g.depth;
  if (!Number.isInteger(size) || size < 1) return false;
  if (g.padding === 'same') return size % q === 0;
  let s = size;
  for (let i = 0; i < g.depth; i++) {
    s -= 4;
    if (s < 2 || s % 2) return false;
    s /= 2;
  }
  if (s - 4 < 1) return false;
  const out = UNet.outputSize(size, g);
  return out >= 1 && (size - out) % 2 === 0;
}

/** The largest valid input size <= n, or null. 'same': multiples of 2^depth; 'valid': every pooled size even. */
export function validTileBelow(n: number, g: Pick<TileGeometry, 'depth' | 'padding' | 'merge'>): number | null {
  for (let s = Math.floor(n); s >= 1; s--) if (isValidTile(s, g)) return s;
  return null;
}

/** The smallest valid input size >= n. */
export function validTileAbove(n: number, g: Pick<TileGeometry, 'depth' | 'padding' | 'merge'>): number {
  for (let s = Math.max(1, Math.ceil(n)); ; s++) if (isValidTile(s, g)) return s;
}

/** Output length of a tile of input length `tileIn` (UNet.outputSize). */
export const tileOutput = (tileIn: number, g: Pick<TileGeometry, 'depth' | 'padding' | 'merge'>) => UNet.outputSize(tileIn, g);

/** Default margin (see TileOptions.margin). */
export const defaultMargin = (g: Pick<TileGeometry, 'depth' | 'padding' | 'merge'>) => (g.padding === 'valid' && g.merge === 'crop' ? 0 : 2 ** g.depth);

/**
 * Memory of a forward on `batch` tiles of th x tw: the largest single tensor (the level-0 concat, 2 x width channels,
 * or the input / output if wider) and the estimated peak of live bytes (PEAK_PER_WIDTH x width floats per pixel).
 */
export function tileMemory(g: TileGeometry, th: number, tw: number, batch = 1): { largestBindingBytes: number; peakBytes: number } {
  const px = th * tw * batch * 4;
  return {
    largestBindingBytes: Math.max(2 * g.width, g.inChannels, g.classes) * px,
    peakBytes: (PEAK_PER_WIDTH * g.width + g.inChannels + g.classes) * px,
  };
}

/**
 * The default input tile: the largest valid square tile (<= 1024) whose forward keeps every binding under the
 * device's maxBindingBytes and its peak under `memoryBytes` (default 1 GiB). Seed U-Net (width 64) on a 128 MiB
 * binding limit: 508 ('valid'), 512 ('same'); width 16: 1020 / 1024.
 */
export function defaultTile(g: TileGeometry, limits: Pick<DeviceLimits, 'maxBindingBytes'>, memoryBytes = DEFAULT_MEMORY): number {
  const byBinding = Math.sqrt(limits.maxBindingBytes / tileMemory(g, 1, 1).largestBindingBytes);
  const byMemory = Math.sqrt(memoryBytes / tileMemory(g, 1, 1).peakBytes);
  const t = validTileBelow(Math.min(MAX_DEFAULT_TILE, byBinding, byMemory), g);
  // A net too wide for even the smallest tile still gets one: its ops split bindings, the forward runs slowly.
  return t ?? validTileAbove(1, g);
}

function planAxis(op: string, extent: number, tile: number, overlap: number, margin: number, g: TileGeometry): AxisPlan {
  const q = 2 ** g.depth;
  // The smallest tile that covers the whole axis at once, if it is no larger than the tile asked for.
  let tileIn = validTileAbove(extent + 2 * margin, g);
  while (tileOutput(tileIn, g) - 2 * margin < extent) tileIn = validTileAbove(tileIn + 1, g);
  if (tileIn > tile) {
    const t = validTileBelow(tile, g);
    if (t === null) throw new ArgumentError(op, `tile ${tile} is smaller than any input this U-Net takes (smallest: ${validTileAbove(1, g)})`);
    tileIn = t;
  }
  const tileOut = tileOutput(tileIn, g) - 2 * margin;
  const context = (tileIn - tileOutput(tileIn, g)) / 2 + margin;
  if (tileOut >= extent) {
    // One tile, centred (aligned to 2^depth so its pooling grid is the same as any other tile's).
    return { tileIn, tileOut, context, origins: [-Math.floor((tileOut - extent) / 2 / q) * q || 0] };
  }
  if (tileOut < q) {
    throw new ArgumentError(op, `tile ${tile} leaves ${tileOut} output pixels per tile (margin ${margin}); tiles must give at least 2^depth = ${q} to step on the pooling grid`);
  }
  // Steps are multiples of 2^depth: every tile then pools on the same grid, so where the tiles see the same pixels
  // they compute the same values (the exactness the tests check against a whole-image forward).
  const step = Math.max(q, Math.floor((tileOut * (1 - overlap)) / q) * q);
  const n = Math.ceil((extent - tileOut) / step) + 1;
  const span = (n - 1) * step + tileOut;
  const o0 = -Math.floor((span - extent) / 2 / q) * q || 0;
  return { tileIn, tileOut, context, origins: Array.from({ length: n }, (_, j) => o0 + j * step) };
}

/** The tiling predictTiled uses for an image of height x width (exported for planning, logs and tests). */
export function planTiles(g: TileGeometry, height: number, width: number, limits: Pick<DeviceLimits, 'maxBindingBytes'>, opts: TileOptions = {}, op = 'planTiles'): TilePlan {
  const { overlap = 0.5, memoryBytes = DEFAULT_MEMORY } = opts;
  for (const [k, v] of Object.entries({ height, width })) if (!Number.isInteger(v) || v < 1) throw new ArgumentError(op, `${k} must be a positive integer, got ${v}`);
  if (!(overlap >= 0 && overlap < 1)) throw new ArgumentError(op, `overlap must be in [0, 1), got ${overlap}`);
  if (!(memoryBytes > 0)) throw new ArgumentError(op, `memoryBytes must be positive, got ${memoryBytes}`);
  const margin = opts.margin ?? defaultMargin(g);
  if (!Number.isInteger(margin) || margin < 0) throw new ArgumentError(op, `margin must be an integer >= 0, got ${margin}`);
  const tile = opts.tile ?? defaultTile(g, limits, memoryBytes);
  if (!Number.isInteger(tile) || tile < 1) throw new ArgumentError(op, `tile must be a positive integer, got ${tile}`);
  const y = planAxis(op, height, tile, overlap, margin, g);
  const x = planAxis(op, width, tile, overlap, margin, g);
  const tiles = y.origins.length * x.origins.length;
  let batch = opts.batch;
  if (batch === undefined) {
    const one = tileMemory(g, y.tileIn, x.tileIn);
    batch = Math.max(1, Math.min(MAX_BATCH, tiles, Math.floor(memoryBytes / one.peakBytes), Math.floor(limits.maxBindingBytes / one.largestBindingBytes)));
  } else if (!Number.isInteger(batch) || batch < 1) throw new ArgumentError(op, `batch must be a positive integer, got ${batch}`);
  return { y, x, margin, batch, tiles };
}

/** The Gaussian importance of an n-pixel tile axis: exp(-(i - c)^2 / (2 sigma^2)), c = (n - 1) / 2, sigma = n / 8. */
export function gaussianWeights(n: number): Float64Array {
  const sigma = n / 8;
  const c = (n - 1) / 2;
  return Float64Array.from({ length: n }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
}

/** numpy's 'reflect' index (mirror without repeating the edge pixel), for any distance past the edge. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** The flips of TTA: [flip y, flip x]. */
const FLIPS: readonly (readonly [boolean, boolean])[] = [[false, false], [false, true], [true, false], [true, true]];

/**
 * A model predictTiled runs other than a UNet (an ONNX Runtime session, say): its geometry, the limits its tiles are
 * planned under, and a batched forward to the logits.
 */
export interface TileModel {
  readonly config: TileGeometry;
  readonly limits: Pick<DeviceLimits, 'maxBindingBytes'>;
  /** Logits [n, classes, oh, ow] of the input [n, C, th, tw], both float32 row-major. */
  logits(input: Float32Array, shape: readonly [number, number, number, number]): Promise<Float32Array>;
}

/**
 * Class probabilities [K][H][W] (Float32Array, K = the model's classes: sigmoid for K = 1, softmax over classes for
 * K > 1) of a normalised image [C][H][W] of any size, by overlap-tile prediction (see TileOptions, planTiles).
 * Runs under noGrad with the model in eval mode (its training flag is restored afterwards); each batch's tensors are
 * freed (tidy) before the next.
 */
export async function predictTiled(model: FamilyModel | TileModel, image: PlaneImage, opts: PredictOptions = {}): Promise<Float32Array> {
  const op = 'predictTiled';
  const net = 'logits' in model ? null : model;
  const g = net ? geometryOf(net) : (model as TileModel).config;
  const { width: W, height: H, channels: C, data } = image;
  if (C !== g.inChannels) throw new ShapeError(op, `image has ${C} channel${C === 1 ? '' : 's'}, the model takes ${g.inChannels}`);
  if (data.length !== C * H * W) throw new ShapeError(op, `image data has ${data.length} values, ${C} x ${H} x ${W} needs ${C * H * W}`);
  const device = net?.parameters()[0]!.device;
  const hostDevice = net ? null : cpuDevice();
  const plan = planTiles(g, H, W, device?.limits ?? (model as TileModel).limits, opts, op);
  const { y: py, x: px, margin, batch } = plan;
  const K = g.classes;
  const [th, tw] = [py.tileIn, px.tileIn];
  const [oh, ow] = [tileOutput(th, g), tileOutput(tw, g)];
  const gy = gaussianWeights(py.tileOut);
  const gx = gaussianWeights(px.tileOut);
  const flips = opts.tta ? FLIPS : FLIPS.slice(0, 1);
  const acc = new Float64Array(K * H * W);
  const wsum = new Float64Array(H * W);
  const tiles = py.origins.flatMap((oy) => px.origins.map((ox) => [oy, ox] as const));
  const input = new Float32Array(batch * C * th * tw);
  const wasTraining = net?.training ?? false;
  net?.eval();
  try {
    for (let t0 = 0; t0 < tiles.length; t0 += batch) {
      const chunk = tiles.slice(t0, t0 + batch);
      const n = chunk.length;
      for (const [fy, fx] of flips) {
        // Tile b's input pixel (r, c) is image pixel (oy - context + r, ox - context + c), mirrored past the edges;
        // a flipped tile reads row th - 1 - r instead.
        for (let b = 0; b < n; b++) {
          const [oy, ox] = chunk[b]!;
          const rows = Int32Array.from({ length: th }, (_, r) => reflect(oy - py.context + (fy ? th - 1 - r : r), H));
          const cols = Int32Array.from({ length: tw }, (_, c) => reflect(ox - px.context + (fx ? tw - 1 - c : c), W));
          for (let ch = 0; ch < C; ch++) {
            const src = ch * H * W;
            const dst = (b * C + ch) * th * tw;
            for (let r = 0; r < th; r++) {
              const s = src + rows[r]! * W;
              const d = dst + r * tw;
              for (let c = 0; c < tw; c++) input[d + c] = data[s + cols[c]!]!;
            }
          }
        }
        const tileInput = n === batch ? input : input.subarray(0, n * C * th * tw);
        // Another runtime's logits (a TileModel) become a tensor on the CPU device: one sigmoid / softmax for both.
        const hosted = net ? null : await (model as TileModel).logits(tileInput, [n, C, th, tw]);
        const probs = noGrad(() =>
          tidy(() => {
            const logits = hosted ? tensor(hosted, [n, K, oh, ow], { device: hostDevice! }) : net!.forward(tensor(tileInput, [n, C, th, tw], { device }));
            return K === 1 ? sigmoid(logits) : softmax(logits, 1);
          }),
        );
        const p = await probs.toArray().finally(() => probs.dispose());
        const share = 1 / flips.length;
        for (let b = 0; b < n; b++) {
          const [oy, ox] = chunk[b]!;
          for (let r = 0; r < py.tileOut; r++) {
            const Y = oy + r;
            if (Y < 0 || Y >= H) continue;
            // Output row m + r of the unflipped tile is row oh - 1 - (m + r) of the flipped one.
            const rr = fy ? oh - 1 - (margin + r) : margin + r;
            for (let c = 0; c < px.tileOut; c++) {
              const X = ox + c;
              if (X < 0 || X >= W) continue;
              const cc = fx ? ow - 1 - (margin + c) : margin + c;
              const w = gy[r]! * gx[c]!;
              for (let k = 0; k < K; k++) acc[(k * H + Y) * W + X] += w * share * p[((b * K + k) * oh + rr) * ow + cc]!;
              if (fy === false && fx === false) wsum[Y * W + X] += w;
            }
          }
        }
      }
      opts.onProgress?.(Math.min(t0 + batch, tiles.length), tiles.length);
    }
  } finally {
    net?.train(wasTraining);
  }
  const out = new Float32Array(K * H * W);
  for (let k = 0; k < K; k++) for (let i = 0; i < H * W; i++) out[k * H * W + i] = acc[k * H * W + i]! / wsum[i]!;
  return out;
}

/**
 * Labels [H][W] (Int32Array) of probabilities [K][H][W]: for K = 1, 1 where the probability > threshold (default
 * 0.5), else 0; for K > 1 the most probable class (the first on ties).
 */
export function argmaxClasses(probs: ArrayLike<number>, K: number, threshold = 0.5): Int32Array {
  if (!Number.isInteger(K) || K < 1 || probs.length % K) throw new ArgumentError('argmaxClasses', `${probs.length} values are not ${K} class planes`);
  const n = probs.length / K;
  const out = new Int32Array(n);
  if (K === 1) {
    for (let i = 0; i < n; i++) out[i] = probs[i]! > threshold ? 1 : 0;
    return out;
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bp = probs[i]!;
    for (let k = 1; k < K; k++) {
      const v = probs[k * n + i]!;
      if (v > bp) {
        bp = v;
        best = k;
      }
    }
    out[i] = best;
  }
  return out;
}
