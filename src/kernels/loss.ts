import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, grid1d, sumOf, type Constants, type KernelSpec, type Tolerance } from './define_kernel.js';
import { classOf, maxSumExp, rowStart, type IndexTarget } from './softmax.js';

// The losses (softmax and log-softmax are in softmax.ts). Every reduction writes fixed-order partial sums (one per
// workgroup of WG * K items) that loss_reduce sums in one more fixed-order pass: deterministic, no float atomics. Every
// binding may be a window of a bigger tensor: kernels address global indices minus the window's start (`base` params).

const WG = 64;
/** Items (elements, rows or pixels) per invocation in the reducing kernels: a workgroup covers WG * K. */
const K = 16;

/** Sums over a class dim of `c` or over a workgroup's WG * K items, with exp / log. */
const lossTol = (c = 0): Tolerance => sumOf(Math.max(c, WG * K), true);

/** The tree reduction of the shaders sums in a fixed order; the reference sums sequentially (same contract). */
function sumRange(f: (j: number) => number, j0: number, j1: number): number {
  let s = 0;
  for (let j = j0; j < j1; j++) s += f(j);
  return s;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * The epilogue both cross-entropy forward references share: row l (of `rows`, at row0 + l) with log-sum-exp lv and
 * xt(t) = its logit of class t writes lse and either the weighted NLL per row or, with REDUCE, per-workgroup partial
 * sums of the NLL and of the weights (out[jbase + k], out[J + jbase + k]).
 */
function nllRows(
  tgt: NumArray, w: NumArray, lse: NumArray, out: NumArray,
  p: Readonly<Record<'row0' | 'pbase' | 'C' | 'ignore' | 'jbase' | 'J', number>>, c: Constants, rows: number,
): (l: number, lv: number, xt: (t: number) => number) => void {
  const per = (c.WG as number) * (c.K as number);
  let accl = 0;
  let accw = 0;
  return (l, lv, xt) => {
    const i = p.row0 + l - p.pbase;
    lse[i] = lv;
    const t = classOf(tgt[i]!, !!c.TGT_F32);
    let nl = 0;
    let wt = 0;
    if (t !== p.ignore) {
      if (t >= 0 && t < p.C) {
        wt = c.HAS_W ? w[t]! : 1;
        nl = wt * (lv - xt(t));
      } else nl = wt = NaN;
    }
    if (!c.REDUCE) out[i] = nl;
    else {
      accl += nl;
      accw += wt;
      if ((l + 1) % per === 0 || l === rows - 1) {
        const k = Math.floor(l / per);
        out[p.jbase + k] = accl;
        out[p.J + p.jbase + k] = accw;
        accl = accw = 0;
      }
    }
  };
}

function crossEntropyPlaneFwd(name: string, tdt: IndexTarget) {
  return defineKernel({
    name,
    shader: 'cross_entropy_plane_fwd',
    family: 'cross_entropy_plane_fwd',
    reads: { st: 'f32', tgt: tdt, w: 'f32' },
    writes: { lse: 'f32', out: 'f32' },
    params: { np: 'u32', row0: 'u32', C: 'u32', pbase: 'u32', jbase: 'u32', J: 'u32', ignore: 'i32' },
    constants: { WG, K, REDUCE: false, HAS_W: false, TGT_F32: tdt === 'f32' },
    description: `cross-entropy NLL per row (REDUCE: partial sums) from the per-plane softmax statistics${tdt === 'f32' ? ', f32 class indices' : ''}`,
    grid: (p, c) => grid1d(p.np, (c.WG as number) * (c.K as number)),
    cost: (p) => ({ flops: 4 * p.np, bytes: 4 * 6 * p.np }),
    tolerance: (p) => lossTol(p.C),
    ref({ st, tgt, w }, { lse, out }, p, c) {
      const row = nllRows(tgt, w, lse, out, p, c, p.np);
      for (let q = 0; q < p.np; q++) row(q, st[q]! + Math.log(st[p.np + q]!), () => st[2 * p.np + q]!);
    },
  });
}

const BCE_PARAMS = {
  n: 'u32', e0: 'u32', xbase: 'u32', wdiv: 'u32', wmod: 'u32', wbase: 'u32', pdiv: 'u32', pmod: 'u32', pbase: 'u32',
} as const;

type BceP = Readonly<Record<keyof typeof BCE_PARAMS, number>>;

/** d loss / d x of one element (without the upstream gradient), or the loss itself. */
function bceElem(x: NumArray, t: NumArray, w: NumArray, pw: NumArray, p: BceP, c: Record<string, number | boolean>, e: number, grad: boolean) {
  const xv = x[e - p.xbase]!;
  const tv = t[e - p.xbase]!;
  const lw = c.HAS_PW ? 1 + (pw[(Math.floor(e / p.pdiv) % p.pmod) - p.pbase]! - 1) * tv : 1;
  const v = grad ? 1 - tv - lw * sigmoid(-xv) : (1 - tv) * xv + lw * Math.max(-xv, 0) + lw * Math.log1p(Math.exp(-Math.abs(xv)));
  return c.HAS_W ? v * w[(Math.floor(e / p.wdiv) % p.wmod) - p.wbase]! : v;
}

/**
 * bce_with_logits_fwd: the elementwise stable BCE-with-logits loss of global elements [e0, e0 + n); 'none' writes
 * out[e - xbase], REDUCE writes one partial sum per WG * K elements at out[jbase + k] (shaders/bce_with_logits_fwd.wgsl).
 */
export const bce_with_logits_fwd = defineKernel({
  name: 'bce_with_logits_fwd',
  reads: { x: 'f32', t: 'f32', w: 'f32', pw: 'f32' },
  writes: { out: 'f32' },
  params: { ...BCE_PARAMS, jbase: 'u32' },
  constants: { WG, K, REDUCE: false, HAS_W: false, HAS_PW: false },
  description: 'the stable BCE-with-logits loss per element (weight, pos_weight; REDUCE: partial sums per WG * K elements)',
  grid: (p, c) => grid1d(p.n, (c.WG as number) * (c.K as number)),
  cost: (p, c) => ({ flops: 8 * p.n, bytes: 4 * (2 * p.n + (c.REDUCE ? Math.ceil(p.n / ((c.WG as number) * (c.K as number))) : p.n)) }),
  tolerance: () => lossTol(),
  ref({ x, t, w, pw }, { out }, p, c) {
    const per = (c.WG as number) * (c.K as number);
    if (!c.REDUCE) {
      for (let l = 0; l < p.n; l++) out[p.e0 + l - p.xbase] = bceElem(x, t, w, pw, p, c, p.e0 + l, false);
      return;
    }
    for (let k = 0; k * per < p.n; k++) {
      out[p.jbase + k] = sumRange((l) => bceElem(x, t, w, pw, p, c, p.e0 + l, false), k * per, Math.min(p.n, (k + 1) * per));
    }
  },
});

/** bce_with_logits_bwd: gx = gl * d loss / d x; gl = g[0] * scale (G_SCALAR) or g[e - xbase]. */
export const bce_with_logits_bwd = defineKernel({
  name: 'bce_with_logits_bwd',
  reads: { x: 'f32', t: 'f32', w: 'f32', pw: 'f32', g: 'f32' },
  writes: { gx: 'f32' },
  params: { ...BCE_PARAMS, scale: 'f32' },
  constants: { WG, G_SCALAR: true, HAS_W: false, HAS_PW: false },
  description: 'gx = upstream gradient * d BCE-with-logits / dx per element',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p, c) => ({ flops: 7 * p.n, bytes: 4 * (c.G_SCALAR ? 3 : 4) * p.n }),
  tolerance: () => lossTol(),
  ref({ x, t, w, pw, g }, { gx }, p, c) {
    for (let l = 0; l < p.n; l++) {
      const e = p.e0 + l;
      const gl = c.G_SCALAR ? g[0]! * p.scale : g[e - p.xbase]!;
      gx[e - p.xbase] = gl * bceElem(x, t, w, pw, p, c, e, true);
    }
  },
});

