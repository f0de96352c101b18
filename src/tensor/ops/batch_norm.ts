import {
  batchnorm2d_bwd_dx,
  batchnorm2d_bwd_dx_vec4,
  batchnorm2d_bwd_finalize,
  batchnorm2d_bwd_reduce,
  batchnorm2d_bwd_reduce_vec4,
  batchnorm2d_finalize,
  batchnorm2d_fwd,
  batchnorm2d_fwd_vec4,
  batchnorm2d_stats,
  batchnorm2d_stats_vec4,
  bnRuns,
} from '../../kernels/batch_norm.js';
import type { Backend } from '../../kernels/backend.js';
import { record } from '../autograd.js';
import { ArgumentError, LimitError, ShapeError } from '../../core/errors.js';
import { checkBoolean, checkNumber, checkOptions, type OptionKeys } from '../../core/options.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { blockWindow, flatWindows, planBlocks, runs, windowOf } from './split.js';
import { checkDType, deviceOf, empty, launch, type Bind } from './util.js';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

const BN_KEYS: OptionKeys<BatchNormOptions> = { training: true, momentum: true, eps: true };

/**
 * The one choice of kernel variants for the batch-norm family: the vec4 kernels (vec4 loads, per-channel values
 * once per run: on lavapipe 5-8x faster than the scalar kernels, and fewer loads help any GPU) wherever they are valid (every
 * plane and every flat window a multiple of 4 elements); the portable scalar kernels otherwise or when the device's
 * policy asks (batchNorm: 'portable').
 */
function useVec4(dev: Backend, numel: number, hw: number): boolean {
  if (dev.policy.batchNorm === 'portable' || hw % 4 !== 0) return false;
  return flatWindows(dev, numel).every(([base, n]) => base % 4 === 0 && n % 4 === 0);
}

/**
 * Elements per reduction chunk (one invocation each): a chunk's mean and M2 come from its own two passes, then the
 * chunks merge. 2048 keeps every layer of the U-Net busy on few cores with short sequential merges (measured on
 * lavapipe against 512..16384).
 */
const CHUNK = 2048;

/** A box of x [N, C, HW] that one reduction dispatch covers: items n0.., channels c0.., chunks kbase.. of each channel. */
interface Box {
  n0: number;
  nb: number;
  c0: number;
  cb: number;
  nk: number;
  kbase: number;
}

/**
 * Boxes whose windows fit one binding: all of x, or runs of whole items, or channel blocks of one item (then the
 * window is contiguous). Boxes over the same items share their chunk numbering (kbase); ktot chunks per channel.
 */
function planBoxes(op: string, dev: Backend, n: number, c: number, hw: number, chunk: number): { boxes: Box[]; ktot: number } {
  const { nb, cb: [cb] } = planBlocks(op, dev, n, [{ c, plane: hw }]);
  const boxes: Box[] = [];
  let kbase = 0;
  for (const { n0, nn } of runs(n, nb)) {
    const nk = Math.ceil((nn * hw) / chunk);
    for (const { n0: c0, nn: cc } of runs(c, cb!)) boxes.push({ n0, nb: nn, c0, cb: cc, nk, kbase });
    kbase += nk;
  }
  return { boxes, ktot: kbase };
}

/** The window of t (same layout as x) that a box reads. */
const boxWindow = (t: Tensor, b: Box, c: number, hw: number) => blockWindow(t, c, hw, { n0: b.n0, nn: b.nb, c0: b.c0, cc: b.cb });

const win = (t: Tensor, base: number, n: number): Bind => windowOf(t, base, n).bind;

function reduceParams(b: Box, c: number, hw: number, ktot: number, xo: number) {
  return { nwork: b.cb * b.nk, nk: b.nk, chunk: CHUNK, mtot: b.nb * hw, hw, chw: c * hw, c0: b.c0, ktot, kbase: b.kbase, xo };
}

