// softmax, logSoftmax, bceWithLogits, crossEntropy, diceLoss: hand-computed small cases (formulas written here),
// float64 gradcheck on the CPU device, GPU backward == CPU backward, determinism, splitting over the binding limit
// (a real 144 MB bceWithLogits, and every op under a shrunken limit on the GPU and the CPU), shape/option errors.
import { describe, expect, test } from 'vitest';
import { ArgumentError, cpuDevice, DTypeError, F, LimitError, ShapeError, stats, tensor, tidy, type Device, type Tensor } from '../../src/index.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randInt, randnArray, rng, uniformArray } from '../helpers/random.js';
import { smallLimits } from '../helpers/small_limits.js';

const { skip, dev, devices } = await gpuSuite();

type Red = 'mean' | 'sum' | 'none';
const REDS: Red[] = ['mean', 'sum', 'none'];
const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const T = (d: Device, data: ArrayLike<number>, shape: number[], requiresGrad = false) => tensor(data as Float32Array, shape, { device: d, requiresGrad });
const I32 = (d: Device, data: ArrayLike<number>, shape: number[]) => tensor(Int32Array.from(data), shape, { device: d });
const arr = async (t: Tensor) => Array.from(await t.toArray());
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Devices the hand-computed cases run on. */
// ---- hand-computed cases ----