function crossEntropyFwd(name: string, tdt: IndexTarget) {
  return defineKernel({
    name,
    shader: 'cross_entropy_fwd',
    family: 'cross_entropy_fwd',
    reads: { x: 'f32', tgt: tdt, w: 'f32' },
    writes: { lse: 'f32', out: 'f32' },
    params: { rows: 'u32', row0: 'u32', C: 'u32', inner: 'u32', xbase: 'u32', pbase: 'u32', jbase: 'u32', J: 'u32', ignore: 'i32' },
    constants: { WG, K, REDUCE: false, HAS_W: false, TGT_F32: tdt === 'f32' },
    description: `cross-entropy: log-sum-exp and weighted NLL per row (REDUCE: partial sums)${tdt === 'f32' ? ', f32 class indices' : ''}`,
    grid: (p, c) => grid1d(p.rows, (c.WG as number) * (c.K as number)),
    cost: (p) => ({ flops: 4 * p.rows * p.C, bytes: 4 * (p.rows * p.C + 3 * p.rows) }),
    tolerance: (p) => lossTol(p.C),
    ref({ x, tgt, w }, { lse, out }, p, c) {
      const row = nllRows(tgt, w, lse, out, p, c, p.rows);
      for (let l = 0; l < p.rows; l++) {
        const start = rowStart(p.row0 + l, p.C, p.inner, p.xbase);
        const [m, s] = maxSumExp(x, start, p.C, p.inner);
        row(l, m + Math.log(s), (t) => x[start + t * p.inner]!);
      }
    },
  });
}