function checkChannels(op: string, name: string, t: Tensor | null | undefined, x: Tensor, c: number): void {
  if (!t) return;
  checkDType(op, t, 'f32');
  if (t.ndim !== 1 || t.shape[0] !== c) throw new ShapeError(op, `${name} ${fmt(t.shape)} must be [${c}] for x ${fmt(x.shape)}`, [t.shape, x.shape]);
}

/**
 * F.batch_norm over [N, C, H, W] (or [N, C], or [N, C, ...]). Training: batch statistics (biased variance) normalise, and
 * runningMean / runningVar (when given) are updated in place with momentum, runningVar from the unbiased variance.
 * Evaluation: the running statistics normalise. weight / bias [C] are optional (1 and 0). Differentiable in x,
 * weight and bias (in training through the batch statistics); the running statistics get no gradient.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts?: BatchNormOptions,
): Tensor {
  return batchNormImpl('batchNorm', false, x, runningMean, runningVar, weight, bias, opts);
}

/**
 * relu(batchNorm(x, ...)) in one pass after the statistics: the same arguments, running-statistics update and
 * gradients as the composition, with less memory: it saves x and the per-channel statistics only (the ReLU mask is
 * recomputed from them in backward), and neither the pre-ReLU tensor nor a separate ReLU gradient is ever stored.
 */
export function batchNormRelu(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts?: BatchNormOptions,
): Tensor {
  return batchNormImpl('batchNormRelu', true, x, runningMean, runningVar, weight, bias, opts);
}

