// The kernel lab's cases: per family of ops, small random calls whose kernel launches (recorded on the CPU device:
// params, constants and input data) are valid cases for every kernel the ops use, forward and backward. The same
// runners, given an input shape on the meta device, give the launches of one explicit shape (`kernels bench --shape`).
import type { Constants } from '../kernels/define_kernel.js';
import { KERNELS } from '../kernels/index.js';
import { UNARY } from '../kernels/elementwise.js';
import { lab_peak_copy, lab_peak_fma } from '../kernels/lab.js';
import { getDefaultDevice, noGrad } from '../tensor/context.js';
import { withKernelPolicy } from '../kernels/policy.js';
import { full, rand, randint, randn } from '../tensor/creation.js';
import { LimitError } from '../core/errors.js';
import * as F from '../tensor/ops/index.js';
import { empty, launch } from '../tensor/ops/util.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** Options of an explicit --shape (`k=v` pairs after the input shape), e.g. cout=128,k=3,s=1,p=0. */
export type ShapeOptions = Record<string, number>;

/** A family of ops whose launches cover some kernels. Runs on the default device (a recorder). */
export interface LabGroup {
  /** Kernel names (registry keys) this group's calls launch. */
  readonly kernels: readonly string[];
  /** Small random calls (forward and backward) drawn from `r`. */
  cases(r: Rng): void;
  /** The calls for input shape `x` (and options), for launches of one explicit shape on the meta device. */
  shape?(x: readonly number[], o: ShapeOptions): void;
  /** A short description of a launch of one of its kernels (bench tables). */
  describe?(kernel: string, p: Readonly<Record<string, number>>): string | null;
}

const randInt = (r: Rng, lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo + 1));
const odd = (r: Rng, lo: number, hi: number) => randInt(r, lo, hi) | 1;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[randInt(r, 0, xs.length - 1)]!;
const seed = (r: Rng) => r.nextU32();
/** A leaf that requires grad. */
const leaf = (t: Tensor) => t.requiresGrad_();

/** y.backward with a random upstream gradient of y's shape (a scalar gets the implicit 1). */
function back(r: Rng, y: Tensor): void {
  if (y.numel === 1 && y.ndim === 0) return y.backward();
  y.backward(noGrad(() => randn(y.shape, { seed: seed(r) })));
}

/** Runs `fn`, ignoring a LimitError (the tiny-limit recorder refuses what it cannot split). */
function attempt(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof LimitError)) throw e;
  }
}

const UNARY_NAMES = Object.keys(UNARY) as (keyof typeof UNARY)[];
const BINARY_NAMES = ['add', 'lhs', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'gt', 'lt'] as const;

const UNARY_OPS: Record<(typeof UNARY_NAMES)[number], (x: Tensor) => Tensor> = {
  neg: F.neg, exp: F.exp, log: F.log, sqrt: F.sqrt, abs: F.abs, relu: F.relu,
  leaky_relu: (x) => F.leakyRelu(x, 0.1), sigmoid: F.sigmoid, tanh: F.tanh,
};