function crossEntropyBwd(name: string, tdt: IndexTarget) {
  return defineKernel({
    name,
    shader: 'cross_entropy_bwd',
    family: 'cross_entropy_bwd',
    reads: { x: 'f32', tgt: tdt, w: 'f32', lse: 'f32', g: 'f32', sums: 'f32' },
    writes: { gx: 'f32' },
    params: { n: 'u32', e0: 'u32', C: 'u32', inner: 'u32', xbase: 'u32', pbase: 'u32', ignore: 'i32', scale: 'f32' },
    constants: { WG, G_MODE: 1, HAS_W: false, TGT_F32: tdt === 'f32' },
    description: `cross-entropy gradient gx = gl * w * (softmax - onehot) per element${tdt === 'f32' ? ', f32 class indices' : ''}`,
    grid: (p, c) => grid1d(p.n, c.WG as number),
    cost: (p) => ({ flops: 5 * p.n, bytes: 4 * (2 * p.n + (2 * p.n) / Math.max(1, p.C)) }),
    tolerance: (p) => lossTol(p.C),
    ref({ x, tgt, w, lse, g, sums }, { gx }, p, c) {
      const ci = p.C * p.inner;
      for (let l = 0; l < p.n; l++) {
        const e = p.e0 + l;
        const o = Math.floor(e / ci);
        const rem = e - o * ci;
        const cls = Math.floor(rem / p.inner);
        const r = o * p.inner + (rem - cls * p.inner);
        const t = classOf(tgt[r - p.pbase]!, !!c.TGT_F32);
        let v = 0;
        if (t !== p.ignore) {
          if (t >= 0 && t < p.C) {
            const wt = c.HAS_W ? w[t]! : 1;
            const gl = c.G_MODE === 0 ? g[r - p.pbase]! : c.G_MODE === 1 ? g[0]! * p.scale : g[0]! / sums[1]!;
            v = gl * wt * (Math.exp(x[e - p.xbase]! - lse[r - p.pbase]!) - (t === cls ? 1 : 0));
          } else v = NaN;
        }
        gx[e - p.xbase] = v;
      }
    },
  });
}

/** Dice target kinds: TGT 0 = one-hot / soft f32 shaped like probs, 1 = i32 class indices, 2 = f32 class indices. */
const DICE_TARGETS = { onehot: { TGT: 0, dt: 'f32' }, index: { TGT: 1, dt: 'i32' }, f32_index: { TGT: 2, dt: 'f32' } } as const;
type DiceTarget = keyof typeof DICE_TARGETS;
const DICE_TARGET_TEXT: Readonly<Record<DiceTarget, string>> = { onehot: 'one-hot / soft f32', index: 'i32 class indices', f32_index: 'f32 class indices' };

/** The target value of (plane q = n * C + c, pixel i): a one-hot element, or [index == c]. */
function diceTarget(tgt: NumArray, TGT: number, q: number, i: number, C: number, HW: number, tbase: number): number {
  if (TGT === 0) return tgt[q * HW + i - tbase]!;
  const n = Math.floor(q / C);
  const cls = classOf(tgt[n * HW + i - tbase]!, TGT === 2);
  // A class outside [0, C) (or an f32 index that is no integer) makes every class's sums NaN (dice_fwd.wgsl).
  if (cls < 0 || cls >= C) return NaN;
  return cls === q - n * C ? 1 : 0;
}

