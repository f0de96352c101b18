import { isK2S2 } from '../../kernels/define_kernel.js';
import { avgpool2d_bwd, avgpool2d_fwd, fwdK2S2Fits, maxpool2d_bwd, maxpool2d_bwd_k2s2, maxpool2d_fwd, maxpool2d_fwd_k2s2 } from '../../kernels/pool.js';
import type { Backend } from '../../kernels/backend.js';
import { record } from '../autograd.js';
import { isGradEnabled } from '../context.js';
import { ArgumentError, LimitError, ShapeError } from '../../core/errors.js';
import { checkBoolean, checkNumber, checkOptions, type OptionKeys } from '../../core/options.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Pair } from './conv.js';
import { reshape } from './shape_ops.js';
import { planeRuns, windowOf } from './split.js';
import { checkDType, deviceOf, empty, launch } from './util.js';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Whether the zero padding counts in a window's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** A nonzero integer that replaces every window's divisor. */
  divisorOverride?: number;
}

const POOL_KEYS: OptionKeys<MaxPool2dOptions> = { kernelSize: true, stride: true, padding: true, dilation: true, ceilMode: true };
const AVG_POOL_KEYS: OptionKeys<AvgPool2dOptions> = {
  kernelSize: true, stride: true, padding: true, ceilMode: true, countIncludePad: true, divisorOverride: true,
};

/** The options of a pooling call: an options object with keys `keys`, or a bare kernel size (a number or a pair, as PyTorch). */
function poolOptions<O extends { kernelSize: Pair; ceilMode?: boolean }>(op: string, opts: O | Pair, keys: OptionKeys<O>): O {
  if (typeof opts === 'number' || Array.isArray(opts)) return { kernelSize: opts as Pair } as O;
  const o = checkOptions(op, opts as O, keys);
  if (o.kernelSize === undefined) throw new ArgumentError(op, 'kernelSize is required (a number, a pair, or { kernelSize, ... })');
  if (o.ceilMode !== undefined) checkBoolean(op, 'ceilMode', o.ceilMode);
  return o;
}

function pair(op: string, name: string, v: Pair | undefined, dflt: readonly [number, number], min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt[0], dflt[1]] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= min)) throw new ArgumentError(op, `${name} must be integers >= ${min}, got ${fmt(p)}`);
  return p;
}

/** PyTorch's pooling_output_shape: floor (or ceil) division, and a ceil-mode window may not start in the right padding. */
function outSize(size: number, k: number, pad: number, stride: number, dil: number, ceil: boolean): number {
  let o = Math.floor((size + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (o - 1) * stride >= size + pad) o--;
  return o;
}

interface Geometry {
  n: number; c: number; h: number; w: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}

function geometry(op: string, x: Tensor, opts: MaxPool2dOptions): Geometry {
  const [kh, kw] = pair(op, 'kernelSize', opts.kernelSize, [1, 1], 1);
  const [sh, sw] = pair(op, 'stride', opts.stride, [kh, kw], 1);
  const [ph, pw] = pair(op, 'padding', opts.padding, [0, 0], 0);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, [1, 1], 1);
  // PyTorch's check (integer halves of the kernel, not of the dilated extent). Padding is skipped, never the
  // maximum; a dilation wider than the input can leave a window with no element at all (then -inf, index -1).
  if (ph > Math.floor(kh / 2) || pw > Math.floor(kw / 2)) {
    throw new ArgumentError(op, `padding ${fmt([ph, pw])} must be at most half of kernelSize ${fmt([kh, kw])}`);
  }
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = outSize(h, kh, ph, sh, dh, !!opts.ceilMode);
  const ow = outSize(w, kw, pw, sw, dw, !!opts.ceilMode);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(op, `x ${fmt(x.shape)} is too small for kernelSize ${fmt([kh, kw])}, dilation ${fmt([dh, dw])}, padding ${fmt([ph, pw])}: output would be ${fmt([n, c, oh, ow])}`, [x.shape]);
  }
  return { n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw };
}

type Blocks = ReturnType<typeof planeRuns>;