describe('hand-computed values', () => {
  test('softmax / logSoftmax of [[1, 2, 3], [-1, 0, 1000]] along dim 1 and of a column along dim 0', async () => {
    for (const d of devices(cpu64)) {
      const x = T(d, [1, 2, 3, -1, 0, 1000], [2, 3]);
      const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
      const s = e[0]! + e[1]! + e[2]!;
      const want = [e[0]! / s, e[1]! / s, e[2]! / s, 0, 0, 1]; // the 1000 row is stable: exp(-1001), exp(-1000) underflow
      expect(await arr(F.softmax(x, 1))).toBeAllClose(want, { rtol: 1e-6, atol: 1e-7 });
      expect(await arr(F.logSoftmax(x, -1))).toBeAllClose([1 - 3 - Math.log(s / e[2]!), 2 - 3 - Math.log(s / e[2]!), -Math.log(s / e[2]!), -1001, -1000, 0], { rtol: 1e-6, atol: 1e-6 });
      const c0 = Math.exp(1) + Math.exp(-1);
      expect(await arr(F.softmax(x, 0))).toBeAllClose([Math.exp(1) / c0, 1 / (1 + Math.exp(-2)), 0, Math.exp(-1) / c0, 1 / (1 + Math.exp(2)), 1], { rtol: 1e-6, atol: 1e-7 });
    }
  });

  test('bceWithLogits: -(pw t log s(x) + (1 - t) log(1 - s(x))) * w, pos_weight [C, 1, 1], weight [W]', async () => {
    // x [1, 2, 1, 2]; pos_weight per channel [3, 0.5]; weight per column [1, 2].
    const x = [2, -1, 0.5, 0];
    const t = [1, 0, 0.3, 1];
    const pw = [3, 3, 0.5, 0.5];
    const w = [1, 2, 1, 2];
    const l = x.map((xv, i) => -(pw[i]! * t[i]! * Math.log(sigmoid(xv)) + (1 - t[i]!) * Math.log(1 - sigmoid(xv))) * w[i]!);
    const lPlain = x.map((xv, i) => -(t[i]! * Math.log(sigmoid(xv)) + (1 - t[i]!) * Math.log(1 - sigmoid(xv))));
    const sum = l.reduce((a, b) => a + b);
    for (const d of devices(cpu64)) {
      const opts = { posWeight: T(d, [3, 0.5], [2, 1, 1]), weight: T(d, [1, 2], [2]) };
      const X = T(d, x, [1, 2, 1, 2]);
      const Tt = T(d, t, [1, 2, 1, 2]);
      expect(await arr(F.bceWithLogits(X, Tt, { ...opts, reduction: 'none' }))).toBeAllClose(l, { rtol: 1e-6, atol: 1e-7 });
      expect(await arr(F.bceWithLogits(X, Tt, { ...opts, reduction: 'sum' }))).toBeAllClose([sum], { rtol: 1e-6 });
      expect(await arr(F.bceWithLogits(X, Tt, opts))).toBeAllClose([sum / 4], { rtol: 1e-6 });
      expect(await arr(F.bceWithLogits(X, Tt))).toBeAllClose([lPlain.reduce((a, b) => a + b) / 4], { rtol: 1e-6 });
    }
  });

  test('crossEntropy: [N, C] and [N, C, H, W], class weights, ignore_index, mean = sum(w nll) / sum(w)', async () => {
    const logits = [[1, 2, 0.5], [0.1, -1, 2], [3, 0, -2]];
    const lse = logits.map((r) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0)));
    const nll = (i: number, t: number) => lse[i]! - logits[i]![t]!;
    const w = [1, 2, 0.5];
    const tgt = [2, -100, 1];
    const none = [w[2]! * nll(0, 2), 0, w[1]! * nll(2, 1)];
    const mean = (none[0]! + none[2]!) / (w[2]! + w[1]!);
    const plainMean = (nll(0, 2) + nll(2, 1)) / 2;
    for (const d of devices(cpu64)) {
      const X = T(d, logits.flat(), [3, 3]);
      const W = T(d, w, [3]);
      expect(await arr(F.crossEntropy(X, I32(d, tgt, [3]), { weight: W, reduction: 'none' }))).toBeAllClose(none, { rtol: 1e-6, atol: 1e-7 });
      expect(await arr(F.crossEntropy(X, I32(d, tgt, [3]), { weight: W, reduction: 'sum' }))).toBeAllClose([none[0]! + none[2]!], { rtol: 1e-6 });
      expect(await arr(F.crossEntropy(X, I32(d, tgt, [3]), { weight: W }))).toBeAllClose([mean], { rtol: 1e-6 });
      expect(await arr(F.crossEntropy(X, T(d, tgt, [3])))).toBeAllClose([plainMean], { rtol: 1e-6 });
      // ignoreIndex = a real class (1): the row of class 1 drops out.
      const t2 = [2, 0, 1];
      expect(await arr(F.crossEntropy(X, I32(d, t2, [3]), { ignoreIndex: 1 }))).toBeAllClose([(nll(0, 2) + nll(1, 0)) / 2], { rtol: 1e-6 });
      // The same rows as [1, C, 1, 3] (classes along dim 1, pixels along W) with target [1, 1, 3].
      const nchw = [0, 1, 2].flatMap((c) => [0, 1, 2].map((i) => logits[i]![c]!));
      expect(await arr(F.crossEntropy(T(d, nchw, [1, 3, 1, 3]), I32(d, tgt, [1, 1, 3]), { weight: W, reduction: 'none' }))).toBeAllClose(none, { rtol: 1e-6, atol: 1e-7 });
      expect(await arr(F.crossEntropy(T(d, nchw, [1, 3, 1, 3]), I32(d, tgt, [1, 1, 3]), { weight: W }))).toBeAllClose([mean], { rtol: 1e-6 });
      // Unbatched: logits [C], target [].
      expect(await arr(F.crossEntropy(T(d, logits[0]!, [3]), I32(d, [2], [])))).toBeAllClose([nll(0, 2)], { rtol: 1e-6 });
    }
  });

  test('diceLoss: per class 1 - (2 sum(p t) + s) / (sum p + sum t + s) over N, H, W; mean / sum / none; one-hot = indices', async () => {
    // probs [2, 2, 1, 2]; classes per pixel: n0: [0, 1], n1: [1, 1].
    const p = [0.9, 0.2, 0.1, 0.8, 0.3, 0.4, 0.7, 0.6];
    const cls = [0, 1, 1, 1];
    const onehot = [1, 0, 0, 1, 0, 0, 1, 1];
    const s = 0.5;
    const loss = [0, 1].map((c) => {
      let I = 0, P = 0, Tt = 0;
      for (let n = 0; n < 2; n++) for (let i = 0; i < 2; i++) {
        const k = (n * 2 + c) * 2 + i;
        I += p[k]! * onehot[k]!;
        P += p[k]!;
        Tt += onehot[k]!;
      }
      return 1 - (2 * I + s) / (P + Tt + s);
    });
    for (const d of devices(cpu64)) {
      const P = T(d, p, [2, 2, 1, 2]);
      for (const tg of [T(d, onehot, [2, 2, 1, 2]), I32(d, cls, [2, 1, 2]), T(d, cls, [2, 1, 2])]) {
        expect(await arr(F.diceLoss(P, tg, { smooth: s, reduction: 'none' }))).toBeAllClose(loss, { rtol: 1e-6, atol: 1e-7 });
        expect(await arr(F.diceLoss(P, tg, { smooth: s, reduction: 'sum' }))).toBeAllClose([loss[0]! + loss[1]!], { rtol: 1e-6 });
        expect(await arr(F.diceLoss(P, tg, { smooth: s }))).toBeAllClose([(loss[0]! + loss[1]!) / 2], { rtol: 1e-6 });
      }
      // Default smooth = 1.
      const l1 = [0, 1].map((c) => {
        const k = (n: number, i: number) => (n * 2 + c) * 2 + i;
        const idx = [k(0, 0), k(0, 1), k(1, 0), k(1, 1)];
        const I = idx.reduce((a, j) => a + p[j]! * onehot[j]!, 0);
        return 1 - (2 * I + 1) / (idx.reduce((a, j) => a + p[j]! + onehot[j]!, 0) + 1);
      });
      expect(await arr(F.diceLoss(P, I32(d, cls, [2, 1, 2])))).toBeAllClose([(l1[0]! + l1[1]!) / 2], { rtol: 1e-6 });
    }
  });
});

