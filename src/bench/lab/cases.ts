// The kernel lab's cases: per source group of kernels, small random op calls whose kernel launches (recorded on the CPU
// device: params, constants and input data) are valid cases for every kernel of the group, forward and backward. The
// same runners, given an input shape on the meta device, give the launches of one explicit shape (`kernels bench
// --shape`). What is known of each kernel (tolerance, extra constant sets, launch descriptions) is on its spec.
import { kernelGroup } from '../../kernels/index.js';
import { UNARY } from '../../kernels/elementwise.js';
import { lab_peak_copy, lab_peak_fma } from '../../kernels/lab.js';
import { getDefaultDevice, noGrad } from '../../tensor/context.js';
import { withKernelPolicy } from '../../kernels/policy.js';
import { full, rand, randint, randn } from '../../tensor/creation.js';
import { LimitError } from '../../core/errors.js';
import * as F from '../../tensor/ops/index.js';
import { empty, launch } from '../../tensor/ops/util.js';
import { Rng } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Options of an explicit --shape (`k=v` pairs after the input shape), e.g. cout=128,k=3,s=1,p=0. */
export type ShapeOptions = Record<string, number>;

/** The op calls whose launches cover the kernels of one source group. Runs on the default device (a recorder). */
export interface LabGroup {
  /** Small random calls (forward and backward) drawn from `r`. */
  cases(r: Rng): void;
  /** The calls for input shape `x` (and options), for launches of one explicit shape on the meta device. */
  shape?(x: readonly number[], o: ShapeOptions): void;
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

const UNARY_OPS: Record<(typeof UNARY_NAMES)[number], (x: Tensor) => Tensor> = {
  neg: F.neg, exp: F.exp, log: F.log, sqrt: F.sqrt, abs: F.abs, relu: F.relu,
  leaky_relu: (x) => F.leakyRelu(x, 0.1), sigmoid: F.sigmoid, tanh: F.tanh,
  gelu: (x) => F.gelu(x), gelu_tanh: (x) => F.gelu(x, { approximate: 'tanh' }), silu: F.silu,
};

const elementwise: LabGroup = {
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
    // One shape of a multiple of 4 elements: the flat vec4 kernels (expand to its own shape is lhs's copy).
    const shape4 = [2, 2 * randInt(r, 1, 3), odd(r, 3, 9), odd(r, 3, 13)];
    const [a4, b4] = [leaf(randn(shape4, { seed: seed(r) })), leaf(randn(shape4, { seed: seed(r) }))];
    for (const f of [F.add, F.sub, F.mul, F.div, F.maximum, F.minimum]) back(r, f(a4, b4));
    back(r, F.pow(leaf(rand(shape4, { seed: seed(r), low: 0.5, high: 2 })), b4));
    noGrad(() => [F.eq(a4, b4), F.gt(a4, b4), F.lt(a4, b4), F.expand(a4, shape4)]);
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
  cases(r) {
    const [m, k, n] = [randInt(r, 1, 17), randInt(r, 1, 33), randInt(r, 1, 19)];
    back(r, F.matmul(leaf(randn([m, k], { seed: seed(r) })), leaf(randn([k, n], { seed: seed(r) }))));
    // Batched, and b read transposed (linear), with their gradients (aᵀ·b, a·b).
    const b = randInt(r, 2, 4);
    back(r, F.bmm(leaf(randn([b, m, k], { seed: seed(r) })), leaf(randn([b, k, n], { seed: seed(r) }))));
    back(r, F.linear(leaf(randn([b, m, k], { seed: seed(r) })), leaf(randn([n, k], { seed: seed(r) })), leaf(randn([n], { seed: seed(r) }))));
    // Every kernel of the policy's choices, on a product with k and n multiples of 4 (matmul_vec4 takes it), odd m.
    const [m4, k4, n4] = [odd(r, 5, 41), 4 * randInt(r, 1, 6), 4 * randInt(r, 1, 5)];
    for (const choice of ['portable', 'reg', 'vec4', 'tiled'] as const) {
      const x = leaf(randn([m4, k4], { seed: seed(r) }));
      back(r, withKernelPolicy(x.device, { matmul: choice }, () => F.matmul(x, leaf(randn([k4, n4], { seed: seed(r) })))));
    }
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

const conv: LabGroup = {
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
    // A biased 'same' conv on rows a multiple of 4 wide: its bias gradient takes conv_bwd_bias_vec4.
    const x4 = leaf(randn([n, cin, h, 4 * randInt(r, 1, 4)], { seed: seed(r) }));
    attempt(() => back(r, F.conv2d(x4, leaf(randn([cout, cin, k, k], { seed: seed(r), std: 0.3 })), leaf(randn([cout], { seed: seed(r) })), { padding: 'same' })));
    // The subgroup forward kernels (forced: the CPU recorder has no adapter), on wide channels with a cin % 8 tail.
    const dev = getDefaultDevice();
    withKernelPolicy(dev, { convForward: 'subgroup' }, () => {
      const [ci, co] = [randInt(r, 8, 20), randInt(r, 5, 24)];
      const xw = leaf(randn([n, ci, h, w], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, k, k], { seed: seed(r), std: 0.3 })), null, { stride, padding })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, kt, kt], { seed: seed(r), std: 0.3 })), null, { stride: st })));
      // 2x2 stride 2 on rows a multiple of 8 wide: the k2s2 kernels (the up-conv, its input gradient, and the conv).
      const x8 = leaf(randn([n, ci, h, 8 * randInt(r, 1, 2)], { seed: seed(r) }));
      attempt(() => back(r, F.convTranspose2d(x8, leaf(randn([ci, co, 2, 2], { seed: seed(r), std: 0.3 })), bias && co === cout ? bias : null, { stride: 2 })));
      attempt(() => back(r, F.conv2d(x8, leaf(randn([co, ci, 2, 2], { seed: seed(r), std: 0.3 })), null, { stride: 2 })));
    });
    // Winograd F(4x4, 3x3) (forced, as above): 3x3 stride-1 convs both ways (their input and weight gradients too), any
    // padding.
    withKernelPolicy(dev, { convForward: 'winograd', convWeightGrad: 'winograd' }, () => {
      const [ci, co] = [randInt(r, 1, 20), randInt(r, 1, 40)];
      const xw = leaf(randn([n, ci, h, w], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, 3, 3], { seed: seed(r), std: 0.3 })), bias && co === cout ? bias : null, { padding: pick(r, [0, 1, 2]) })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: pick(r, [0, 1]) })));
      // Rows a multiple of 4 wide ('same': so are the outputs): the vec4 data and output transforms.
      const x4 = leaf(randn([n, ci, h, 4 * randInt(r, 1, 4)], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(x4, leaf(randn([co, ci, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: 1 })));
      // Rows 2 mod 4 wide ('same', and 'valid' from 2 more columns): the vec2 transforms.
      const x2 = leaf(randn([n, ci, h, 4 * randInt(r, 1, 4) + 2], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(x2, leaf(randn([co, ci, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: 1 })));
    });
    // The tiled kernels (forced, as above), both directions and their gradients, on this round's random geometry with
    // wide channels (several tiles and K steps).
    withKernelPolicy(dev, { convForward: 'tiled', convWeightGrad: 'tiled' }, () => {
      const [ci, co] = [randInt(r, 1, 40), randInt(r, 1, 40)];
      const xw = leaf(randn([n, ci, h, w], { seed: seed(r) }));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, k, k], { seed: seed(r), std: 0.3 })), bias && co === cout ? bias : null, { stride, padding })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, kt, kt], { seed: seed(r), std: 0.3 })), null, { stride: st })));
    });
    // The subgroup weight-gradient kernels (forced, as above) on the U-Net's geometries (3x3 'same', the 2x2 stride-2
    // up-conv on odd rows and, conv2d_bwd_weight_k2s2, on rows a multiple of 4 wide, 1x1, the few-channel first layer)
    // and on this round's random one (the general path).
    withKernelPolicy(dev, { convWeightGrad: 'subgroup' }, () => {
      const [ci, co] = [randInt(r, 3, 20), randInt(r, 3, 20)];
      const xw = randn([n, ci, h, w], { seed: seed(r) });
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: 1 })));
      attempt(() => back(r, F.convTranspose2d(xw, leaf(randn([ci, co, 2, 2], { seed: seed(r), std: 0.3 })), null, { stride: 2 })));
      const x4 = randn([n, ci, h, 4 * randInt(r, 1, 2)], { seed: seed(r) });
      attempt(() => back(r, F.convTranspose2d(x4, leaf(randn([ci, co, 2, 2], { seed: seed(r), std: 0.3 })), null, { stride: 2 })));
      attempt(() => back(r, F.conv2d(xw, leaf(randn([co, ci, 1, 1], { seed: seed(r), std: 0.3 })), null)));
      // 1-4 x channels, 3x3 'same' on rows a multiple of 4 wide: conv2d_bwd_weight_few.
      const cf = randInt(r, 1, 4);
      const xf = randn([n, cf, h, 4 * randInt(r, 1, 3)], { seed: seed(r) });
      attempt(() => back(r, F.conv2d(xf, leaf(randn([co, cf, 3, 3], { seed: seed(r), std: 0.3 })), null, { padding: 1 })));
      attempt(() => back(r, F.conv2d(x, leaf(randn([cout, cin, k, k], { seed: seed(r), std: 0.3 })), null, { stride, padding })));
    });
  },
  shape: convShape,
};