const elementwise: LabGroup = {
  kernels: [...UNARY_NAMES, ...UNARY_NAMES.map((n) => `${n}_bwd`), ...BINARY_NAMES, 'fill'],
  cases(r) {
    const shape = [randInt(r, 1, 2), pick(r, [1, 3, randInt(r, 2, 5)]), odd(r, 3, 9), odd(r, 3, 13)];
    for (const name of UNARY_NAMES) {
      // log and sqrt on positive inputs.
      const x = leaf(name === 'log' || name === 'sqrt' ? rand(shape, { seed: seed(r), low: 0.25, high: 2 }) : randn(shape, { seed: seed(r) }));
      back(r, UNARY_OPS[name](x));
    }
    const a = leaf(randn(shape, { seed: seed(r) }));
    // b broadcasts along batch and rows, or has the full shape.
    const bshape = r.uniform() < 0.5 ? shape : [1, shape[1]!, 1, shape[3]!];
    const b = leaf(randn(bshape, { seed: seed(r) }));
    const pos = leaf(rand(shape, { seed: seed(r), low: 0.5, high: 2 }));
    for (const f of [F.add, F.sub, F.mul, F.div, F.maximum, F.minimum]) back(r, f(a, b));
    back(r, F.pow(pos, b));
    noGrad(() => [F.eq(a, b), F.gt(a, b), F.lt(a, b), F.expand(b, shape), full(shape, r.normal())]);
  },
  shape(x) {
    const r = new Rng(1);
    const a = leaf(randn(x));
    for (const f of Object.values(UNARY_OPS)) back(r, f(a));
    const b = leaf(randn(x));
    for (const f of [F.add, F.sub, F.mul, F.div, F.pow, F.maximum, F.minimum]) back(r, f(a, b));
    noGrad(() => [F.eq(a, b), F.gt(a, b), F.lt(a, b), F.expand(b, x), full(x, 1)]);
  },
};

const reduce: LabGroup = {
  kernels: ['reduce'],
  cases(r) {
    const shape = [randInt(r, 1, 3), randInt(r, 1, 5), odd(r, 3, 11), odd(r, 3, 13)];
    const x = randn(shape, { seed: seed(r) });
    noGrad(() => [F.sum(x), F.mean(x, [0, 2, 3]), F.max(x, 1), F.sum(x, [2, 3], true), F.max(x)]);
  },
  shape(x) {
    const t = randn(x);
    noGrad(() => [F.sum(t), F.mean(t, [0, 2, 3])]);
  },
};

const matmul: LabGroup = {
  kernels: ['matmul'],
  cases(r) {
    const [m, k, n] = [randInt(r, 1, 17), randInt(r, 1, 33), randInt(r, 1, 19)];
    back(r, F.matmul(leaf(randn([m, k], { seed: seed(r) })), leaf(randn([k, n], { seed: seed(r) }))));
  },
  shape(x, o) {
    const [m = 64, k = 64] = x;
    back(new Rng(1), F.matmul(leaf(randn([m, k])), leaf(randn([k, o.n ?? m]))));
  },
};

/** conv2d (and the transposed conv) geometry for --shape: cout, k, s (stride), p (padding, -1 = 'same'), bias. */
function convShape(x: readonly number[], o: ShapeOptions): void {
  const [, c = 1] = x;
  const cout = o.cout ?? c;
  const k = o.k ?? 3;
  const r = new Rng(1);
  const xt = leaf(randn(x));
  const bias = (o.bias ?? 1) ? leaf(randn([cout])) : null;
  if (!o.t) back(r, F.conv2d(xt, leaf(randn([cout, c, k, k])), bias, { stride: o.s ?? 1, padding: (o.p ?? 0) < 0 ? 'same' : (o.p ?? 0) }));
  if (o.t !== 0) {
    const kt = o.t ? k : 2;
    back(r, F.convTranspose2d(xt, leaf(randn([c, cout, kt, kt])), bias, { stride: o.s ?? kt }));
  }
}

const fmtConv = (p: Readonly<Record<string, number>>) =>
  `${p.n}x${p.cin}x${p.h}x${p.w} -> ${p.cout}x${p.oh}x${p.ow} k${p.kh}x${p.kw} s${p.sh} p${p.ph}`;