// ---- gradcheck (float64, CPU) ----

const GC = { rtol: 1e-5, atol: 1e-7 };

/** Class indices in [0, C) with some `ignore`s, as plain numbers. */
function classes(r: ReturnType<typeof rng>, n: number, C: number, ignore?: number) {
  return Array.from({ length: n }, () => (ignore !== undefined && r.uniform() < 0.2 ? ignore : randInt(r, 0, C - 1)));
}

describe('gradcheck (float64 on the CPU device)', () => {
  test.each([
    [[2, 3, 4], 1], [[2, 3, 4], -1], [[2, 3, 4], 0], [[5, 4], 1], [[7], 0],
  ] as const)('softmax and logSoftmax of %j along dim %i', async (shape, dim) => {
    const r = rng(100 + dim);
    const data = randnArray(r, prod(shape), 2);
    for (const f of [F.softmax, F.logSoftmax]) {
      const rep = await gradcheck((x) => f(x, dim), [{ data, shape: [...shape] }], GC);
      expect(rep.worst, rep.where).toBeLessThan(1);
    }
  });

  test.each(REDS)('bceWithLogits reduction %s: plain, pos_weight [C, 1, 1], weight [W], full weight, weight [C, 1, W]', async (reduction) => {
    const r = rng(110 + reduction.length);
    const shape = [2, 3, 2, 4];
    const n = prod(shape);
    const x = { data: randnArray(r, n, 3), shape };
    const t = { data: uniformArray(r, n, 0, 1), shape, grad: false };
    const cases: [string, { data: Float32Array; shape: number[]; grad: false } | null, { data: Float32Array; shape: number[]; grad: false } | null][] = [
      ['plain', null, null],
      ['posWeight', null, { data: uniformArray(r, 3, 0.5, 3), shape: [3, 1, 1], grad: false }],
      ['weight [W]', { data: uniformArray(r, 4, 0.2, 2), shape: [4], grad: false }, { data: uniformArray(r, 1, 0.5, 3), shape: [1], grad: false }],
      ['full weight', { data: uniformArray(r, n, 0.2, 2), shape, grad: false }, { data: uniformArray(r, 3, 0.5, 3), shape: [3, 1, 1], grad: false }],
      ['weight [C, 1, W]', { data: uniformArray(r, 12, 0.2, 2), shape: [3, 1, 4], grad: false }, null],
    ];
    for (const [name, w, pw] of cases) {
      const inputs = [x, t, ...(w ? [w] : []), ...(pw ? [pw] : [])];
      const rep = await gradcheck((...a) => F.bceWithLogits(a[0]!, a[1]!, { reduction, weight: w ? a[2] : null, posWeight: pw ? a[w ? 3 : 2] : null }), inputs, GC);
      expect(rep.worst, `${name}: ${rep.where}`).toBeLessThan(1);
    }
  });

  test.each(REDS)('crossEntropy reduction %s: [N, C, H, W] and [N, C], weight, ignore_index -100 and a real class, i32 and f32 targets', async (reduction) => {
    const r = rng(120 + reduction.length);
    for (const shape of [[2, 3, 3, 2], [5, 4], [1, 1, 3, 3]]) {
      const C = shape[1]!;
      const tshape = [shape[0]!, ...shape.slice(2)];
      const nt = prod(tshape);
      const x = { data: randnArray(r, prod(shape), 2), shape };
      const w = { data: uniformArray(r, C, 0.2, 2), shape: [C], grad: false as const };
      for (const ignoreIndex of C > 1 ? [-100, 1] : [-100]) {
        const tg = classes(r, nt, C, ignoreIndex === -100 ? -100 : undefined);
        tg[0] = 0; // at least one counted target, so 'mean' is defined
        const tf = { data: Float32Array.from(tg), shape: tshape, grad: false as const };
        for (const withW of [false, true]) {
          const inputs = withW ? [x, tf, w] : [x, tf];
          const rep = await gradcheck((...a) => F.crossEntropy(a[0]!, a[1]!, { reduction, ignoreIndex, weight: withW ? a[2] : null }), inputs, GC);
          expect(rep.worst, `${shape} f32 target, ignore ${ignoreIndex}, weight ${withW}: ${rep.where}`).toBeLessThan(1);
        }
        const ti = I32(cpu64, tg, tshape);
        const rep = await gradcheck((a) => F.crossEntropy(a, ti, { reduction, ignoreIndex }), [x], GC);
        expect(rep.worst, `${shape} i32 target: ${rep.where}`).toBeLessThan(1);
        ti.dispose();
      }
    }
  });

  test.each(REDS)('diceLoss reduction %s: one-hot / soft / index targets, smooth 1 and 0.5', async (reduction) => {
    const r = rng(130 + reduction.length);
    const shape = [2, 3, 2, 3];
    const n = prod(shape);
    const probs = { data: uniformArray(r, n, 0.05, 1), shape };
    const cls = classes(r, 12, 3);
    const onehot = Float32Array.from({ length: n }, (_, k) => {
      const i = k % 6;
      const c = Math.floor(k / 6) % 3;
      const b = Math.floor(k / 18);
      return cls[b * 6 + i] === c ? 1 : 0;
    });
    for (const smooth of [1, 0.5]) {
      for (const tgt of [{ data: onehot, shape }, { data: uniformArray(r, n, 0, 1), shape }, { data: Float32Array.from(cls), shape: [2, 2, 3] }]) {
        const rep = await gradcheck((p, t) => F.diceLoss(p, t, { smooth, reduction }), [probs, { ...tgt, grad: false }], GC);
        expect(rep.worst, rep.where).toBeLessThan(1);
      }
      const ti = I32(cpu64, cls, [2, 2, 3]);
      const rep = await gradcheck((p) => F.diceLoss(p, ti, { smooth, reduction }), [probs], GC);
      expect(rep.worst, rep.where).toBeLessThan(1);
      ti.dispose();
    }
  });
});