const pool: LabGroup = {
  cases(r) {
    const x = leaf(randn([randInt(r, 1, 2), pick(r, [1, 3, randInt(r, 2, 6)]), odd(r, 3, 13), odd(r, 3, 15)], { seed: seed(r) }));
    const k = pick(r, [2, 2, 3]);
    attempt(() => back(r, F.maxPool2d(x, { kernelSize: k, stride: pick(r, [k, 1, 2]), padding: pick(r, [0, Math.floor(k / 2)]) })));
    attempt(() => back(r, F.maxPool2d(x, { kernelSize: 2, ceilMode: r.uniform() < 0.5 })));
    attempt(() => noGrad(() => F.maxPool2dWithIndices(x, { kernelSize: 2 })));
    // Rows a multiple of 8 wide: maxpool2d_fwd_k2s2.
    const x8 = leaf(randn([randInt(r, 1, 2), randInt(r, 1, 4), odd(r, 3, 13), 8 * randInt(r, 1, 3)], { seed: seed(r) }));
    attempt(() => back(r, F.maxPool2d(x8, { kernelSize: 2, ceilMode: r.uniform() < 0.5 })));
    attempt(() => back(r, F.avgPool2d(x, { kernelSize: k, stride: pick(r, [k, 1, 2]), padding: pick(r, [0, Math.floor(k / 2)]), countIncludePad: r.uniform() < 0.5, ceilMode: r.uniform() < 0.5 })));
  },
  shape(x, o) {
    back(new Rng(1), F.maxPool2d(leaf(randn(x)), { kernelSize: o.k ?? 2 }));
  },
};

