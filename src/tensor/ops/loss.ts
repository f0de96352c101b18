// The losses (PyTorch semantics). Reductions run as fixed-order partial sums per
// workgroup plus one loss_reduce pass: deterministic, no float atomics. Every op splits tensors over the binding
// limit into aligned windows; kernels address global indices minus each window's start.
import type { Backend } from '../../kernels/backend.js';
import type { KernelSpec } from '../../kernels/define_kernel.js';
import {
  bce_with_logits_bwd,
  bce_with_logits_fwd,
  class_target_check,
  class_target_check_f32_index,
  cross_entropy_bwd,
  cross_entropy_bwd_f32_index,
  cross_entropy_fwd,
  cross_entropy_fwd_f32_index,
  cross_entropy_plane_fwd,
  cross_entropy_plane_fwd_f32_index,
  DICE_BWD,
  DICE_FWD,
  LOSS_REDUCE_MODES,
  loss_reduce,
  type DiceTarget,
} from '../../kernels/loss.js';
import {
  softmax_plane_stats,
  softmax_plane_stats_f32_index,
} from '../../kernels/softmax.js';
import { record } from '../autograd.js';
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { ArgumentError, LimitError, ShapeError } from '../../core/errors.js';
import { checkNumber, checkOneOf, checkOptions, type OptionKeys } from '../../core/options.js';
import { broadcastShapes, fmt, normDims, numel, sameShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from '../creation.js';
import { binaryRaw } from './elementwise.js';
import { bindGeometry, flatRanges, planBlocks, planeChunks, planeWin, rowRanges, rowSpan, runs, spanWindow } from './split.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch, type Bind } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

// ---- windows over the binding limit ----

function tooBig(op: string, what: string, elems: number, dev: Backend, hint: string): LimitError {
  return new LimitError(op, 'maxStorageBufferBindingSize', elems * BYTES_PER_ELEMENT, dev.limits.maxBindingBytes, `${what}; ${hint}`);
}


/** A block of planes (q = n * C + c, each `inner` elements) and the pixel range [i0, i0 + ni) taken in each. */
interface PlaneBlock {
  pl0: number;
  npl: number;
  i0: number;
  ni: number;
}

/**
 * Blocks of planes of [outer, C, inner] whose element span and per-pixel span ([outer, inner] arrays) each fit one
 * binding (split.ts's planBlocks): everything, blocks of whole items, channel blocks of one item, or pixel chunks
 * (multiples of `unit`) of one plane.
 */
function planeBlocks(op: string, dev: Backend, outer: number, C: number, inner: number, unit: number): PlaneBlock[] {
  if (outer * C * inner === 0) return [];
  const { nb, cb: [cb], pb } = planBlocks(op, dev, outer, [{ c: C, plane: inner }, { c: 1, plane: inner }], unit);
  const out: PlaneBlock[] = [];
  if (pb !== null) {
    for (let q = 0; q < outer * C; q++) for (const { n0: i, nn } of runs(inner, pb)) out.push({ pl0: q, npl: 1, i0: i, ni: nn });
  } else {
    for (const { n0: o, nn } of runs(outer, nb)) {
      for (const { n0: c, nn: cc } of runs(C, nn === 1 ? cb! : C)) out.push({ pl0: o * C + c, npl: (nn - 1) * C + cc, i0: 0, ni: inner });
    }
  }
  return out;
}

/** Element span and pixel span ([outer, inner] arrays) of a plane block. */
function blockSpans(b: PlaneBlock, C: number, inner: number) {
  const last = b.pl0 + b.npl - 1;
  return {
    e0: b.pl0 * inner + b.i0,
    e1: last * inner + b.i0 + b.ni,
    p0: Math.floor(b.pl0 / C) * inner + b.i0,
    p1: Math.floor(last / C) * inner + b.i0 + b.ni,
  };
}


const perWorkgroup = (spec: KernelSpec) => (spec.constants.WG as number) * (spec.constants.K as number);

/** The [G, J] partial-sum buffer; zeros (one slot per group) when there is nothing to sum (empty inputs). */
function partials(dev: Backend, G: number, J: number, items: number): Tensor {
  return items === 0 ? zeros([G * J], { device: dev }) : empty(dev, [G * J]);
}

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];
const checkReduction = (op: string, r: unknown): Reduction => checkOneOf(op, 'reduction', r, REDUCTIONS);