// ---- GPU backward == CPU backward ----

/** Forward + backward of `f` on a device: the output and d(out * seed)/d(input 0). */
async function fwdBwd(d: Device, f: (d: Device, x: Tensor) => Tensor, x: Float32Array, shape: number[], seed: Float32Array | null) {
  const X = T(d, x, shape, true);
  // tidy frees the targets and weights f makes (backward keeps what it saved).
  const y = tidy(() => f(d, X));
  const out = await arr(y);
  const sd = seed ? T(d, seed, [...y.shape]) : undefined;
  y.backward(sd);
  sd?.dispose();
  const g = await arr(X.grad!);
  X.grad!.dispose();
  X.dispose();
  y.dispose();
  return { out, g };
}

interface Case {
  name: string;
  shape: number[];
  x: (r: ReturnType<typeof rng>, n: number) => Float32Array;
  f: (d: Device, x: Tensor) => Tensor;
  reduction?: Red;
  yShape?: number[];
}

/** Ops on fixed random data (targets, weights) drawn once per case; `x` is differentiated. */
function opCases(): Case[] {
  const r = rng(200);
  const out: Case[] = [];
  const nchw = [2, 3, 5, 7];
  const n = prod(nchw);
  for (const dim of [1, -1, 0]) {
    out.push({ name: `softmax dim ${dim}`, shape: nchw, x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.softmax(x, dim), yShape: nchw });
    out.push({ name: `logSoftmax dim ${dim}`, shape: nchw, x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.logSoftmax(x, dim), yShape: nchw });
  }
  const t = uniformArray(r, n, 0, 1);
  const fw = uniformArray(r, n, 0.2, 2);
  const pw = uniformArray(r, 3, 0.5, 3);
  const cw = uniformArray(r, 3, 0.2, 2);
  const ci = classes(r, 2 * 35, 3, -100);
  const cls = classes(r, 2 * 35, 3);
  const onehot = Float32Array.from({ length: n }, (_, k) => (cls[Math.floor(k / 105) * 35 + (k % 35)] === Math.floor(k / 35) % 3 ? 1 : 0));
  for (const reduction of REDS) {
    const ys = (s: number[]) => (reduction === 'none' ? s : []);
    out.push({
      name: `bceWithLogits ${reduction} weight + posWeight`, shape: nchw, reduction, yShape: ys(nchw), x: (q, k) => randnArray(q, k, 3),
      f: (d, x) => F.bceWithLogits(x, T(d, t, nchw), { reduction, weight: T(d, fw, nchw), posWeight: T(d, pw, [3, 1, 1]) }),
    });
    out.push({
      name: `crossEntropy ${reduction} weight, i32 targets`, shape: nchw, reduction, yShape: ys([2, 5, 7]), x: (q, k) => randnArray(q, k, 3),
      f: (d, x) => F.crossEntropy(x, I32(d, ci, [2, 5, 7]), { reduction, weight: T(d, cw, [3]) }),
    });
    out.push({
      name: `crossEntropy ${reduction} f32 targets`, shape: nchw, reduction, yShape: ys([2, 5, 7]), x: (q, k) => randnArray(q, k, 3),
      f: (d, x) => F.crossEntropy(x, T(d, cls, [2, 5, 7]), { reduction }),
    });
    out.push({
      name: `crossEntropy ${reduction} [N, C]`, shape: [70, 3], reduction, yShape: ys([70]), x: (q, k) => randnArray(q, k, 3),
      // ci's ignored targets (-100) become the ignore index 2: -100 is an invalid class when ignoreIndex is 2.
      f: (d, x) => F.crossEntropy(x, I32(d, ci.map((v) => (v === -100 ? 2 : v)), [70]), { reduction, weight: T(d, cw, [3]), ignoreIndex: 2 }),
    });
    out.push({
      name: `diceLoss ${reduction} one-hot`, shape: nchw, reduction, yShape: reduction === 'none' ? [3] : [], x: (q, k) => uniformArray(q, k, 0, 1),
      f: (d, x) => F.diceLoss(x, T(d, onehot, nchw), { reduction }),
    });
    out.push({
      name: `diceLoss ${reduction} indices of softmax`, shape: nchw, reduction, yShape: reduction === 'none' ? [3] : [], x: (q, k) => randnArray(q, k, 2),
      f: (d, x) => F.diceLoss(F.softmax(x, 1), I32(d, cls, [2, 5, 7]), { reduction, smooth: 0.5 }),
    });
  }
  return out;
}