const batch_norm: LabGroup = {
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
  cases(r) {
    const [n, h, w] = [randInt(r, 1, 2), odd(r, 3, 9), odd(r, 3, 11)];
    const a = leaf(randn([n, randInt(r, 1, 4), h, w], { seed: seed(r) }));
    const b = leaf(randn([n, randInt(r, 1, 4), h, w], { seed: seed(r) }));
    attempt(() => back(r, withKernelPolicy(a.device, { cat: 'kernel' }, () => F.cat([a, b], 1))));
    attempt(() => back(r, F.pad(a, [randInt(r, -1, 2), randInt(r, 0, 3), randInt(r, 0, 2), randInt(r, -1, 1)], r.normal())));
    // A center crop to rows a multiple of 4 wide (pad_vec4; its backward pads back by element), as the 'valid' U-Net's skips.
    const a10 = leaf(randn([n, randInt(r, 1, 4), h, 10], { seed: seed(r) }));
    attempt(() => back(r, F.pad(a10, [-1, -1, -1, -1])));
    attempt(() => back(r, F.interpolate(a, { scaleFactor: 2 })));
    attempt(() => back(r, F.interpolate(a, { size: [odd(r, 3, 17), odd(r, 3, 17)] })));
    attempt(() => back(r, F.interpolate(a, { scaleFactor: 2, mode: 'bilinear', alignCorners: r.uniform() < 0.5 })));
    attempt(() => back(r, F.dropout(a, 0.3, true, { seed: seed(r), channels: r.uniform() < 0.3 })));
    attempt(() => back(r, F.permute(a, pick(r, [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0]]))));
  },
  shape(x, o) {
    const a = leaf(randn(x));
    const r = new Rng(1);
    back(r, withKernelPolicy(a.device, { cat: 'kernel' }, () => F.cat([a, leaf(randn(x))], 1)));
    back(r, F.pad(a, [o.p ?? 1, o.p ?? 1, o.p ?? 1, o.p ?? 1]));
    back(r, F.interpolate(a, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }));
  },
};