/** Options of bceWithLogits: weight and posWeight broadcast to the logits. */
export interface BceWithLogitsOptions {
  reduction?: Reduction;
  posWeight?: Tensor | null;
  weight?: Tensor | null;
}

/** Options of crossEntropy: class weights [C], the ignored target value (default -100), the reduction. */
export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Options of diceLoss: the smoothing term (default 1) and the reduction over classes. */
export interface DiceLossOptions {
  smooth?: number;
  reduction?: Reduction;
}

const BCE_KEYS: OptionKeys<BceWithLogitsOptions> = { reduction: true, posWeight: true, weight: true };
const CE_KEYS: OptionKeys<CrossEntropyOptions> = { weight: true, ignoreIndex: true, reduction: true };
const DICE_KEYS: OptionKeys<DiceLossOptions> = { smooth: true, reduction: true };


// ---- class targets ----

const bits = new Uint32Array(1);
const bitsF32 = new Float32Array(bits.buffer);

/** A target element from its raw 32 bits, as the tensor's dtype reads them. */
function targetValue(raw: number, dtype: Tensor['dtype']): number {
  if (dtype === 'i32') return raw | 0;
  if (dtype === 'u32') return raw >>> 0;
  bits[0] = raw;
  return bitsF32[0]!;
}

/**
 * Records on the device every class target that is not a class in [0, C) (nor `ignore`; for an f32 target: not an
 * integer class): class_target_check counts them into the device's check buffer, and the next readback or sync()
 * throws an ArgumentError naming the op and a bad value. No readback here; the loss kernels give NaN for them.
 */
function checkClassTargets(op: string, dev: Backend, target: Tensor, C: number, ignore: number | null): void {
  const checks = dev.checks;
  if (!checks || target.numel === 0) return;
  const dtype = target.dtype;
  const slot = checks.slot(`${op} ${dtype} ${C} ${ignore}`, () => (count, raw) => new ArgumentError(op,
    `target holds ${targetValue(raw, dtype)}, not ${dtype === 'f32' ? 'an integer class' : 'a class'} in [0, ${C})` +
    `${ignore === null ? '' : ` nor ignoreIndex ${ignore}`} (${count} bad target${count === 1 ? '' : 's'}; the loss is NaN)`));
  const spec = dtype === 'f32' ? class_target_check_f32_index : class_target_check;
  for (const [e0, e1] of flatRanges(dev, target.numel, 1)) {
    const t = spanWindow(target, e0, e1);
    launch(spec, { tgt: t.b }, { flag: { owned: checks.storage } }, { n: e1 - e0, off: e0 - t.base, C, ignore: ignore ?? 0, slot }, {
      constants: { IGNORE: ignore !== null },
    });
  }
}

// ---- binary cross-entropy with logits ----

/** How a broadcast operand is indexed from a global element e of `shape`: ((e / div) % mod) - base. */
interface Broadcast {
  t: Tensor;
  div: number;
  mod: number;
  owned: boolean;
}

/**
 * w broadcast to `shape` as one run of dims (index (e / div) % mod), materialized (expand) when its non-1 dims
 * do not form one contiguous run of `shape`'s dims.
 */
function broadcastOperand(op: string, name: string, w: Tensor, shape: Shape): Broadcast {
  checkDType(op, w, 'f32');
  const b = broadcastShapes(op, w.shape, shape);
  if (!sameShape(b, shape)) throw new ShapeError(op, `${name} ${fmt(w.shape)} does not broadcast to the input ${fmt(shape)}`, [w.shape, shape]);
  const s = [...new Array<number>(shape.length - w.ndim).fill(1), ...w.shape];
  const a = s.findIndex((d) => d !== 1);
  if (a < 0) return { t: w, div: 1, mod: 1, owned: false };
  let z = s.length - 1;
  while (s[z] === 1) z--;
  if (s.slice(a, z + 1).every((d, k) => d === shape[a + k])) {
    return { t: w, div: numel(shape.slice(z + 1)), mod: numel(s.slice(a, z + 1)), owned: false };
  }
  const full = binaryRaw('lhs', w, w, shape);
  return { t: full, div: 1, mod: numel(shape), owned: true };
}