describe.skipIf(skip)('GPU forward and backward == CPU (float64)', () => {
  test.each(opCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = rng(300 + c.name.length);
    const x = c.x(r, prod(c.shape));
    const seed = c.yShape && c.yShape.length ? randnArray(r, prod(c.yShape)) : null;
    const live = stats(dev).liveTensors;
    const got = await fwdBwd(dev, c.f, x, c.shape, seed);
    const want = await fwdBwd(cpu64, c.f, x, c.shape, seed);
    expect(got.out).toBeAllClose(want.out, { rtol: 2e-5, atol: 2e-6 });
    expect(got.g).toBeAllClose(want.g, { rtol: 5e-5, atol: 2e-6 });
    expect(stats(dev).liveTensors).toBe(live);
  });

  test('losses are deterministic: the same bits on every run (fixed-order reductions)', async () => {
    const r = rng(400);
    const shape = [2, 3, 120, 130];
    const n = prod(shape);
    const x = T(dev, randnArray(r, n, 3), shape);
    const t = T(dev, uniformArray(r, n, 0, 1), shape);
    const cls = classes(r, 2 * 120 * 130, 3, -100);
    const ci = I32(dev, cls, [2, 120, 130]);
    // Dice has no ignore index: -100 is an invalid class there (NaN and an error), so its targets map it to 0.
    const di = I32(dev, cls.map((v) => (v === -100 ? 0 : v)), [2, 120, 130]);
    const runs: number[][] = [];
    for (let k = 0; k < 2; k++) {
      runs.push([
        ...(await arr(F.bceWithLogits(x, t))), ...(await arr(F.crossEntropy(x, ci))), ...(await arr(F.diceLoss(F.softmax(x, 1), di))),
      ]);
    }
    expect(runs[1]).toEqual(runs[0]);
  });
});

// ---- splitting over the binding limit ----

