import {
  concat as concatKernel,
  dropout as dropoutKernel,
  hash32,
  interpolate_bilinear,
  interpolate_bilinear_bwd,
  interpolate_nearest,
  interpolate_nearest_bwd,
  pad as padKernel,
  pad_vec4 as padVec4Kernel,
  permute as permuteKernel,
} from '../../kernels/movement.js';
import { record } from '../autograd.js';
import { full } from '../creation.js';
import { ArgumentError, ShapeError } from '../../core/errors.js';
import { checkBoolean, checkNumber, checkOneOf, checkOptions, show, type OptionKeys } from '../../core/options.js';
import { rngFor } from '../random.js';
import { fmt, normDims, numel, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { bindGeometry, flatWindows, planeRuns, vec4Rows, windowOf } from './split.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch, type Bind } from './util.js';

// ---- cat ----

// copyBufferToBuffer costs about a dispatch and needs no bind group; the kernel wins when blocks are many and small.
const COPY_MAX_ROWS = 64;
const COPY_MIN_LEN = 1 << 16;

/**
 * dst[dBase + o*dStride + j] = src[sBase + o*sStride + j] for o < rows, j < len (element offsets in the tensors'
 * storages): buffer copies, or the concat kernel in launches whose windows fit the binding limit.
 */
function moveBlocks(
  src: Tensor, sBase: number, sStride: number,
  dst: Tensor, dBase: number, dStride: number,
  rows: number, len: number, method: 'auto' | 'copy' | 'kernel',
): void {
  if (rows === 0 || len === 0) return;
  const dev = dst.device;
  const g = bindGeometry(dev);
  const copy = (so: number, d: number, n: number) => dev.copy(src.storage('cat'), so, dst.storage('cat'), d, n);
  if (method !== 'kernel' && (rows === 1 || (sStride === len && dStride === len))) return copy(sBase, dBase, rows * len);
  // A block longer than one window can only be copied (copies have no binding limit).
  if (method === 'copy' || (method === 'auto' && (rows <= COPY_MAX_ROWS || len >= COPY_MIN_LEN)) || len > g.room) {
    for (let o = 0; o < rows; o++) copy(sBase + o * sStride, dBase + o * dStride, len);
    return;
  }
  // Rows per launch so that (rows - 1) * stride + len (+ the residual) fits each window.
  const per = (t: Tensor, stride: number) => (t.numel <= g.max ? rows : Math.floor((g.room - len) / stride) + 1);
  const step = Math.max(1, Math.min(per(src, sStride), per(dst, dStride)));
  for (let o0 = 0; o0 < rows; o0 += step) {
    const cnt = Math.min(step, rows - o0);
    const sFirst = sBase + o0 * sStride;
    const dFirst = dBase + o0 * dStride;
    const s = windowOf(src, sFirst, (cnt - 1) * sStride + len);
    const d = windowOf(dst, dFirst, (cnt - 1) * dStride + len);
    launch(concatKernel, { src: s.bind }, { dst: d.bind }, {
      n: cnt * len, len, soff: s.res, sstride: sStride, doff: d.res, dstride: dStride,
    });
  }
}

/**
 * torch.cat along `dim` (negative counts from the end): shapes must agree off `dim`. Channel concat of NCHW
 * (dim 1) is the hot one: for each batch item each input is one contiguous block of the output. Tensors over the
 * binding limit work (copies need no binding; kernel launches use aligned windows).
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!tensors.length) throw new ArgumentError('cat', 'expected a non-empty list of tensors');
  const dev = deviceOf('cat', ...tensors);
  for (const t of tensors) checkDType('cat', t, 'f32');
  const shapes = tensors.map((t) => t.shape);
  const first = tensors[0]!;
  const r = first.ndim;
  if (r === 0) throw new ShapeError('cat', 'zero-dimensional tensor [] cannot be concatenated', shapes);
  const d = normDims('cat', first.shape, dim)[0]!;
  tensors.forEach((t, i) => {
    if (t.ndim !== r) {
      throw new ShapeError('cat', `tensors must have the same number of dims: x0 ${fmt(first.shape)}, x${i} ${fmt(t.shape)}`, shapes);
    }
    for (let k = 0; k < r; k++) {
      if (k !== d && t.shape[k] !== first.shape[k]) {
        throw new ShapeError(
          'cat',
          `x0 ${fmt(first.shape)} and x${i} ${fmt(t.shape)} differ in dim ${k} (${first.shape[k]} vs ${t.shape[k]}); only the cat dim ${d} may differ`,
          shapes,
        );
      }
    }
  });
  // How blocks move (the device's policy): 'copy' (copyBufferToBuffer per block, no binding limit), 'kernel' (the
  // concat kernel), or 'auto' (copies for few or large blocks, the kernel for many small ones).
  const method = dev.policy.cat;
  const outShape = [...first.shape];
  outShape[d] = tensors.reduce((s, t) => s + t.shape[d]!, 0);
  const outer = numel(first.shape.slice(0, d));
  const inner = numel(first.shape.slice(d + 1));
  const lens = tensors.map((t) => t.shape[d]! * inner);
  const row = lens.reduce((a, b) => a + b, 0);
  const offs = lens.map((_, i) => lens.slice(0, i).reduce((a, b) => a + b, 0));
  const y = empty(dev, outShape);
  disposeOnThrow([y], () => tensors.forEach((t, i) => moveBlocks(t, 0, lens[i]!, y, offs[i]!, row, outer, lens[i]!, method)));
  return record('cat', tensors, y, [], (gy, _saved, needs) =>
    tensors.map((t, i) => {
      if (!needs[i]) return null;
      const gx = empty(dev, t.shape);
      moveBlocks(gy, offs[i]!, row, gx, 0, lens[i]!, outer, lens[i]!, method);
      return gx;
    }),
  );
}

// ---- pad ----

/** Constant padding without autograd: pads as in F.pad (from the last dim backwards), negative entries crop. */
function padRaw(x: Tensor, pads: readonly number[], value: number): Tensor {
  const dev = x.device;
  const r = x.ndim;
  const before = new Array<number>(r).fill(0);
  const after = new Array<number>(r).fill(0);
  for (let k = 0; k < pads.length / 2; k++) {
    before[r - 1 - k] = pads[2 * k]!;
    after[r - 1 - k] = pads[2 * k + 1]!;
  }
  const outShape = x.shape.map((s, k) => s + before[k]! + after[k]!);
  outShape.forEach((s, k) => {
    if (s < 0) {
      throw new ShapeError('pad', `dim ${k} of x ${fmt(x.shape)} (size ${x.shape[k]}) padded by ${before[k]} and ${after[k]} would have size ${s}`, [x.shape]);
    }
  });
  if (numel(outShape) === 0) return empty(dev, outShape);
  if (x.numel === 0) return full(outShape, value, { device: dev });

  // Merge runs of unpadded dims (contiguous in both x and y) and drop unpadded size-1 dims.
  const X: number[] = [];
  const Y: number[] = [];
  const B: number[] = [];
  let lastUnpadded = false;
  for (let k = 0; k < r; k++) {
    const unpadded = before[k] === 0 && after[k] === 0;
    if (unpadded && x.shape[k] === 1) continue;
    if (unpadded && lastUnpadded) {
      X[X.length - 1]! *= x.shape[k]!;
      Y[Y.length - 1]! *= x.shape[k]!;
    } else {
      X.push(x.shape[k]!);
      Y.push(outShape[k]!);
      B.push(before[k]!);
    }
    lastUnpadded = unpadded;
  }
  if (!X.length) [X[0], Y[0], B[0]] = [1, 1, 0];
  const R = X.length;
  if (R > 6) {
    throw new ShapeError('pad', `x ${fmt(x.shape)} with pads ${fmt(pads)} has ${R} dims that cannot be merged (at most 6)`, [x.shape]);
  }
  const Xs = stridesOf(X);
  const Ys = stridesOf(Y);
  const g = bindGeometry(dev);
  const y = empty(dev, outShape);

  // One launch: output rows [o0, o0 + cnt) of merged dim k, below fixed coordinates of the dims before k
  // (y offset ybase; x offset xsub, or null when those coordinates fall outside x).
  const sub = (k: number, o0: number, cnt: number, ybase: number, xsub: number | null) => {
    const m = R - k;
    const at = (v: number[], fill: number) => [v[k]!, ...new Array<number>(6 - m).fill(fill), ...v.slice(k + 1)];
    const yd = at(Y, 1);
    const xd = at(X, 1);
    const bd = at(B, 0);
    const xs = at(Xs, 0);
    const yFirst = ybase + o0 * Ys[k]!;
    const yw = windowOf(y, yFirst, cnt * Ys[k]!);
    const r0 = Math.max(0, o0 - B[k]!);
    const r1 = Math.min(X[k]!, o0 + cnt - B[k]!);
    let xBind: Bind = x;
    let xbase = 0;
    if (xsub === null || r1 <= r0) {
      xd[0] = 0; // no input row: every output is `value`
      if (x.numel > g.max) xBind = { tensor: x, offset: 0, numel: 1 };
    } else {
      const xw = windowOf(x, xsub + r0 * Xs[k]!, (r1 - r0) * Xs[k]!);
      xBind = xw.bind;
      xbase = xw.res - r0 * Xs[k]!;
    }
    // 4 outputs per invocation where every run of the innermost dim starts on a multiple of 4 (one vec4 store).
    launch(vec4Rows(yd[5]!, yw.res, yd[5]!) ? padVec4Kernel : padKernel, { x: xBind }, { y: yw.bind }, {
      n: cnt * Ys[k]!, o0, yoff: yw.res, xbase, value,
      y1: yd[1]!, y2: yd[2]!, y3: yd[3]!, y4: yd[4]!, y5: yd[5]!,
      x0: xd[0]!, x1: xd[1]!, x2: xd[2]!, x3: xd[3]!, x4: xd[4]!, x5: xd[5]!,
      b0: bd[0]!, b1: bd[1]!, b2: bd[2]!, b3: bd[3]!, b4: bd[4]!, b5: bd[5]!,
      xs0: xs[0]!, xs1: xs[1]!, xs2: xs[2]!, xs3: xs[3]!, xs4: xs[4]!, xs5: xs[5]!,
    });
  };

  return disposeOnThrow([y], () => {
    if (y.numel <= g.max && x.numel <= g.max) {
      sub(0, 0, Y[0]!, 0, 0);
      return y;
    }
    // Split over the outermost dim whose slices fit a window (rows of it per launch); loop over the dims before it.
    let k = 0;
    while (k < R - 1 && (Ys[k]! > g.room || Xs[k]! > g.room)) k++;
    const rowsPer = Math.max(1, Math.min(Math.floor(g.room / Ys[k]!), Math.floor(g.room / Xs[k]!)));
    const outerCount = numel(Y.slice(0, k));
    for (let q = 0; q < outerCount; q++) {
      let rem = q;
      let ybase = 0;
      let xsub = 0;
      let valid = true;
      for (let j = k - 1; j >= 0; j--) {
        const c = rem % Y[j]!;
        rem = Math.floor(rem / Y[j]!);
        const e = c - B[j]!;
        ybase += c * Ys[j]!;
        xsub += e * Xs[j]!;
        if (e < 0 || e >= X[j]!) valid = false;
      }
      for (let o0 = 0; o0 < Y[k]!; o0 += rowsPer) sub(k, o0, Math.min(rowsPer, Y[k]! - o0), ybase, valid ? xsub : null);
    }
    return y;
  });
}

/** pad's options, as F.pad's mode and value: only mode 'constant' is supported. */
export interface PadOptions {
  mode?: 'constant';
  value?: number;
}

const PAD_KEYS: OptionKeys<PadOptions> = { mode: true, value: true };
/** F.pad's modes: only 'constant' is implemented; the others are named so the error says so. */
const PAD_MODES = ['constant', 'reflect', 'replicate', 'circular'] as const;

/** The fill value of pad's third argument: a number or { mode: 'constant', value }. */
function padValue(v: number | PadOptions | undefined): number {
  const op = 'pad';
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ArgumentError(op, `value must be a number or { mode, value }, got ${show(v)}`);
  const o = checkOptions(op, v, PAD_KEYS);
  const mode = checkOneOf(op, 'mode', o.mode ?? 'constant', PAD_MODES);
  if (mode !== 'constant') throw new ArgumentError(op, `mode '${mode}' is not supported (only 'constant')`);
  if (o.value !== undefined && typeof o.value !== 'number') throw new ArgumentError(op, `value must be a number, got ${show(o.value)}`);
  return o.value ?? 0;
}

/**
 * F.pad, constant mode: pads = [left, right, top, bottom, front, back, ...] from the last dim backwards (any
 * number of dims, asymmetric); negative pads crop. The fill is a number (default 0) or { mode: 'constant', value }.
 * Backward is the opposite crop/pad of gy (zeros where x was cropped away). Bit-exact; tensors over the binding
 * limit work.
 */
export function pad(x: Tensor, pads: readonly number[], value: number | PadOptions = 0): Tensor {
  deviceOf('pad', x);
  checkDType('pad', x, 'f32');
  const fill = padValue(value);
  if (pads.length % 2 !== 0) throw new ArgumentError('pad', `pads ${fmt(pads)} must have an even length`);
  if (pads.length / 2 > x.ndim) throw new ArgumentError('pad', `pads ${fmt(pads)} pad ${pads.length / 2} dims, x ${fmt(x.shape)} has ${x.ndim}`);
  if (!pads.every((v) => Number.isInteger(v))) throw new ArgumentError('pad', `pads ${fmt(pads)} must be integers`);
  const y = padRaw(x, pads, fill);
  return record('pad', [x], y, [], (gy) => [padRaw(gy, pads.map((v) => -v), 0)]);
}

// ---- interpolate ----

/** Options of interpolate: exactly one of size ([OH, OW] or one number) and scaleFactor; mode 'nearest' by default. */
export interface InterpolateOptions {
  size?: number | readonly [number, number];
  scaleFactor?: number | readonly [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

const INTERP_KEYS: OptionKeys<InterpolateOptions> = { size: true, scaleFactor: true, mode: true, alignCorners: true };
const INTERP_MODES = ['nearest', 'bilinear'] as const;

const f32 = Math.fround;

/**
 * Launches over consecutive [H, W] planes: `run(read, readOffset, write, writeOffset, planes)` per launch, with
 * windows under the binding limit (both tensors whole when they fit).
 */
function byPlanes(
  op: string, planes: number, read: Tensor, rPer: number, write: Tensor, wPer: number,
  run: (r: Bind, rOff: number, w: Bind, wOff: number, cnt: number) => void,
): void {
  for (const { n0, nn } of planeRuns(op, write.device, planes, rPer, wPer)) {
    const rw = windowOf(read, n0 * rPer, nn * rPer);
    const ww = windowOf(write, n0 * wPer, nn * wPer);
    run(rw.bind, rw.res, ww.bind, ww.res, nn);
  }
}

function pair(op: string, name: string, v: number | readonly number[]): [number, number] {
  const p = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2) throw new ArgumentError(op, `${name} must be a number or a pair for [N, C, H, W] input, got ${fmt(p)}`);
  return [p[0]!, p[1]!];
}

/**
 * F.interpolate for x [N, C, H, W] -> [N, C, OH, OW] with PyTorch's CPU semantics: `size`, or `scaleFactor`
 * (OH = floor(H * scale); the given scale sets the source ratio, as with recompute_scale_factor=None).
 * 'nearest' (default): src = min(floor(dst * ratio), H - 1); 'bilinear': alignCorners true maps corners to corners,
 * false uses half-pixel centres clamped at 0. Backward is the adjoint as a gather (no atomics).
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  const opts = checkOptions(op, options, INTERP_KEYS);
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  if (x.ndim !== 4) throw new ShapeError(op, `x ${fmt(x.shape)} must be [N, C, H, W]`, [x.shape]);
  const mode = checkOneOf(op, 'mode', opts.mode ?? 'nearest', INTERP_MODES);
  if (opts.alignCorners !== undefined) checkBoolean(op, 'alignCorners', opts.alignCorners);
  if (mode === 'nearest' && opts.alignCorners !== undefined) {
    throw new ArgumentError(op, 'alignCorners can only be set with the interpolating mode bilinear');
  }
  const align = opts.alignCorners ?? false;
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new ArgumentError(op, 'give exactly one of size and scaleFactor');
  const [N, C, IH, IW] = x.shape as [number, number, number, number];
  let OH: number;
  let OW: number;
  let sf: [number, number] | null = null;
  if (opts.size !== undefined) {
    [OH, OW] = pair(op, 'size', opts.size);
    if (![OH, OW].every((v) => Number.isInteger(v) && v > 0)) throw new ArgumentError(op, `size ${fmt([OH, OW])} must be positive integers`);
  } else {
    sf = pair(op, 'scaleFactor', opts.scaleFactor!);
    if (!sf.every((v) => Number.isFinite(v) && v > 0)) throw new ArgumentError(op, `scaleFactor ${fmt(sf)} must be positive`);
    [OH, OW] = [Math.floor(IH * sf[0]), Math.floor(IW * sf[1])];
  }
  if (IH <= 0 || IW <= 0 || OH <= 0 || OW <= 0) {
    throw new ShapeError(op, `input and output sizes should be greater than 0: x ${fmt(x.shape)}, output [${OH}, ${OW}]`, [x.shape]);
  }
  // PyTorch's source-per-output ratios (float32): its nearest copies when out == in and halves when out == 2*in;
  // its linear copies when out == in.
  const ratio = (i: number, o: number, s: number | undefined) => {
    if (o === i) return 1;
    if (mode === 'nearest') return o === 2 * i ? 0.5 : s !== undefined ? f32(1 / s) : f32(i / o);
    if (align) return o > 1 ? f32((i - 1) / (o - 1)) : 0;
    return s !== undefined ? f32(1 / s) : f32(i / o);
  };
  const sh = ratio(IH, OH, sf?.[0]);
  const sw = ratio(IW, OW, sf?.[1]);
  const planes = N * C;
  const [fwd, bwd] = mode === 'nearest' ? [interpolate_nearest, interpolate_nearest_bwd] : [interpolate_bilinear, interpolate_bilinear_bwd];
  const geo = { ih: IH, iw: IW, oh: OH, ow: OW, sh, sw, ...(mode === 'nearest' ? {} : { align: align ? 1 : 0 }) };
  const y = empty(dev, [N, C, OH, OW]);
  if (planes > 0) {
    disposeOnThrow([y], () =>
      byPlanes(op, planes, x, IH * IW, y, OH * OW, (r, rOff, w, wOff, cnt) =>
        launch(fwd, { x: r }, { y: w }, { ...geo, n: cnt * OH * OW, xoff: rOff, yoff: wOff }),
      ),
    );
  }
  return record(op, [x], y, [], (gy) => {
    const gx = empty(dev, x.shape);
    if (planes > 0) {
      byPlanes(op, planes, gy, OH * OW, gx, IH * IW, (r, rOff, w, wOff, cnt) =>
        launch(bwd, { gy: r }, { gx: w }, { ...geo, n: cnt * IH * IW, goff: rOff, xoff: wOff }),
      );
    }
    return [gx];
  });
}

// ---- dropout ----

/** Options of dropout: `channels` zeroes whole [n, c] slices (F.dropout2d); `seed` draws the mask from its own generator. */
export interface DropoutOptions {
  channels?: boolean;
  seed?: number;
}

const DROPOUT_KEYS: OptionKeys<DropoutOptions> = { channels: true, seed: true };

/**
 * F.dropout (and F.dropout2d with `channels`: whole x[n, c] slices): in training, zeroes each element (slice)
 * with probability p and scales survivors by 1/(1-p); identity when !training or p = 0; p = 1 gives zeros.
 * The mask is a counter-based hash of the element (slice) index and one draw from the seeded generator
 * (rngFor(seed): the global one when no seed is given), so CPU and GPU agree; backward regenerates it.
 */
export function dropout(x: Tensor, p = 0.5, training = true, options?: DropoutOptions): Tensor {
  const opts = checkOptions('dropout', options, DROPOUT_KEYS);
  if (opts.channels !== undefined) checkBoolean('dropout', 'channels', opts.channels);
  const op = opts.channels ? 'dropout2d' : 'dropout';
  checkBoolean(op, 'training', training);
  if (opts.seed !== undefined) checkNumber(op, 'seed', opts.seed, { integer: true });
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(op, `probability has to be between 0 and 1, but got ${p}`);
  if (opts.channels && x.ndim < 2) throw new ShapeError(op, `x ${fmt(x.shape)} needs a channel dim ([N, C, ...])`, [x.shape]);
  if (!training || p === 0) {
    const y = new Tensor(x.shareRef(op), x.shape, x.dtype);
    return record(op, [x], y, [], (gy) => [gy]);
  }
  const key = hash32(rngFor(opts.seed).nextU32());
  const group = opts.channels ? Math.max(1, numel(x.shape.slice(2))) : 1;
  const threshold = Math.min(2 ** 24, Math.round(p * 2 ** 24));
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const apply = (src: Tensor) => {
    const y = empty(dev, src.shape);
    const windows = flatWindows(dev, src.numel);
    const win = (t: Tensor, off: number, len: number): Bind => (windows.length === 1 ? t : { tensor: t, offset: off, numel: len });
    disposeOnThrow([y], () => {
      for (const [off, len] of windows) {
        if (len > 0) launch(dropoutKernel, { x: win(src, off, len) }, { y: win(y, off, len) }, { n: len, start: off, group, key, threshold, scale });
      }
    });
    return y;
  };
  const y = apply(x);
  return record(op, [x], y, [], (gy) => [apply(gy)]);
}

// ---- permute / transpose / narrow ----

/**
 * The launches of a permutation y = x.permute(perm) as (output dims, input strides) after merging output dims that
 * are adjacent in x too (at most 6 left), and the leading run of dims that permute keeps in place (`lead` merged
 * dims, `block` elements each: a block of y is one contiguous block of x, so runs of blocks split the copy).
 */
function permuteLayout(op: string, shape: readonly number[], perm: readonly number[]) {
  const st = stridesOf(shape);
  let dims = perm.map((p) => shape[p]!);
  let strides = perm.map((p) => st[p]!);
  for (let i = dims.length - 1; i > 0; i--) {
    if (strides[i - 1] === strides[i]! * dims[i]!) {
      dims = [...dims.slice(0, i - 1), dims[i - 1]! * dims[i]!, ...dims.slice(i + 1)];
      strides = [...strides.slice(0, i - 1), strides[i]!, ...strides.slice(i + 1)];
    }
  }
  if (dims.length > 6) throw new ShapeError(op, `permuting ${fmt(shape)} by ${fmt(perm)} leaves ${dims.length} dims that cannot be merged (at most 6)`, [shape]);
  // The first merged dim is kept in place when its stride is the rest's size: blocks of it are contiguous in x.
  const rest = numel(dims.slice(1));
  const outer = dims.length > 1 && strides[0] === rest ? dims[0]! : 1;
  return { dims, strides, outer, block: numel(dims) / outer };
}

function permuteRaw(op: string, x: Tensor, perm: readonly number[]): Tensor {
  const dev = x.device;
  const y = empty(dev, perm.map((p) => x.shape[p]!));
  if (y.numel === 0) return y;
  const { dims, strides, outer, block } = permuteLayout(op, x.shape, perm);
  const d = [...new Array<number>(6 - dims.length).fill(1), ...dims];
  const s = [...new Array<number>(6 - dims.length).fill(0), ...strides];
  return disposeOnThrow([y], () => {
    for (const { n0, nn } of planeRuns(op, dev, outer, block, block)) {
      const xw = windowOf(x, n0 * block, nn * block);
      const yw = windowOf(y, n0 * block, nn * block);
      // The run's first dim (of nn blocks) is implied by n; the kept dim's own stride is the block.
      launch(permuteKernel, { x: xw.bind }, { y: yw.bind }, {
        n: nn * block, d1: d[1]!, d2: d[2]!, d3: d[3]!, d4: d[4]!, d5: d[5]!,
        s0: s[0]!, s1: s[1]!, s2: s[2]!, s3: s[3]!, s4: s[4]!, s5: s[5]!, xoff: xw.res, yoff: yw.res,
      });
    }
    return y;
  });
}

/**
 * torch.permute as a copy: y's dim i is x's dim perm[i] (negative dims count from the end). Runs of the leading
 * dims it keeps in place split under the binding limit. The gradient is the inverse permutation.
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const op = 'permute';
  deviceOf(op, x);
  checkDType(op, x, 'f32');
  if (perm.length !== x.ndim) throw new ArgumentError(op, `perm ${fmt(perm)} must order every dim of x ${fmt(x.shape)} once`);
  normDims(op, x.shape, perm); // range and repeats (ShapeError); it returns them sorted
  const p = perm.map((d) => (d < 0 ? d + x.ndim : d));
  const y = permuteRaw(op, x, p);
  const inv = p.map((_, i) => p.indexOf(i));
  return record(op, [x], y, [], (gy) => [permuteRaw(op, gy, inv)]);
}

/** torch.transpose(x, dim0, dim1) as a copy (permute swapping two dims). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const [a, b] = [dim0, dim1].map((d) => normDims('transpose', x.shape, d)[0]!) as [number, number];
  const perm = [...x.shape.keys()];
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/**
 * torch.narrow as a copy: elements start .. start + length - 1 of x along `dim`. Block copies (no binding limit);
 * the gradient is gy in place in zeros.
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const op = 'narrow';
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  const d = normDims(op, x.shape, dim)[0]!;
  const D = x.shape[d]!;
  checkNumber(op, 'start', start, { integer: true, min: 0 });
  checkNumber(op, 'length', length, { integer: true, min: 0 });
  if (start + length > D) throw new ShapeError(op, `start ${start} + length ${length} exceeds dim ${d} of x ${fmt(x.shape)} (size ${D})`, [x.shape]);
  const outer = numel(x.shape.slice(0, d));
  const inner = numel(x.shape.slice(d + 1));
  const shape = [...x.shape];
  shape[d] = length;
  const method = dev.policy.cat;
  const y = empty(dev, shape);
  disposeOnThrow([y], () => moveBlocks(x, start * inner, D * inner, y, 0, length * inner, outer, length * inner, method));
  return record(op, [x], y, [], (gy) => {
    const gx = full(x.shape, 0, { device: dev });
    moveBlocks(gy, 0, length * inner, gx, start * inner, D * inner, outer, length * inner, method);
    return [gx];
  });
}

/** torch.chunk as copies: `chunks` pieces of ceil(size / chunks) along `dim` (the last one may be smaller). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkNumber('chunk', 'chunks', chunks, { integer: true, min: 1 });
  const d = normDims('chunk', x.shape, dim)[0]!;
  const D = x.shape[d]!;
  const step = Math.ceil(D / chunks);
  const out: Tensor[] = [];
  for (let s = 0; s < D || (D === 0 && !out.length); s += Math.max(step, 1)) out.push(narrow(x, d, s, Math.min(step, D - s)));
  return out;
}