function params(g: Geometry, total: number, xo: number, yo: number) {
  const { h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  return { total, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, xo, yo };
}

/**
 * The one choice of maxpool2d_fwd variant: the 2x2 stride-2 kernel on vec4 where rows are a multiple of 8 wide (the
 * U-Net's pooling; kernel lab, ISBI step: see bench/README), unless the device's policy says maxPool: 'portable'.
 */
const fwdKernel = (dev: Backend, g: Geometry) => (dev.policy.maxPool === 'auto' && fwdK2S2Fits(g) ? maxpool2d_fwd_k2s2 : maxpool2d_fwd);

/** Runs maxpool2d_fwd block by block; idx is written when given (else `dummy`, 4 elements, is bound). */
function forward(x: Tensor, g: Geometry, blocks: Blocks, y: Tensor, idx: Tensor | null, dummy: Tensor | null): void {
  const inPlane = g.h * g.w;
  const outPlane = g.oh * g.ow;
  const spec = fwdKernel(x.device, g);
  for (const { n0: q0, nn: nq } of blocks) {
    const xw = windowOf(x, q0 * inPlane, nq * inPlane);
    const yw = windowOf(y, q0 * outPlane, nq * outPlane);
    const iw = idx ? windowOf(idx, q0 * outPlane, nq * outPlane).bind : dummy!;
    launch(spec, { x: xw.bind }, { y: yw.bind, idx: iw }, params(g, nq * outPlane, xw.res, yw.res), { constants: { INDICES: !!idx } });
  }
}

/**
 * The one choice of maxpool2d_bwd variant: the 2x2 stride-2 kernel (one invocation per window, no overlap) for the
 * U-Net's pooling on every adapter (unless the device's policy says maxPool: 'portable'); the portable gather
 * otherwise.
 */
const bwdKernel = (dev: Backend, g: Geometry) => (dev.policy.maxPool === 'auto' && isK2S2(g) ? maxpool2d_bwd_k2s2 : maxpool2d_bwd);

/** gx [N, C, H, W] from gy [N, C, OH, OW] and the saved flat indices (a gather, block by block). */
function backward(gy: Tensor, idx: Tensor, g: Geometry, blocks: Blocks): Tensor {
  const dev = gy.device;
  const inPlane = g.h * g.w;
  const outPlane = g.oh * g.ow;
  const gx = empty(dev, [g.n, g.c, g.h, g.w]);
  for (const { n0: q0, nn: nq } of blocks) {
    const xw = windowOf(gx, q0 * inPlane, nq * inPlane);
    const yw = windowOf(gy, q0 * outPlane, nq * outPlane);
    const iw = windowOf(idx, q0 * outPlane, nq * outPlane);
    launch(bwdKernel(dev, g), { idx: iw.bind, gy: yw.bind }, { gx: xw.bind }, params(g, nq * inPlane, xw.res, yw.res));
  }
  return gx;
}

/** Runs `run` on unbatched x [C, H, W] as PyTorch does, on a [1, C, H, W] view; its outputs lose the batch dim again. */
function unbatched(x: Tensor, run: (x4: Tensor) => (Tensor | null)[]): (Tensor | null)[] {
  const x4 = reshape(x, [1, ...x.shape]);
  const outs = run(x4);
  x4.dispose();
  return outs.map((t) => {
    if (!t) return null;
    const r = reshape(t, t.shape.slice(1));
    t.dispose();
    return r;
  });
}

function checkNCHW(op: string, x: Tensor): void {
  if (x.ndim !== 4) throw new ShapeError(op, `x ${fmt(x.shape)} must be [N, C, H, W] (or unbatched [C, H, W])`, [x.shape]);
}

function maxPool(op: string, x: Tensor, opts: MaxPool2dOptions, wantIndices: boolean): { values: Tensor; indices: Tensor | null } {
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  if (x.ndim === 3) {
    const [values, indices] = unbatched(x, (x4) => {
      const r = maxPool(op, x4, opts, wantIndices);
      return [r.values, r.indices];
    });
    return { values: values!, indices };
  }
  checkNCHW(op, x);
  const g = geometry(op, x, opts);
  // Planned before any allocation: a refused split (LimitError) leaks nothing.
  const blocks = planeRuns(op, dev, g.n * g.c, g.h * g.w, g.oh * g.ow);
  const y = empty(dev, [g.n, g.c, g.oh, g.ow]);
  const needGrad = isGradEnabled() && x.requiresGrad;
  if (y.numel === 0) return { values: y, indices: wantIndices ? empty(dev, y.shape, 'i32') : null };
  const idx = wantIndices || needGrad ? empty(dev, y.shape, 'i32') : null;
  const dummy = idx ? null : empty(dev, [4], 'i32');
  forward(x, g, blocks, y, idx, dummy);
  dummy?.dispose();
  const values = record(op, [x], y, idx ? [idx] : [], (gy, [sidx]) => [backward(gy, sidx!, g, blocks)]);
  if (wantIndices) return { values, indices: idx };
  idx?.dispose();
  return { values, indices: null };
}

/**
 * F.max_pool2d: x [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW]. Padding never wins; ties keep the first maximum
 * in window scan order; NaN propagates. Backward routes each gradient to its window's argmax (a gather).
 * `opts` is { kernelSize, stride, padding, dilation, ceilMode } or a bare kernel size (`maxPool2d(x, 2)`).
 */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions | Pair): Tensor {
  return maxPool('maxPool2d', x, poolOptions('maxPool2d', opts, POOL_KEYS), false).values;
}