/** Cases whose tensors exceed a 4096-element binding, hitting every planner branch (see the names). */
function splitCases(): Case[] {
  const r = rng(500);
  const out: Case[] = [];
  const cls = (n: number, C: number) => classes(r, n, C, -100);
  // softmax: outer blocks (dim -1), inner ranges of one slice (dim 1, D * inner > cap).
  out.push({ name: 'softmax dim -1 [300, 37]: blocks of rows', shape: [300, 37], x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.softmax(x, -1), yShape: [300, 37] });
  out.push({ name: 'logSoftmax dim 1 [2, 3, 30, 50]: inner ranges', shape: [2, 3, 30, 50], x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.logSoftmax(x, 1), yShape: [2, 3, 30, 50] });
  out.push({ name: 'softmax dim 1 [3, 2, 30, 60]: blocks of items', shape: [3, 2, 30, 60], x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.softmax(x, 1), yShape: [3, 2, 30, 60] });
  // Rows longer than one binding ((D - 1) * inner + 1 > 4033): plane by plane with online statistics.
  out.push({ name: 'softmax dim 1 [1, 2, 70, 70]: planes', shape: [1, 2, 70, 70], x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.softmax(x, 1), yShape: [1, 2, 70, 70] });
  out.push({ name: 'logSoftmax dim 1 [2, 3, 45, 45]: planes', shape: [2, 3, 45, 45], x: (q, k) => randnArray(q, k, 3), f: (_d, x) => F.logSoftmax(x, 1), yShape: [2, 3, 45, 45] });
  const cp1 = cls(70 * 70, 3);
  const cp2 = cls(2 * 45 * 45, 3);
  for (const reduction of REDS) {
    out.push({
      name: `crossEntropy ${reduction} [1, 3, 70, 70]: planes`, shape: [1, 3, 70, 70], reduction, yShape: reduction === 'none' ? [1, 70, 70] : [],
      x: (q, k) => randnArray(q, k, 3), f: (d, x) => F.crossEntropy(x, I32(d, cp1, [1, 70, 70]), { reduction, weight: T(d, [0.5, 1, 2], [3]) }),
    });
    out.push({
      name: `crossEntropy ${reduction} [2, 3, 45, 45] f32 targets, ignore 1: planes`, shape: [2, 3, 45, 45], reduction, yShape: reduction === 'none' ? [2, 45, 45] : [],
      // cp2's -100 targets become the ignore index 1 (with ignoreIndex 1, -100 is an invalid class).
      x: (q, k) => randnArray(q, k, 3), f: (d, x) => F.crossEntropy(x, T(d, cp2.map((v) => (v === -100 ? 1 : v)), [2, 45, 45]), { reduction, ignoreIndex: 1 }),
    });
  }
  // bceWithLogits: flat windows; full-shaped weight windowed with x; per-channel pos_weight and [W] weight whole.
  const sb = [1, 3, 50, 50];
  const nb = prod(sb);
  const t = uniformArray(r, nb, 0, 1);
  const fw = uniformArray(r, nb, 0.2, 2);
  const ww = uniformArray(r, 50, 0.2, 2);
  for (const reduction of REDS) {
    const ys = reduction === 'none' ? sb : [];
    out.push({
      name: `bceWithLogits ${reduction} full weight: flat windows`, shape: sb, reduction, yShape: ys, x: (q, k) => randnArray(q, k, 3),
      f: (d, x) => F.bceWithLogits(x, T(d, t, sb), { reduction, weight: T(d, fw, sb), posWeight: T(d, [2, 0.5, 1.5], [3, 1, 1]) }),
    });
    out.push({
      name: `bceWithLogits ${reduction} weight [W]`, shape: sb, reduction, yShape: ys, x: (q, k) => randnArray(q, k, 3),
      f: (d, x) => F.bceWithLogits(x, T(d, t, sb), { reduction, weight: T(d, ww, [50]) }),
    });
  }
  // crossEntropy: rows: inner ranges (fwd) with channel blocks (bwd); blocks of items; [N, C] row blocks.
  const c1 = cls(3 * 30 * 50, 3);
  const c2 = cls(3 * 30 * 30, 4);
  const c3 = cls(3000, 5);
  for (const reduction of REDS) {
    out.push({
      name: `crossEntropy ${reduction} [3, 3, 30, 50]: inner ranges / channel blocks`, shape: [3, 3, 30, 50], reduction, yShape: reduction === 'none' ? [3, 30, 50] : [],
      x: (q, k) => randnArray(q, k, 3), f: (d, x) => F.crossEntropy(x, I32(d, c1, [3, 30, 50]), { reduction, weight: T(d, [0.5, 1, 2], [3]) }),
    });
    out.push({
      name: `crossEntropy ${reduction} [3, 4, 30, 30]: blocks of items`, shape: [3, 4, 30, 30], reduction, yShape: reduction === 'none' ? [3, 30, 30] : [],
      x: (q, k) => randnArray(q, k, 3), f: (d, x) => F.crossEntropy(x, T(d, c2, [3, 30, 30]), { reduction }),
    });
    out.push({
      name: `crossEntropy ${reduction} [3000, 5]: row blocks`, shape: [3000, 5], reduction, yShape: reduction === 'none' ? [3000] : [],
      x: (q, k) => randnArray(q, k, 3), f: (d, x) => F.crossEntropy(x, I32(d, c3, [3000]), { reduction }),
    });
  }
  // diceLoss: pixel chunks of one plane, channel blocks of one item, blocks of items; one-hot and indices.
  const d1 = cls(2 * 70 * 70, 3).map((v) => (v < 0 ? 0 : v));
  const d2 = cls(40 * 40, 5).map((v) => (v < 0 ? 1 : v));
  const oh = Float32Array.from({ length: 2 * 3 * 900 }, () => (r.uniform() < 0.4 ? 1 : 0));
  for (const reduction of REDS) {
    const ys = reduction === 'none' ? [3] : [];
    out.push({
      name: `diceLoss ${reduction} [2, 3, 70, 70] indices: pixel chunks`, shape: [2, 3, 70, 70], reduction, yShape: ys, x: (q, k) => uniformArray(q, k, 0, 1),
      f: (d, x) => F.diceLoss(x, I32(d, d1, [2, 70, 70]), { reduction }),
    });
    out.push({
      name: `diceLoss ${reduction} [1, 5, 40, 40] f32 indices: channel blocks`, shape: [1, 5, 40, 40], reduction, yShape: reduction === 'none' ? [5] : [],
      x: (q, k) => uniformArray(q, k, 0, 1), f: (d, x) => F.diceLoss(x, T(d, d2, [1, 40, 40]), { reduction }),
    });
    out.push({
      name: `diceLoss ${reduction} [2, 3, 30, 30] one-hot: blocks of items`, shape: [2, 3, 30, 30], reduction, yShape: ys, x: (q, k) => uniformArray(q, k, 0, 1),
      f: (d, x) => F.diceLoss(x, T(d, oh, [2, 3, 30, 30]), { reduction }),
    });
  }
  return out;
}