/** Binding and params of a broadcast operand for the global element range [e0, e1). */
function bindBroadcast(op: string, name: string, bc: Broadcast | null, dummy: Bind, e0: number, e1: number, n: number) {
  if (!bc) return { b: dummy, div: 1, mod: 1, base: 0 };
  const lim = bindGeometry(bc.t.device).max;
  if (bc.t.numel > lim && !(bc.div === 1 && bc.mod === n)) {
    throw tooBig(op, `${name} ${fmt(bc.t.shape)} broadcast over the input`, bc.t.numel, bc.t.device, 'give it the input\'s full shape');
  }
  const w = spanWindow(bc.t, e0, e1);
  return { b: w.b, div: bc.div, mod: bc.mod, base: w.base };
}

/**
 * F.binary_cross_entropy_with_logits: logits and target of one shape; weight and posWeight broadcast to it (posWeight
 * typically [C, 1, 1] for NCHW). Backward gives the logits' gradient only (target, weight and posWeight get null).
 */
export function bceWithLogits(logits: Tensor, target: Tensor, options?: BceWithLogitsOptions): Tensor {
  const op = 'bceWithLogits';
  const opts = checkOptions(op, options, BCE_KEYS);
  const dev = deviceOf(op, logits, target, opts.weight, opts.posWeight);
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkDType(op, logits, 'f32');
  checkDType(op, target, 'f32');
  if (!sameShape(logits.shape, target.shape)) {
    throw new ShapeError(op, `target ${fmt(target.shape)} must have the shape of logits ${fmt(logits.shape)}`, [logits.shape, target.shape]);
  }
  const n = logits.numel;
  const y = reduction === 'none' ? empty(dev, logits.shape) : empty(dev, []);
  const temps: Tensor[] = [];
  try {
    disposeOnThrow([y], () => {
      const w = opts.weight ? broadcastOperand(op, 'weight', opts.weight, logits.shape) : null;
      if (w?.owned) temps.push(w.t);
      const pw = opts.posWeight ? broadcastOperand(op, 'posWeight', opts.posWeight, logits.shape) : null;
      if (pw?.owned) temps.push(pw.t);
      const per = perWorkgroup(bce_with_logits_fwd);
      const J = Math.max(1, Math.ceil(n / per));
      const part = reduction === 'none' ? null : partials(dev, 1, J, n);
      if (part) temps.push(part);
      const constants = { REDUCE: !!part, HAS_W: !!w, HAS_PW: !!pw };
      for (const [e0, e1] of flatRanges(dev, n, per, op)) {
        const x = spanWindow(logits, e0, e1);
        const wb = bindBroadcast(op, 'weight', w, x.b, e0, e1, n);
        const pb = bindBroadcast(op, 'posWeight', pw, x.b, e0, e1, n);
        launch(bce_with_logits_fwd, { x: x.b, t: spanWindow(target, e0, e1).b, w: wb.b, pw: pb.b }, { out: part ?? spanWindow(y, e0, e1).b }, {
          n: e1 - e0, e0, xbase: x.base, wdiv: wb.div, wmod: wb.mod, wbase: wb.base, pdiv: pb.div, pmod: pb.mod, pbase: pb.base, jbase: e0 / per,
        }, { constants });
      }
      if (part) temps.push(finish(y, part, 1, J, 'scaled', { scale: reduction === 'mean' ? 1 / n : 1 }));
    });
  } finally {
    for (const t of temps) t.dispose();
  }
  const weight = opts.weight ?? null;
  const posWeight = opts.posWeight ?? null;
  const save = [logits, target, ...(weight ? [weight] : []), ...(posWeight ? [posWeight] : [])];
  return record(op, [logits, target, weight, posWeight], y, save, (gy, saved, needs) => {
    if (!needs[0]) return [null, null, null, null];
    const [sx, st] = saved as Tensor[];
    const sw = weight ? saved[2]! : null;
    const spw = posWeight ? saved[weight ? 3 : 2]! : null;
    const w = sw ? broadcastOperand(op, 'weight', sw, logits.shape) : null;
    const pw = spw ? broadcastOperand(op, 'posWeight', spw, logits.shape) : null;
    const gx = empty(dev, logits.shape);
    const constants = { G_SCALAR: reduction !== 'none', HAS_W: !!w, HAS_PW: !!pw };
    for (const [e0, e1] of flatRanges(dev, n, 1)) {
      const x = spanWindow(sx!, e0, e1);
      const wb = bindBroadcast(op, 'weight', w, x.b, e0, e1, n);
      const pb = bindBroadcast(op, 'posWeight', pw, x.b, e0, e1, n);
      const g = reduction === 'none' ? spanWindow(gy, e0, e1).b : gy;
      launch(bce_with_logits_bwd, { x: x.b, t: spanWindow(st!, e0, e1).b, w: wb.b, pw: pb.b, g }, { gx: spanWindow(gx, e0, e1).b }, {
        n: e1 - e0, e0, xbase: x.base, wdiv: wb.div, wmod: wb.mod, wbase: wb.base, pdiv: pb.div, pmod: pb.mod, pbase: pb.base,
        scale: reduction === 'mean' ? 1 / n : 1,
      }, { constants });
    }
    return [gx, null, null, null];
  });
}