/** Logits [n, C, h, w] with small random sizes. */
function randomLogits(r: Rng): Tensor {
  const C = pick(r, [1, 3, randInt(r, 2, 6)]);
  return leaf(randn([randInt(r, 1, 2), C, odd(r, 1, 9), odd(r, 3, 11)], { seed: seed(r), std: 2 }));
}

/**
 * Rows of (C - 1) * H * W >= 512 elements: with SPLIT_LIMITS the per-plane kernels (rows over one binding); the
 * cross-entropy calls also gather the targets' logits in softmax_plane_stats (both target dtypes).
 */
function longRows(r: Rng, softmax: boolean): void {
  const big = leaf(randn([1, 4, odd(r, 13, 15), odd(r, 15, 17)], { seed: seed(r), std: 2 }));
  const [bh, bw] = [big.shape[2]!, big.shape[3]!];
  if (softmax) {
    attempt(() => back(r, F.softmax(big, 1)));
    attempt(() => back(r, F.logSoftmax(big, 1)));
  }
  attempt(() => back(r, F.crossEntropy(big, randint(0, 4, [1, bh, bw], { seed: seed(r) }))));
  attempt(() => back(r, F.crossEntropy(big, randint(0, 4, [1, bh, bw], { seed: seed(r), dtype: 'f32' }), { reduction: 'none' })));
}

const softmax: LabGroup = {
  cases(r) {
    const x = randomLogits(r);
    attempt(() => back(r, F.softmax(x, 1)));
    attempt(() => back(r, F.logSoftmax(x, 1)));
    longRows(r, true);
  },
  shape(x) {
    const r = new Rng(1);
    const t = leaf(randn(x));
    back(r, F.softmax(t, 1));
    back(r, F.logSoftmax(t, 1));
  },
};

const loss: LabGroup = {
  cases(r) {
    const x = randomLogits(r);
    const [n, C, h, w] = x.shape as [number, number, number, number];
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
    longRows(r, false);
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
  cases(r) {
    // An odd element count (the scalar kernels) and a multiple of 4 (the vec4 ones).
    for (const shape of [[odd(r, 1, 9), odd(r, 3, 33)], [4 * randInt(r, 1, 3), odd(r, 3, 33)]]) {
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
    }
  },
  shape(x) {
    noGrad(() => {
      F.sgdUpdate(randn(x), randn(x), randn(x), false, { lr: 0.1, momentum: 0.9 });
      F.adamUpdate(randn(x), randn(x), randn(x), rand(x), null, 3, { lr: 1e-3 });
    });
  },
};

const lab: LabGroup = {
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

/** The lab's cases by source group (spec.group); `kernels check` runs a group's cases on the CPU and replays them on the GPU. */
export const LAB_GROUPS: Readonly<Record<string, LabGroup>> = {
  elementwise, reduce, matmul, conv, pool, batch_norm, movement, softmax, loss, optim, lab,
};

/** The cases that launch `kernel`: those of its source group, if any. */
export function groupOf(kernel: string): LabGroup | undefined {
  return LAB_GROUPS[kernelGroup(kernel)];
}