const conv: LabGroup = {
  kernels: ['conv2d_fwd', 'conv2d_fwd_sg', 'conv_transpose2d_fwd', 'conv_transpose2d_fwd_sg', 'conv2d_bwd_weight', 'conv2d_bwd_weight_sg', 'conv_bwd_bias', 'conv_partial_sum', 'conv_weight_pack',
    'winograd_weight', 'winograd_input', 'winograd_gemm', 'winograd_output', 'winograd_grad', 'winograd_wgrad_gemm', 'winograd_wgrad_output'],
  cases(r) {
    const n = randInt(r, 1, 2);
    const cin = pick(r, [1, 3, randInt(r, 2, 9)]);
    const cout = pick(r, [1, 3, randInt(r, 2, 13)]);
    const k = pick(r, [1, 3, 3, randInt(r, 1, 4)]);
    const [h, w] = [odd(r, k + 2, 13), odd(r, k + 2, 15)];
    const stride = pick(r, [1, 1, 2]);
    const padding = stride === 1 && r.uniform() < 0.5 ? 'same' : pick(r, [0, 1]);
    const x = leaf(randn([n, cin, h, w], { seed: seed(r) }));
    const bias = r.uniform() < 0.7 ? leaf(randn([cout], { seed: seed(r) })) : null;
    attempt(() => back(r, F.conv2d(x, leaf(randn([cout, cin, k, k], { seed: seed(r), std: 0.3 })), bias, { stride, padding })));
    const kt = pick(r, [2, 2, 3]);
    const st = pick(r, [kt, 1, 2]);
    attempt(() => back(r, F.convTranspose2d(x, leaf(randn([cin, cout, kt, kt], { seed: seed(r), std: 0.3 })), bias, { stride: st })));
    // The subgroup forward kernels (forced: the CPU recorder has no adapter), on wide channels with a cin % 8 tail.
    const dev = getDefaultDevice();
    withKernelPolicy(dev, { convForward: 'subgroup' }, () => {
      const [ci, co] = [randInt(r, 8, 20), randInt(r, 5, 24)];
      const xw = leaf(randn([n, ci, h, w], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, k, k], { seed: seed(r), std: 0.3 })), null, { stride, padding })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, kt, kt], { seed: seed(r), std: 0.3 })), null, { stride: st })));
    });
    // Winograd F(4x4, 3x3) (forced, as above): 3x3 stride-1 convs both ways (their input and weight gradients too), any
    // padding.
    withKernelPolicy(dev, { convForward: 'winograd', convWeightGrad: 'winograd' }, () => {
      const [ci, co] = [randInt(r, 1, 20), randInt(r, 1, 40)];
      const xw = leaf(randn([n, ci, h, w], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, 3, 3], { seed: seed(r), std: 0.3 })), bias && co === cout ? bias : null, { padding: pick(r, [0, 1, 2]) })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: pick(r, [0, 1]) })));
    });
    // The subgroup weight-gradient kernel (forced, as above) on the U-Net's geometries (3x3 'same', the 2x2 stride-2
    // up-conv, 1x1) and on this round's random one (its general path).
    withKernelPolicy(dev, { convWeightGrad: 'subgroup' }, () => {
      const [ci, co] = [randInt(r, 3, 20), randInt(r, 3, 20)];
      const xw = randn([n, ci, h, w], { seed: seed(r) });
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: 1 })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, 2, 2], { seed: seed(r), std: 0.3 })), null, { stride: 2 })));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, 1, 1], { seed: seed(r), std: 0.3 })), null)));
      attempt(() => back(r, F.conv2d(x, leaf(randn([cout, cin, k, k], { seed: seed(r), std: 0.3 })), null, { stride, padding })));
    });
  },
  shape: convShape,
  describe(kernel, p) {
    if (kernel.startsWith('conv2d_fwd') || kernel.startsWith('conv_transpose2d_fwd')) return fmtConv(p);
    if (kernel.startsWith('conv2d_bwd_weight')) return `g ${p.n}x${p.a}x${p.gh}x${p.gw} * x ${p.b}x${p.xh}x${p.xw} k${p.kh}x${p.kw} s${p.sh} slices ${p.nslices}`;
    if (kernel === 'conv_bwd_bias') return `${p.n}x${p.c}x${p.h}x${p.w} slices ${p.nslices}`;
    if (kernel === 'winograd_gemm') return `36 x [${p.cp} x ${p.cin}] * [${p.cin} x ${p.t4 * 4} tiles]`;
    if (kernel === 'winograd_input') return `${p.nn}x${p.cin}x${p.h}x${p.w} tile rows ${p.ty0}+${p.bt}`;
    if (kernel === 'winograd_wgrad_gemm') return `36 x [${p.a} x ${p.t4 * 4} tiles] * [${p.t4 * 4} tiles x ${p.b}] in ${p.nslices} slices`;
    if (kernel === 'winograd_grad') return `${p.nn}x${p.a}x${p.gh}x${p.gw} tile rows ${p.ty0}+${p.bt}`;
    if (kernel === 'winograd_output') return `${p.nn}x${p.cout}x${p.oh}x${p.ow} tile rows ${p.ty0}+${p.bt}`;
    return null;
  },
};