/**
 * F.max_pool2d(return_indices=True): values [N, C, OH, OW] and the flat argmax ih * W + iw within each (n, c)
 * plane (i32; PyTorch's int64). The indices are not differentiable.
 */
export function maxPool2dWithIndices(x: Tensor, opts: MaxPool2dOptions | Pair): { values: Tensor; indices: Tensor } {
  const r = maxPool('maxPool2dWithIndices', x, poolOptions('maxPool2dWithIndices', opts, POOL_KEYS), true);
  return { values: r.values, indices: r.indices! };
}

/** avgpool2d params for a block of `total` elements at residual offsets xo, yo. */
function avgParams(g: Geometry, divisor: number, countPad: boolean, total: number, xo: number, yo: number) {
  const { h, w, oh, ow, kh, kw, sh, sw, ph, pw } = g;
  return { total, h, w, oh, ow, kh, kw, sh, sw, ph, pw, divisor, count_pad: countPad ? 1 : 0, xo, yo };
}

/**
 * F.avg_pool2d: x [N, C, H, W] (or [C, H, W]) -> [N, C, OH, OW], the mean over each window; padding is zeros that
 * count in the divisor unless countIncludePad is false; divisorOverride replaces the divisor. Backward spreads each
 * gradient / divisor over its window (a gather per input element). `opts` is { kernelSize, stride, padding, ceilMode,
 * countIncludePad, divisorOverride } or a bare kernel size (`avgPool2d(x, 2)`).
 */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions | Pair): Tensor {
  const op = 'avgPool2d';
  const o = poolOptions(op, opts, AVG_POOL_KEYS);
  const countPad = o.countIncludePad === undefined ? true : checkBoolean(op, 'countIncludePad', o.countIncludePad);
  const divisor = o.divisorOverride === undefined ? 0 : checkNumber(op, 'divisorOverride', o.divisorOverride, { integer: true, min: -(2 ** 31), max: 2 ** 31 - 1 });
  if (o.divisorOverride !== undefined && divisor === 0) throw new ArgumentError(op, 'divisorOverride must not be 0');
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  if (x.ndim === 3) return unbatched(x, (x4) => [avgPool2d(x4, o)])[0]!;
  checkNCHW(op, x);
  const g = geometry(op, x, { kernelSize: o.kernelSize, stride: o.stride, padding: o.padding, ceilMode: o.ceilMode });
  // Planned before any allocation: a refused split (LimitError) leaks nothing.
  const blocks = planeRuns(op, dev, g.n * g.c, g.h * g.w, g.oh * g.ow);
  const inPlane = g.h * g.w;
  const outPlane = g.oh * g.ow;
  const y = empty(dev, [g.n, g.c, g.oh, g.ow]);
  if (y.numel === 0) return y;
  for (const { n0: q0, nn: nq } of blocks) {
    const xw = windowOf(x, q0 * inPlane, nq * inPlane);
    const yw = windowOf(y, q0 * outPlane, nq * outPlane);
    launch(avgpool2d_fwd, { x: xw.bind }, { y: yw.bind }, avgParams(g, divisor, countPad, nq * outPlane, xw.res, yw.res));
  }
  return record(op, [x], y, [], (gy) => {
    const gx = empty(gy.device, [g.n, g.c, g.h, g.w]);
    for (const { n0: q0, nn: nq } of blocks) {
      const xw = windowOf(gx, q0 * inPlane, nq * inPlane);
      const yw = windowOf(gy, q0 * outPlane, nq * outPlane);
      launch(avgpool2d_bwd, { gy: yw.bind }, { gx: xw.bind }, avgParams(g, divisor, countPad, nq * inPlane, xw.res, yw.res));
    }
    return [gx];
  });
}