function diceFwd(kind: DiceTarget) {
  const { TGT, dt } = DICE_TARGETS[kind];
  return defineKernel({
    name: kind === 'onehot' ? 'dice_fwd' : `dice_fwd_${kind}`,
    shader: 'dice_fwd',
    family: 'dice_fwd',
    reads: { x: 'f32', tgt: dt },
    writes: { part: 'f32' },
    params: {
      pl0: 'u32', npl: 'u32', i0: 'u32', ni: 'u32', cpp: 'u32', jc0: 'u32', CPPG: 'u32', J: 'u32', C: 'u32', HW: 'u32', xbase: 'u32', tbase: 'u32',
    },
    constants: { WG, K, TGT },
    description: `soft Dice partial sums (intersection, prediction, target) per class and chunk; targets ${DICE_TARGET_TEXT[kind]}`,
    grid: (p) => [Math.max(1, p.npl * p.cpp)],
    cost: (p) => ({ flops: 4 * p.npl * p.ni, bytes: 4 * (2 * p.npl * p.ni + 3 * p.npl * p.cpp) }),
    tolerance: (p) => lossTol(p.C),
    ref({ x, tgt }, { part }, p, c) {
      const per = (c.WG as number) * (c.K as number);
      for (let pl = 0; pl < p.npl; pl++) {
        const q = p.pl0 + pl;
        const n = Math.floor(q / p.C);
        const cls = q - n * p.C;
        for (let ch = 0; ch < p.cpp; ch++) {
          let ai = 0;
          let ap = 0;
          let at = 0;
          for (let il = ch * per; il < Math.min(p.ni, (ch + 1) * per); il++) {
            const i = p.i0 + il;
            const xv = x[q * p.HW + i - p.xbase]!;
            const tv = diceTarget(tgt, c.TGT as number, q, i, p.C, p.HW, p.tbase);
            ai += xv * tv;
            ap += xv;
            at += tv;
          }
          const slot = n * p.CPPG + p.jc0 + ch;
          part[cls * p.J + slot] = ai;
          part[(p.C + cls) * p.J + slot] = ap;
          part[(2 * p.C + cls) * p.J + slot] = at;
        }
      }
    },
  });
}

function diceBwd(kind: DiceTarget) {
  const { TGT, dt } = DICE_TARGETS[kind];
  return defineKernel({
    name: kind === 'onehot' ? 'dice_bwd' : `dice_bwd_${kind}`,
    shader: 'dice_bwd',
    family: 'dice_bwd',
    reads: { tgt: dt, sums: 'f32', g: 'f32' },
    writes: { gx: 'f32' },
    params: { n: 'u32', e0: 'u32', C: 'u32', HW: 'u32', xbase: 'u32', tbase: 'u32', smoothing: 'f32', scale: 'f32' },
    constants: { WG, TGT, COMBINED: true },
    description: `soft Dice gradient per element from the class sums; targets ${DICE_TARGET_TEXT[kind]}`,
    grid: (p, c) => grid1d(p.n, c.WG as number),
    cost: (p) => ({ flops: 6 * p.n, bytes: 8 * p.n }),
    tolerance: (p) => lossTol(p.C),
    ref({ tgt, sums, g }, { gx }, p, c) {
      for (let l = 0; l < p.n; l++) {
        const e = p.e0 + l;
        const q = Math.floor(e / p.HW);
        const i = e - q * p.HW;
        const cls = q % p.C;
        const tv = c.TGT === 0 ? tgt[e - p.tbase]! : diceTarget(tgt, c.TGT as number, q, i, p.C, p.HW, p.tbase);
        const d = sums[p.C + cls]! + sums[2 * p.C + cls]! + p.smoothing;
        const num = 2 * sums[cls]! + p.smoothing;
        const gl = c.COMBINED ? g[0]! * p.scale : g[cls]!;
        gx[e - p.xbase] = gl * (num / (d * d) - (2 * tv) / d);
      }
    },
  });
}

const f32Bits = new Uint32Array(1);
const f32View = new Float32Array(f32Bits.buffer);
/** The raw 32 bits of a target element as the GPU reads it (an f32 target's float bits, an integer's two's complement). */
function rawBits(v: number, f32: boolean): number {
  if (!f32) return v >>> 0;
  f32View[0] = v;
  return f32Bits[0]!;
}

function classTargetCheck(name: string, tdt: IndexTarget) {
  return defineKernel({
    name,
    shader: 'class_target_check',
    family: 'class_target_check',
    reads: { tgt: tdt },
    writes: { flag: 'u32' },
    params: { n: 'u32', off: 'u32', C: 'u32', ignore: 'i32', slot: 'u32' },
    constants: { WG: 256, TGT_F32: tdt === 'f32', IGNORE: true },
    description: `counts class targets outside [0, C) and not ignore${tdt === 'f32' ? ' (f32 targets: or no integer)' : ''} into the device's check flags, with one bad value`,
    grid: (p, c) => grid1d(p.n, c.WG as number),
    cost: (p) => ({ flops: 2 * p.n, bytes: 4 * p.n }),
    tolerance: () => 'exact',
    ref({ tgt }, { flag }, p, c) {
      for (let r = 0; r < p.n; r++) {
        const v = tgt[p.off + r]!;
        const t = classOf(v, !!c.TGT_F32);
        if ((c.IGNORE && t === p.ignore) || (t >= 0 && t < p.C)) continue;
        flag[2 * p.slot] = (flag[2 * p.slot]! + 1) >>> 0;
        flag[2 * p.slot + 1] = Math.max(flag[2 * p.slot + 1]!, rawBits(v, !!c.TGT_F32));
      }
    },
  });
}