const SMALL = 4096;

describe('ops split over a shrunken binding limit (4096 elements) == unsplit float64', () => {
  // Bindings capped at SMALL elements with 256-byte offset alignment, on a float64 CPU device and on the GPU.
  const smalls = devices(cpuDevice({ f64: true })).map((d) => smallLimits(d, { maxBindingBytes: SMALL * 4, bindingOffsetAlignment: 256 }));
  const TOL = { cpu: { rtol: 1e-12, atol: 1e-12 }, webgpu: { rtol: 3e-5, atol: 3e-6 } };
  test.each(splitCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = rng(600 + c.name.length);
    expect(prod(c.shape)).toBeGreaterThan(SMALL);
    const x = c.x(r, prod(c.shape));
    const seed = c.yShape && c.yShape.length ? randnArray(r, prod(c.yShape)) : null;
    const want = await fwdBwd(cpu64, c.f, x, c.shape, seed);
    for (const d of smalls) {
      const tol = TOL[d.kind];
      const live = stats(d).liveTensors;
      const before = stats(d).dispatches;
      const got = await fwdBwd(d, c.f, x, c.shape, seed);
      expect(stats(d).dispatches - before).toBeGreaterThan(2); // it really split
      expect(got.out, `${d.kind} forward`).toBeAllClose(want.out, tol);
      expect(got.g, `${d.kind} backward`).toBeAllClose(want.g, tol);
      expect(stats(d).liveTensors).toBe(live);
    }
  });

  test('refusals leak nothing: a shape error, and a [C, 1, W] weight over a tensor past the limit (LimitError)', async () => {
    for (const d of smalls) {
      const r = rng(7);
      const x = T(d, uniformArray(r, 3 * 50 * 50, -2, 2), [1, 3, 50, 50]);
      const bad = I32(d, [0, 1], [1, 2]);
      const w = T(d, uniformArray(r, 150, 0.5, 2), [3, 1, 50]);
      const live = stats(d).liveTensors;
      expect(() => F.crossEntropy(x, bad)).toThrow(ShapeError);
      // Not one run of dims: it would be materialized at the input's size, which is over the (shrunken) limit.
      expect(() => F.bceWithLogits(x, x, { weight: w })).toThrow(LimitError);
      expect(stats(d).liveTensors).toBe(live);
      for (const t of [x, bad, w]) t.dispose();
    }
  });
});