/** Sums the [G, J] partials in a fixed order and writes the loss into y (loss_reduce); returns the G group sums. */
function finish(y: Tensor, part: Tensor, G: number, J: number, mode: keyof typeof LOSS_REDUCE_MODES, p: { C?: number; scale?: number; smooth?: number }): Tensor {
  const sums = empty(y.device, [G]);
  launch(loss_reduce, { part }, { y, sums }, { G, J, C: p.C ?? 1, scale: p.scale ?? 1, smoothing: p.smooth ?? 0 }, { constants: { MODE: LOSS_REDUCE_MODES[mode] } });
  return sums;
}

// ---- cross-entropy ----

/** [outer, C, inner] of logits and the shape of the per-pixel target. */
function classGeometry(op: string, logits: Tensor, target: Tensor) {
  if (logits.ndim === 0) throw new ShapeError(op, `logits must be [C], [N, C] or [N, C, ...], got ${fmt(logits.shape)}`, [logits.shape]);
  const unbatched = logits.ndim === 1;
  const C = unbatched ? logits.shape[0]! : logits.shape[1]!;
  const want = unbatched ? [] : [logits.shape[0]!, ...logits.shape.slice(2)];
  if (!sameShape(target.shape, want)) {
    throw new ShapeError(op, `target ${fmt(target.shape)} must be ${fmt(want)} (class indices) for logits ${fmt(logits.shape)}`, [logits.shape, target.shape]);
  }
  return { outer: unbatched ? 1 : logits.shape[0]!, C, inner: unbatched ? 1 : numel(logits.shape.slice(2)), tshape: want };
}