const pool: LabGroup = {
  kernels: ['maxpool2d_fwd', 'maxpool2d_bwd', 'maxpool2d_bwd_k2s2'],
  cases(r) {
    const x = leaf(randn([randInt(r, 1, 2), pick(r, [1, 3, randInt(r, 2, 6)]), odd(r, 3, 13), odd(r, 3, 15)], { seed: seed(r) }));
    const k = pick(r, [2, 2, 3]);
    attempt(() => back(r, F.maxPool2d(x, { kernelSize: k, stride: pick(r, [k, 1, 2]), padding: pick(r, [0, Math.floor(k / 2)]) })));
    attempt(() => back(r, F.maxPool2d(x, { kernelSize: 2, ceilMode: r.uniform() < 0.5 })));
    attempt(() => noGrad(() => F.maxPool2dWithIndices(x, { kernelSize: 2 })));
  },
  shape(x, o) {
    back(new Rng(1), F.maxPool2d(leaf(randn(x)), { kernelSize: o.k ?? 2 }));
  },
};

const batchNorm: LabGroup = {
  kernels: [
    'batchnorm2d_stats', 'batchnorm2d_stats_vec4', 'batchnorm2d_finalize', 'batchnorm2d_fwd', 'batchnorm2d_fwd_vec4',
    'batchnorm2d_bwd_reduce', 'batchnorm2d_bwd_reduce_vec4', 'batchnorm2d_bwd_finalize', 'batchnorm2d_bwd_dx', 'batchnorm2d_bwd_dx_vec4',
  ],
  cases(r) {
    // An odd plane runs the portable kernels, a plane of 4k elements the vec4 variants.
    for (const w4 of [odd(r, 3, 13), 4 * randInt(r, 1, 4)]) {
      const c = pick(r, [1, 3, randInt(r, 2, 9)]);
      const shape = [randInt(r, 1, 3), c, odd(r, 1, 11), w4];
      const x = leaf(randn(shape, { seed: seed(r), mean: 0.5, std: 2 }));
      const rm = randn([c], { seed: seed(r), std: 0.1 });
      const rv = rand([c], { seed: seed(r), low: 0.5, high: 1.5 });
      const affine = r.uniform() < 0.7;
      const w = affine ? leaf(randn([c], { seed: seed(r) })) : null;
      const b = affine ? leaf(randn([c], { seed: seed(r) })) : null;
      attempt(() => back(r, F.batchNorm(x, rm, rv, w, b, { training: true })));
      attempt(() => back(r, F.batchNorm(x, rm, rv, w, b, { training: false })));
      attempt(() => back(r, F.batchNormRelu(x, rm, rv, w, b, { training: r.uniform() < 0.7 })));
    }
  },
  shape(x) {
    const c = x[1] ?? 1;
    back(new Rng(1), F.batchNormRelu(leaf(randn(x)), full([c], 0), full([c], 1), leaf(randn([c])), leaf(randn([c])), { training: true }));
  },
};