/**
 * class_target_check: for every class target of a launch that is not a class (nor the ignore index), adds 1 to
 * flag[2 slot] and keeps the largest raw bits in flag[2 slot + 1] (atomics): the device's deferred check of a loss's
 * targets (DeviceChecks), read at the next readback.
 */
export const class_target_check = classTargetCheck('class_target_check', 'i32');
export const class_target_check_f32_index = classTargetCheck('class_target_check_f32_index', 'f32');

/** loss_reduce MODE: how the group sums become the loss value (shaders/loss_reduce.wgsl). */
export const LOSS_REDUCE_MODES = { scaled: 0, ratio: 1, dice: 2, dice_per_class: 3 } as const;

/**
 * loss_reduce: sums[g] = sum of the J partials of group g (fixed order), then y by MODE: scale * sums[0], sums[0] /
 * sums[1], or the soft Dice of [I, P, T] per class (combined: scale * sum over classes; per class: y[c]).
 */
export const loss_reduce = defineKernel({
  name: 'loss_reduce',
  reads: { part: 'f32' },
  writes: { y: 'f32', sums: 'f32' },
  params: { G: 'u32', J: 'u32', C: 'u32', scale: 'f32', smoothing: 'f32' },
  constants: { WG, MODE: 0 },
  description: 'sums the partials of each group in a fixed order, then the loss value by MODE (scaled, ratio, Dice)',
  grid: () => [1],
  cost: (p) => ({ flops: p.G * p.J, bytes: 4 * (p.G * p.J + p.G) }),
  tolerance: (p) => sumOf(p.J, true),
  ref({ part }, { y, sums }, p, c) {
    for (let g = 0; g < p.G; g++) sums[g] = sumRange((j) => part[g * p.J + j]!, 0, p.J);
    if (c.MODE === 0) y[0] = p.scale * sums[0]!;
    else if (c.MODE === 1) y[0] = sums[0]! / sums[1]!;
    else {
      let acc = 0;
      for (let k = 0; k < p.C; k++) {
        const v = 1 - (2 * sums[k]! + p.smoothing) / (sums[p.C + k]! + sums[2 * p.C + k]! + p.smoothing);
        if (c.MODE === 3) y[k] = v;
        else acc += v;
      }
      if (c.MODE === 2) y[0] = p.scale * acc;
    }
  },
});

export const cross_entropy_fwd = crossEntropyFwd('cross_entropy_fwd', 'i32');
export const cross_entropy_fwd_f32_index = crossEntropyFwd('cross_entropy_fwd_f32_index', 'f32');
export const cross_entropy_bwd = crossEntropyBwd('cross_entropy_bwd', 'i32');
export const cross_entropy_bwd_f32_index = crossEntropyBwd('cross_entropy_bwd_f32_index', 'f32');
export const cross_entropy_plane_fwd = crossEntropyPlaneFwd('cross_entropy_plane_fwd', 'i32');
export const cross_entropy_plane_fwd_f32_index = crossEntropyPlaneFwd('cross_entropy_plane_fwd_f32_index', 'f32');
export const DICE_FWD = { onehot: diceFwd('onehot'), index: diceFwd('index'), f32_index: diceFwd('f32_index') } as const;
export const DICE_BWD = { onehot: diceBwd('onehot'), index: diceBwd('index'), f32_index: diceBwd('f32_index') } as const;
export type { DiceTarget };

/** The loss kernels (specs + CPU references). */
export const LOSS_KERNELS = defineGroup('loss', {
  class_target_check,
  class_target_check_f32_index,
  cross_entropy_plane_fwd,
  cross_entropy_plane_fwd_f32_index,
  bce_with_logits_fwd,
  bce_with_logits_bwd,
  cross_entropy_fwd,
  cross_entropy_fwd_f32_index,
  cross_entropy_bwd,
  cross_entropy_bwd_f32_index,
  dice_fwd: DICE_FWD.onehot,
  dice_fwd_index: DICE_FWD.index,
  dice_fwd_f32_index: DICE_FWD.f32_index,
  dice_bwd: DICE_BWD.onehot,
  dice_bwd_index: DICE_BWD.index,
  dice_bwd_f32_index: DICE_BWD.f32_index,
  loss_reduce,
} satisfies Record<string, KernelSpec>);