function batchNormImpl(
  op: string,
  relu: boolean,
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  options: BatchNormOptions | undefined,
): Tensor {
  const opts = checkOptions(op, options, BN_KEYS);
  const training = checkBoolean(op, 'training', opts.training ?? false);
  const momentum = checkNumber(op, 'momentum', opts.momentum ?? 0.1);
  const eps = checkNumber(op, 'eps', opts.eps ?? 1e-5, { min: 0 });
  const dev = deviceOf(op, x, runningMean, runningVar, weight, bias);
  checkDType(op, x, 'f32');
  if (x.ndim < 2) throw new ShapeError(op, `x ${fmt(x.shape)} must be [N, C, ...]`, [x.shape]);
  const [n, c] = x.shape as [number, number];
  const hw = x.shape.slice(2).reduce((a, d) => a * d, 1);
  checkChannels(op, 'runningMean', runningMean, x, c);
  checkChannels(op, 'runningVar', runningVar, x, c);
  checkChannels(op, 'weight', weight, x, c);
  checkChannels(op, 'bias', bias, x, c);
  if (!runningMean !== !runningVar) throw new ArgumentError(op, 'runningMean and runningVar must be given together');
  if (!training && !runningMean) throw new ArgumentError(op, 'evaluation (training: false) needs runningMean and runningVar');
  if (training && n * hw <= 1) throw new ShapeError(op, `expected more than 1 value per channel when training, got x ${fmt(x.shape)}`, [x.shape]);
  // Planned before any allocation: a refused split (LimitError) leaks nothing.
  const plan = training ? planBoxes(op, dev, n, c, hw, CHUNK) : null;
  const y = empty(dev, x.shape);
  if (x.numel === 0) return y;
  const vec4 = useVec4(dev, x.numel, hw);
  const apply = { HAS_W: !!weight, HAS_B: !!bias, RELU: relu };

  const mean = empty(dev, [c]);
  const invstd = empty(dev, [c]);
  const fin = { c, eps, momentum };
  if (plan) {
    const { boxes, ktot } = plan;
    const part = empty(dev, [c * ktot * 3]);
    for (const b of boxes) {
      const w = boxWindow(x, b, c, hw);
      launch(vec4 ? batchnorm2d_stats_vec4 : batchnorm2d_stats, { x: w.bind }, { part }, reduceParams(b, c, hw, ktot, w.res));
    }
    // Without running statistics the kernel writes none: two scratch bindings stand in (never aliased writes).
    const scratch = runningMean ? [] : [empty(dev, [1]), empty(dev, [1])];
    launch(batchnorm2d_finalize, { part }, { mean, invstd, rmean: runningMean ?? scratch[0]!, rvar: runningVar ?? scratch[1]! }, { ...fin, ktot }, {
      constants: { TRAINING: true, UPDATE: !!runningMean },
    });
    for (const t of scratch) t.dispose();
    part.dispose();
  } else {
    // part is not read in evaluation: any small read-only binding will do.
    launch(batchnorm2d_finalize, { part: win(x, 0, 1) }, { mean, invstd, rmean: runningMean!, rvar: runningVar! }, { ...fin, ktot: 0 }, {
      constants: { TRAINING: false, UPDATE: false },
    });
  }
  for (const [base, cnt] of flatWindows(dev, x.numel)) {
    const reads = { x: win(x, base, cnt), mean, invstd, weight: weight ?? mean, bias: bias ?? mean };
    if (vec4) {
      const runs = bnRuns(base, cnt, hw, batchnorm2d_fwd_vec4.constants.RUN as number);
      launch(batchnorm2d_fwd_vec4, reads, { y: win(y, base, cnt) }, { n: cnt, base, hw, c, ...runs }, { constants: apply });
    } else {
      launch(batchnorm2d_fwd, reads, { y: win(y, base, cnt) }, { n: cnt, base, hw, c }, { constants: apply });
    }
  }

  // Backward reads x, the statistics and (for the ReLU mask) weight and bias; never y.
  const save = [x, mean, invstd, ...(weight ? [weight] : []), ...(relu && bias ? [bias] : [])];
  const out = record(op, [x, weight ?? null, bias ?? null], y, save, (gy, saved, needs) => {
    const [sx, smean, sinv] = saved as [Tensor, Tensor, Tensor];
    const sw = weight ? saved[3]! : null;
    const sb = relu && bias ? saved[weight ? 4 : 3]! : null;
    // Unused bindings (absent weight / bias, or not read without RELU / TRAINING) take any small read-only tensor.
    const chan = { mean: smean, invstd: sinv, weight: sw ?? sinv, bias: sb ?? sinv };
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (training || needs[1] || needs[2]) {
      const { boxes, ktot } = planBoxes(`${op} backward`, dev, n, c, hw, CHUNK);
      const part = empty(dev, [c * ktot * 2]);
      for (const b of boxes) {
        const xw = boxWindow(sx, b, c, hw);
        const gw = boxWindow(gy, b, c, hw);
        launch(vec4 ? batchnorm2d_bwd_reduce_vec4 : batchnorm2d_bwd_reduce, { x: xw.bind, g: gw.bind, ...chan }, { part }, reduceParams(b, c, hw, ktot, xw.res), {
          constants: apply,
        });
      }
      dw = empty(dev, [c]);
      db = empty(dev, [c]);
      launch(batchnorm2d_bwd_finalize, { part, invstd: sinv }, { dweight: dw, dbias: db }, { c, ktot });
      part.dispose();
    }
    let dx: Tensor | null = null;
    if (needs[0]) {
      dx = empty(dev, x.shape);
      const constants = { TRAINING: training, ...apply };
      for (const [base, cnt] of flatWindows(dev, x.numel)) {
        const reads = { x: win(sx, base, cnt), g: win(gy, base, cnt), ...chan, sum_gxhat: dw ?? sinv, sum_g: db ?? sinv };
        const p = { n: cnt, base, hw, c, inv_m: 1 / (n * hw) };
        if (vec4) {
          const runs = bnRuns(base, cnt, hw, batchnorm2d_bwd_dx_vec4.constants.RUN as number);
          launch(batchnorm2d_bwd_dx_vec4, reads, { dx: win(dx, base, cnt) }, { ...p, ...runs }, { constants });
        } else {
          launch(batchnorm2d_bwd_dx, reads, { dx: win(dx, base, cnt) }, p, { constants });
        }
      }
    }
    if (!needs[1]) dw?.dispose();
    if (!needs[2]) db?.dispose();
    return [dx, needs[1] ? dw : null, needs[2] ? db : null];
  });
  mean.dispose();
  invstd.dispose();
  return out;
}