const movement: LabGroup = {
  kernels: ['concat', 'pad', 'interpolate_nearest', 'interpolate_nearest_bwd', 'interpolate_bilinear', 'interpolate_bilinear_bwd', 'dropout'],
  cases(r) {
    const [n, h, w] = [randInt(r, 1, 2), odd(r, 3, 9), odd(r, 3, 11)];
    const a = leaf(randn([n, randInt(r, 1, 4), h, w], { seed: seed(r) }));
    const b = leaf(randn([n, randInt(r, 1, 4), h, w], { seed: seed(r) }));
    attempt(() => back(r, withKernelPolicy(a.device, { cat: 'kernel' }, () => F.cat([a, b], 1))));
    attempt(() => back(r, F.pad(a, [randInt(r, -1, 2), randInt(r, 0, 3), randInt(r, 0, 2), randInt(r, -1, 1)], r.normal())));
    attempt(() => back(r, F.interpolate(a, { scaleFactor: 2 })));
    attempt(() => back(r, F.interpolate(a, { size: [odd(r, 3, 17), odd(r, 3, 17)] })));
    attempt(() => back(r, F.interpolate(a, { scaleFactor: 2, mode: 'bilinear', alignCorners: r.uniform() < 0.5 })));
    attempt(() => back(r, F.dropout(a, 0.3, true, { seed: seed(r), channels: r.uniform() < 0.3 })));
  },
  shape(x, o) {
    const a = leaf(randn(x));
    const r = new Rng(1);
    back(r, withKernelPolicy(a.device, { cat: 'kernel' }, () => F.cat([a, leaf(randn(x))], 1)));
    back(r, F.pad(a, [o.p ?? 1, o.p ?? 1, o.p ?? 1, o.p ?? 1]));
    back(r, F.interpolate(a, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }));
  },
};

const LOSS_KERNELS = Object.keys(KERNELS).filter((k) => /^(softmax|bce_with_logits|cross_entropy|dice|loss_reduce)/.test(k));

const loss: LabGroup = {
  kernels: LOSS_KERNELS,
  cases(r) {
    const C = pick(r, [1, 3, randInt(r, 2, 6)]);
    const [n, h, w] = [randInt(r, 1, 2), odd(r, 1, 9), odd(r, 3, 11)];
    const x = leaf(randn([n, C, h, w], { seed: seed(r), std: 2 }));
    attempt(() => back(r, F.softmax(x, 1)));
    attempt(() => back(r, F.logSoftmax(x, 1)));
    const t = noGrad(() => F.gt(rand([n, C, h, w], { seed: seed(r) }), 0.5));
    const pw = rand([C, 1, 1], { seed: seed(r), low: 0.5, high: 2 });
    attempt(() => back(r, F.bceWithLogits(x, t)));
    attempt(() => back(r, F.bceWithLogits(x, t, { reduction: 'none', posWeight: pw, weight: rand([1, C, 1, 1], { seed: seed(r) }) })));
    const ti = randint(0, C, [n, h, w], { seed: seed(r) });
    const tf = randint(0, C, [n, h, w], { seed: seed(r), dtype: 'f32' });
    const cw = rand([C], { seed: seed(r), low: 0.5, high: 2 });
    attempt(() => back(r, F.crossEntropy(x, ti)));
    attempt(() => back(r, F.crossEntropy(x, tf, { weight: cw, reduction: pick(r, ['sum', 'none'] as const) })));
    const probs = leaf(rand([n, C, h, w], { seed: seed(r) }));
    const onehot = rand([n, C, h, w], { seed: seed(r) });
    attempt(() => back(r, F.diceLoss(probs, onehot)));
    attempt(() => back(r, F.diceLoss(probs, ti, { reduction: 'none' })));
    attempt(() => back(r, F.diceLoss(probs, tf, { reduction: 'sum' })));
    // Rows of (C - 1) * H * W >= 512 elements: with SPLIT_LIMITS the per-plane kernels (rows over one binding).
    const big = leaf(randn([1, 4, odd(r, 13, 15), odd(r, 15, 17)], { seed: seed(r), std: 2 }));
    const [bh, bw] = [big.shape[2]!, big.shape[3]!];
    attempt(() => back(r, F.softmax(big, 1)));
    attempt(() => back(r, F.logSoftmax(big, 1)));
    attempt(() => back(r, F.crossEntropy(big, randint(0, 4, [1, bh, bw], { seed: seed(r) }))));
    attempt(() => back(r, F.crossEntropy(big, randint(0, 4, [1, bh, bw], { seed: seed(r), dtype: 'f32' }), { reduction: 'none' })));
  },
  shape(x) {
    const r = new Rng(1);
    const logits = leaf(randn(x));
    back(r, F.bceWithLogits(logits, rand(x)));
    const [n = 1, , ...sp] = x;
    back(r, F.crossEntropy(logits, randint(0, x[1] ?? 1, [n, ...sp])));
  },
};