describe.skipIf(skip)('bceWithLogits over the real binding limit', () => {
  test('logits [1, 1, 6000, 6000] (144 MB): mean, none and the gradient against JS', async () => {
    const H = 6000;
    const n = H * H;
    expect(n * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const xAt = (i: number) => ((i % 1999) - 999.5) * 0.004 * (1 + (i % 7));
    const tAt = (i: number) => ((i * 7) % 13) / 12;
    const x = new Float32Array(n);
    const t = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = xAt(i);
      t[i] = tAt(i);
    }
    const pwv = 1.7;
    const loss = (i: number) => {
      const xv = x[i]!;
      const tv = t[i]!;
      // -(pw t log s(x) + (1 - t) log(1 - s(x))) with log s(x) = -softplus(-x).
      const sp = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
      return pwv * tv * sp(-xv) + (1 - tv) * sp(xv);
    };
    let sum = 0;
    for (let i = 0; i < n; i++) sum += loss(i);
    const live = stats(dev).liveTensors;
    const X = tensor(x, [1, 1, H, H], { device: dev, requiresGrad: true });
    const Tt = tensor(t, [1, 1, H, H], { device: dev });
    const pw = T(dev, [pwv], [1, 1, 1]);
    const m = F.bceWithLogits(X, Tt, { posWeight: pw });
    expect(await m.item()).toBeCloseTo(sum / n, 5);
    expect(Math.abs((await m.item()) - sum / n) / (sum / n)).toBeLessThan(1e-5);
    m.backward();
    m.dispose();
    const g = await X.grad!.toArray();
    X.grad!.dispose();
    // Samples around every window boundary (multiples of 2^20 elements) and a stride through the rest.
    const idx: number[] = [];
    for (let i = 0; i < n; i += 997) idx.push(i);
    for (let b = 1 << 20; b < n; b += 1 << 20) for (let i = b - 64; i < b + 64; i++) idx.push(i);
    for (let i = n - 64; i < n; i++) idx.push(i);
    const gWant = idx.map((i) => ((1 - t[i]!) - (1 + (pwv - 1) * t[i]!) * sigmoid(-x[i]!)) / n);
    expect(idx.map((i) => g[i]!)).toBeAllClose(gWant, { rtol: 1e-5, atol: 1e-13 });
    const none = F.bceWithLogits(X, Tt, { posWeight: pw, reduction: 'none' });
    const a = await none.toArray();
    none.dispose();
    expect(idx.map((i) => a[i]!)).toBeAllClose(idx.map(loss), { rtol: 1e-5, atol: 1e-6 });
    for (const q of [X, Tt, pw]) q.dispose();
    expect(stats(dev).liveTensors).toBe(live);
  });
});

// ---- errors ----

describe('shape and option errors', () => {
  const d = cpu64;
  test('messages name the op and the shapes', () => {
    const x = T(d, new Float32Array(24).fill(1), [2, 3, 2, 2]);
    expect(() => F.bceWithLogits(x, T(d, new Float32Array(12), [2, 3, 2]))).toThrow(ShapeError);
    expect(() => F.bceWithLogits(x, T(d, new Float32Array(12), [2, 3, 2]))).toThrow('bceWithLogits: target [2, 3, 2] must have the shape of logits [2, 3, 2, 2]');
    expect(() => F.bceWithLogits(x, x, { posWeight: T(d, [1, 2], [2, 1, 1]) })).toThrow(ShapeError);
    expect(() => F.bceWithLogits(x, x, { reduction: 'avg' as Red })).toThrow(ArgumentError);
    expect(() => F.crossEntropy(x, I32(d, new Int32Array(8), [2, 2, 2, 1]))).toThrow('crossEntropy: target [2, 2, 2, 1] must be [2, 2, 2]');
    expect(() => F.crossEntropy(x, I32(d, new Int32Array(8), [2, 2, 2]), { weight: T(d, [1, 1], [2]) })).toThrow('crossEntropy: weight [2] must be [3]');
    expect(() => F.crossEntropy(x, I32(d, new Int32Array(8), [2, 2, 2]), { ignoreIndex: 0.5 })).toThrow(ArgumentError);
    expect(() => F.diceLoss(x, T(d, new Float32Array(4), [2, 2]))).toThrow('diceLoss: target [2, 2] must be one-hot [2, 3, 2, 2] or class indices [2, 2, 2]');
    expect(() => F.diceLoss(x, I32(d, new Int32Array(24), [2, 3, 2, 2]))).toThrow(DTypeError);
    expect(() => F.softmax(x, 4)).toThrow(ShapeError);
  });

  test('an out-of-range class gives NaN, and the next sync throws (PyTorch throws at once; a GPU kernel cannot)', async () => {
    for (const dv of devices(cpu64)) {
      const y = F.crossEntropy(T(dv, [1, 2, 3, 4, 5, 6], [2, 3]), I32(dv, [0, 3], [2]), { reduction: 'none' });
      await expect(dv.sync()).rejects.toThrow('crossEntropy: target holds 3, not a class in [0, 3) nor ignoreIndex -100');
      const v = await arr(y);
      expect(v[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 1, 5);
      expect(v[1]).toBeNaN();
    }
  });
});