/**
 * F.cross_entropy: logits [N, C, ...] (or [N, C], or [C]), target class indices [N, ...] (i32, u32, or f32 holding
 * integers), optional class weights [C]. 'mean' is sum(w[t] * nll) / sum(w[t]) over targets != ignoreIndex. A
 * target out of [0, C) and not ignoreIndex, or an f32 target that is no integer, gives NaN and is recorded on the
 * device: the next readback or sync() throws an ArgumentError (PyTorch throws at once; a GPU kernel cannot). Backward
 * gives the logits' gradient only.
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  options?: CrossEntropyOptions,
): Tensor {
  const op = 'crossEntropy';
  const opts = checkOptions(op, options, CE_KEYS);
  const dev = deviceOf(op, logits, target, opts.weight);
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkDType(op, logits, 'f32');
  checkDType(op, target, 'i32', 'u32', 'f32');
  // An i32 for the kernels; -2^31 is reserved: the kernels' mark of an f32 target that is no integer.
  const ignore = checkNumber(op, 'ignoreIndex', opts.ignoreIndex ?? -100, { integer: true, min: -(2 ** 31 - 1), max: 2 ** 31 - 1 });
  const { outer, C, inner, tshape } = classGeometry(op, logits, target);
  const weight = opts.weight ?? null;
  if (weight) {
    checkDType(op, weight, 'f32');
    if (!sameShape(weight.shape, [C])) throw new ShapeError(op, `weight ${fmt(weight.shape)} must be [${C}] for logits ${fmt(logits.shape)}`, [weight.shape, logits.shape]);
  }
  checkClassTargets(op, dev, target, C, ignore);
  const f32t = target.dtype === 'f32';
  const fwd = f32t ? cross_entropy_fwd_f32_index : cross_entropy_fwd;
  const rows = outer * inner;
  const per = perWorkgroup(fwd);
  const ranges = rowRanges(dev, outer, C, inner);
  const chunks = ranges ? [] : planeChunks(dev, outer, inner);
  const slots = ranges ? ranges.map(([r0, r1]) => Math.ceil((r1 - r0) / per)) : chunks.map((c) => Math.ceil(c.np / per));
  const J = Math.max(1, slots.reduce((a, b) => a + b, 0));
  const y = empty(dev, reduction === 'none' ? tshape : []);
  const lse = empty(dev, [rows]);
  const sums = disposeOnThrow([y, lse], (): Tensor | null => {
    const part = reduction === 'none' ? null : partials(dev, 2, J, rows);
    try {
      let jbase = 0;
      const constants = { REDUCE: !!part, HAS_W: !!weight };
      for (const [r0, r1] of ranges ?? []) {
        const [e0, e1] = rowSpan(r0, r1, C, inner);
        const x = spanWindow(logits, e0, e1);
        const t = spanWindow(target, r0, r1);
        const out = part ?? spanWindow(y, r0, r1).b;
        launch(fwd, { x: x.b, tgt: t.b, w: weight ?? x.b }, { lse: spanWindow(lse, r0, r1).b, out }, {
          rows: r1 - r0, row0: r0, C, inner, xbase: x.base, pbase: t.base, jbase, J, ignore,
        }, { constants });
        jbase += Math.ceil((r1 - r0) / per);
      }
      // Rows longer than one binding: per pixel chunk, the online max / sum / target logit over the planes, then
      // the loss from those statistics.
      const st = chunks.length ? empty(dev, [3 * chunks[0]!.np]) : null;
      try {
        for (const { o, i0, np } of chunks) {
          const r0 = o * inner + i0;
          const t = spanWindow(target, r0, r0 + np);
          for (let d = 0; d < C; d++) {
            const xw = planeWin(logits, o, d, C, inner, i0, np);
            launch(f32t ? softmax_plane_stats_f32_index : softmax_plane_stats, { x: xw.b, tgt: t.b }, { st: st! }, {
              np, xoff: xw.off, toff: r0 - t.base, d, first: d === 0 ? 1 : 0,
            }, { constants: { GATHER: true } });
          }
          launch(f32t ? cross_entropy_plane_fwd_f32_index : cross_entropy_plane_fwd, { st: st!, tgt: t.b, w: weight ?? st! }, { lse: spanWindow(lse, r0, r0 + np).b, out: part ?? spanWindow(y, r0, r0 + np).b }, {
            np, row0: r0, C, pbase: t.base, jbase, J, ignore,
          }, { constants });
          jbase += Math.ceil(np / per);
        }
      } finally {
        st?.dispose();
      }
      return part ? finish(y, part, 2, J, reduction === 'mean' ? 'ratio' : 'scaled', {}) : null;
    } finally {
      part?.dispose();
    }
  });
  const save = [logits, target, lse, ...(sums ? [sums] : []), ...(weight ? [weight] : [])];
  const out = record(op, [logits, target, weight], y, save, (gy, saved, needs) => {
    if (!needs[0]) return [null, null, null];
    const [sx, st, sl] = saved as Tensor[];
    const ss = sums ? saved[3]! : null;
    const sw = weight ? saved[saved.length - 1]! : null;
    const gx = empty(dev, logits.shape);
    const bwd = f32t ? cross_entropy_bwd_f32_index : cross_entropy_bwd;
    const G_MODE = reduction === 'none' ? 0 : reduction === 'sum' ? 1 : 2;
    for (const b of planeBlocks(op, dev, outer, C, inner, 1)) {
      const { e0, e1, p0, p1 } = blockSpans(b, C, inner);
      const x = spanWindow(sx!, e0, e1);
      const t = spanWindow(st!, p0, p1);
      const g = reduction === 'none' ? spanWindow(gy, p0, p1).b : gy;
      // 'none' has no sums: the g window stands in for the binding (never read).
      launch(bwd, { x: x.b, tgt: t.b, w: sw ?? x.b, lse: spanWindow(sl!, p0, p1).b, g, sums: ss ?? g }, { gx: spanWindow(gx, e0, e1).b }, {
        n: e1 - e0, e0, C, inner, xbase: x.base, pbase: t.base, ignore, scale: 1,
      }, { constants: { G_MODE, HAS_W: !!sw } });
    }
    return [gx, null, null];
  });
  lse.dispose();
  sums?.dispose();
  return out;
}

// ---- Dice ----

/**
 * Soft Dice loss per class c over probs [N, C, ...] and target one-hot/soft f32 [N, C, ...] or class indices
 * [N, ...] (i32, u32 or f32 holding integers; one out of [0, C) or no integer gives NaN, and the next readback or
 * sync() throws, as in crossEntropy): loss_c = 1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth),
 * sums over N and the pixels; 'mean' averages over classes, 'sum' adds them, 'none' gives [C]. Backward gives the
 * probs' gradient only (the target gets null).
 */