const optim: LabGroup = {
  kernels: ['sgd_update', 'adam_update'],
  cases(r) {
    const shape = [randInt(r, 1, 9), odd(r, 3, 33)];
    const p = () => randn(shape, { seed: seed(r) });
    const g = p();
    const buf = p();
    noGrad(() => {
      F.sgdUpdate(p(), g, null, false, { lr: 0.1, weightDecay: pick(r, [0, 0.01]) });
      F.sgdUpdate(p(), g, buf, true, { lr: 0.1, momentum: 0.9 });
      const nesterov = r.uniform() < 0.5;
      F.sgdUpdate(p(), g, buf, false, { lr: 0.1, momentum: 0.9, dampening: nesterov ? 0 : 0.1, nesterov, weightDecay: 0.01 });
      const v = () => rand(shape, { seed: seed(r) });
      F.adamUpdate(p(), g, p(), v(), null, randInt(r, 1, 20), { lr: 1e-3, weightDecay: pick(r, [0, 0.01]) });
      F.adamUpdate(p(), g, p(), v(), v(), randInt(r, 1, 20), { lr: 1e-3, decoupled: true, amsgrad: true, weightDecay: 0.01 });
    });
  },
  shape(x) {
    noGrad(() => {
      F.sgdUpdate(randn(x), randn(x), randn(x), false, { lr: 0.1, momentum: 0.9 });
      F.adamUpdate(randn(x), randn(x), randn(x), rand(x), null, 3, { lr: 1e-3 });
    });
  },
};

const lab: LabGroup = {
  kernels: ['lab_peak_fma', 'lab_peak_copy'],
  cases(r) {
    const n = randInt(r, 1, 300);
    const x = randn([n], { seed: seed(r) });
    const y = empty(x.device, [n]);
    launch(lab_peak_fma, { x }, { y }, { n, iters: randInt(r, 0, 9), m: 0.9375 + 0.0625 * r.uniform(), c: r.normal() * 0.1 });
    const n4 = randInt(r, 1, 400);
    const a = randn([4 * n4], { seed: seed(r) });
    const b = empty(x.device, [4 * n4]);
    launch(lab_peak_copy, { x: a }, { y: b }, { n4 });
  },
  shape(x) {
    const n = x.reduce((a, b) => a * b, 1);
    const t = randn([n]);
    launch(lab_peak_copy, { x: t }, { y: empty(t.device, [n]) }, { n4: Math.floor(n / 4) });
  },
};

/** The lab's groups by family of ops; `kernels check` runs each group's cases on the CPU and replays them on the GPU. */
export const LAB_GROUPS: Readonly<Record<string, LabGroup>> = { elementwise, reduce, matmul, conv, pool, batchNorm, movement, loss, optim, lab };

/** The group whose calls launch `kernel`, if any. */
export function groupOf(kernel: string): LabGroup | undefined {
  return Object.values(LAB_GROUPS).find((g) => g.kernels.includes(kernel));
}

/**
 * Extra constant sets a kernel is also checked with, on every recorded case (variants the ops only pick for big
 * tensors, or never at small sizes). Only constants whose other value is valid for the same bindings.
 */
export const CONSTANT_VARIANTS: Readonly<Record<string, readonly Constants[]>> = {
  conv2d_fwd: [{ CO8: false }, { ACCUMULATE: true }],
  conv_transpose2d_fwd: [{ CO8: false }, { ACCUMULATE: true }],
  conv2d_fwd_sg: [{ CO16: false }, { CO16: false, CO8: false }, { ACCUMULATE: true }],
  conv_transpose2d_fwd_sg: [{ CO16: false }, { CO16: false, CO8: false }, { ACCUMULATE: true }],
  // Its general path, valid for every geometry.
  conv2d_bwd_weight_sg: [{ PATH: 4 }],
  conv_partial_sum: [{ ACCUMULATE: true }],
  winograd_gemm: [{ CO: 16 }, { CO: 32 }, { ACCUMULATE: true }],
  winograd_wgrad_gemm: [{ ACCUMULATE: true }],
  winograd_wgrad_output: [{ ACCUMULATE: true }],
  maxpool2d_fwd: [{ INDICES: false }],
  lab_peak_fma: [{ VEC4: false }],
};

/**
 * How a kernel's GPU output may differ from its float32 reference: 'exact' (data movement, selections), or the
 * length k of the longest sum one output element is (tolerance grows like sqrt(k)), with `loose` for kernels with
 * transcendental functions (exp, log, tanh, pow: a few ulp by the WGSL spec).
 */
export type Tolerance = 'exact' | { k: number; loose?: boolean };

const EXACT = new Set([
  'concat', 'pad', 'maxpool2d_fwd', 'maxpool2d_bwd', 'interpolate_nearest', 'conv_weight_pack', 'fill', 'lab_peak_copy',
  'neg', 'abs', 'relu', 'neg_bwd', 'relu_bwd', 'lhs', 'maximum', 'minimum', 'eq', 'gt', 'lt',
]);

/** The tolerance of one launch of `kernel`. */
export function toleranceOf(kernel: string, p: Readonly<Record<string, number>>): Tolerance {
  if (EXACT.has(kernel)) return 'exact';
  const r = (k: number, loose = false): Tolerance => ({ k: Math.max(1, k), loose });
  switch (kernel) {
    case 'conv2d_fwd':
    case 'conv2d_fwd_sg':
    case 'conv_transpose2d_fwd':
    case 'conv_transpose2d_fwd_sg':
      return r(p.cin! * p.kh! * p.kw! + 1);
    case 'conv2d_bwd_weight':
    case 'conv2d_bwd_weight_sg':
      return r(p.rows! * p.gw!);
    case 'conv_bwd_bias':
      return r(p.rows! * p.w!);
    case 'conv_partial_sum':
      return r(p.s! + 1);
    // The transforms' sums have up to 9 (filter) or 36 (data, output) terms with coefficients up to 25.
    case 'winograd_weight':
      return r(9);
    case 'winograd_input':
    case 'winograd_output':
      return r(36 * 25);
    case 'winograd_gemm':
      return r(p.cin!);
    case 'winograd_grad':
      return r(16 * 8);
    case 'winograd_wgrad_gemm':
      return r(p.s_len! * 4);
    case 'winograd_wgrad_output':
      return r(36 * p.nslots!);
    case 'matmul':
      return r(p.k!);
    case 'reduce':
      return r(p.chunk!);
    case 'batchnorm2d_stats':
    case 'batchnorm2d_bwd_reduce':
      return r(p.chunk! * 2);
    case 'batchnorm2d_finalize':
    case 'batchnorm2d_bwd_finalize':
      return r(p.ktot! * 2);
    case 'loss_reduce':
      return r(p.J!, true);
    case 'lab_peak_fma':
      return r(24);
    case 'interpolate_nearest_bwd':
    case 'interpolate_bilinear':
    case 'interpolate_bilinear_bwd':
      return r(16);
  }
  // Losses: sums over a class dim or a workgroup's WG * K items, with exp / log.
  if (LOSS_KERNELS.includes(kernel)) return r(Math.max(p.D ?? 0, p.C ?? 0, 1024), true);
  return r(4, true);
}