export function diceLoss(probs: Tensor, target: Tensor, options?: DiceLossOptions): Tensor {
  const op = 'diceLoss';
  const opts = checkOptions(op, options, DICE_KEYS);
  const dev = deviceOf(op, probs, target);
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const smooth = checkNumber(op, 'smooth', opts.smooth ?? 1, { min: 0 });
  checkDType(op, probs, 'f32');
  if (probs.ndim < 2) throw new ShapeError(op, `probs must be [N, C, ...], got ${fmt(probs.shape)}`, [probs.shape]);
  const [N, C] = probs.shape as [number, number];
  const inner = numel(probs.shape.slice(2));
  let kind: DiceTarget;
  if (sameShape(target.shape, probs.shape)) {
    checkDType(op, target, 'f32');
    kind = 'onehot';
  } else if (sameShape(target.shape, [N, ...probs.shape.slice(2)])) {
    checkDType(op, target, 'i32', 'u32', 'f32');
    kind = target.dtype === 'f32' ? 'f32_index' : 'index';
  } else {
    throw new ShapeError(op, `target ${fmt(target.shape)} must be one-hot ${fmt(probs.shape)} or class indices ${fmt([N, ...probs.shape.slice(2)])}`, [probs.shape, target.shape]);
  }
  if (kind !== 'onehot') checkClassTargets(op, dev, target, C, null);
  const fwd = DICE_FWD[kind];
  const per = perWorkgroup(fwd);
  const CPPG = Math.ceil(inner / per);
  const J = Math.max(1, N * CPPG);
  const y = empty(dev, reduction === 'none' ? [C] : []);
  const sums = disposeOnThrow([y], () => {
    const part = partials(dev, 3 * C, J, N * inner);
    try {
      for (const b of planeBlocks(op, dev, N, C, inner, per)) {
        const { e0, e1, p0, p1 } = blockSpans(b, C, inner);
        const x = spanWindow(probs, e0, e1);
        const t = kind === 'onehot' ? spanWindow(target, e0, e1) : spanWindow(target, p0, p1);
        launch(fwd, { x: x.b, tgt: t.b }, { part }, {
          pl0: b.pl0, npl: b.npl, i0: b.i0, ni: b.ni, cpp: Math.ceil(b.ni / per), jc0: b.i0 / per, CPPG, J, C, HW: inner, xbase: x.base, tbase: t.base,
        });
      }
      return finish(y, part, 3 * C, J, reduction === 'none' ? 'dice_per_class' : 'dice', { C, smooth, scale: reduction === 'mean' ? 1 / C : 1 });
    } finally {
      part.dispose();
    }
  });
  const out = record(op, [probs, target], y, [target, sums], (gy, [st, ss], needs) => {
    if (!needs[0]) return [null, null];
    const gx = empty(dev, probs.shape);
    const bwd = DICE_BWD[kind];
    for (const b of planeBlocks(op, dev, N, C, inner, 1)) {
      const { e0, e1, p0, p1 } = blockSpans(b, C, inner);
      const g = spanWindow(gx, e0, e1);
      const t = kind === 'onehot' ? spanWindow(st!, e0, e1) : spanWindow(st!, p0, p1);
      launch(bwd, { tgt: t.b, sums: ss!, g: gy }, { gx: g.b }, {
        n: e1 - e0, e0, C, HW: inner, xbase: g.base, tbase: t.base, smoothing: smooth, scale: reduction === 'mean' ? 1 / C : 1,
      }, { constants: { COMBINED: reduction !== 'none' } });
    }
    return [gx, null];
  });
  sums.dispose();
  return out;
}
