import { describe, expect, test, vi } from 'vitest';
import {
  ArgumentError, conv2d, cpuDevice, convTranspose2d, noGrad, setKernelPolicy, ShapeError, stats, tensor, Tensor, withDevice,
  type Conv2dOptions, type ConvVariant, type ConvTranspose2dOptions, type Device, type KernelPolicy, type KernelSpec,
  type WebGpuDevice,
} from '../../src/index.js';
import type { Rng } from '../../src/tensor/random.js';
import { closeness, reductionTol } from '../helpers/close.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { RecordingMetaBackend } from '../../src/bench/recorder.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randInt, randnArray, rng, uniformArray } from '../helpers/random.js';

const { skip, dev } = await gpuSuite();

type Shape4 = [number, number, number, number];
const pair = (v: number | readonly number[] | undefined, d: number) => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0]!, v[1]!]);

// ---- Independent float64 references (no code shared with the kernels) ----

/** conv2d by explicit zero padding (begin / end per axis) and a direct sum. */
function naiveConv2d(x: ArrayLike<number>, xs: Shape4, w: ArrayLike<number>, ws: Shape4, b: ArrayLike<number> | null, o: Conv2dOptions) {
  const [n, c, h, wd] = xs;
  const [co, , kh, kw] = ws;
  const [sh, sw] = pair(o.stride, 1);
  const [dh, dw] = pair(o.dilation, 1);
  let pads: number[]; // top, bottom, left, right
  if (o.padding === 'same') {
    const [th, tw] = [dh * (kh - 1), dw * (kw - 1)];
    pads = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (o.padding === 'valid') pads = [0, 0, 0, 0];
  else {
    const [ph, pw] = pair(o.padding as number | [number, number] | undefined, 0);
    pads = [ph, ph, pw, pw];
  }
  const [H, W] = [h + pads[0]! + pads[1]!, wd + pads[2]! + pads[3]!];
  const xp = new Float64Array(n * c * H * W);
  for (let i = 0; i < n * c; i++) for (let y = 0; y < h; y++) for (let z = 0; z < wd; z++) xp[(i * H + y + pads[0]!) * W + z + pads[2]!] = x[(i * h + y) * wd + z]!;
  const oh = Math.floor((H - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((W - dw * (kw - 1) - 1) / sw) + 1;
  const y = new Float64Array(n * co * oh * ow);
  for (let ni = 0; ni < n; ni++)
    for (let o2 = 0; o2 < co; o2++)
      for (let a = 0; a < oh; a++)
        for (let bb = 0; bb < ow; bb++) {
          let s = b ? b[o2]! : 0;
          for (let ci = 0; ci < c; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) s += xp[((ni * c + ci) * H + a * sh + ky * dh) * W + bb * sw + kx * dw]! * w[((o2 * c + ci) * kh + ky) * kw + kx]!;
          y[((ni * co + o2) * oh + a) * ow + bb] = s;
        }
  return { y, shape: [n, co, oh, ow] };
}

/** conv_transpose2d as a scatter into the uncropped output, then cropping `padding` at the begin. */
function naiveConvT(x: ArrayLike<number>, xs: Shape4, w: ArrayLike<number>, ws: Shape4, b: ArrayLike<number> | null, o: ConvTranspose2dOptions) {
  const [n, c, h, wd] = xs;
  const [, co, kh, kw] = ws;
  const [sh, sw] = pair(o.stride, 1);
  const [dh, dw] = pair(o.dilation, 1);
  const [ph, pw] = pair(o.padding, 0);
  const [oph, opw] = pair(o.outputPadding, 0);
  const [FH, FW] = [(h - 1) * sh + dh * (kh - 1) + 1 + oph, (wd - 1) * sw + dw * (kw - 1) + 1 + opw];
  const full = new Float64Array(n * co * FH * FW);
  for (let ni = 0; ni < n; ni++)
    for (let ci = 0; ci < c; ci++)
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++) {
          const v = x[((ni * c + ci) * h + iy) * wd + ix]!;
          for (let o2 = 0; o2 < co; o2++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) full[((ni * co + o2) * FH + iy * sh + ky * dh) * FW + ix * sw + kx * dw] += v * w[((ci * co + o2) * kh + ky) * kw + kx]!;
        }
  const [oh, ow] = [FH - 2 * ph, FW - 2 * pw];
  const y = new Float64Array(n * co * oh * ow);
  for (let i = 0; i < n * co; i++)
    for (let a = 0; a < oh; a++) for (let bb = 0; bb < ow; bb++) y[(i * oh + a) * ow + bb] = full[(i * FH + a + ph) * FW + bb + pw]! + (b ? b[i % co]! : 0);
  return { y, shape: [n, co, oh, ow] };
}

// ---- Option tables (odd sizes, stride 2, dilation 2, int / pair / 'same' / 'valid', C = 1 and 3, batch > 1) ----

interface ConvCase { x: Shape4; w: Shape4; bias: boolean; o: Conv2dOptions }
const CONV_CASES: ConvCase[] = [
  { x: [2, 3, 9, 7], w: [4, 3, 3, 3], bias: true, o: {} },
  { x: [1, 1, 11, 9], w: [5, 1, 3, 3], bias: true, o: { padding: 1 } },
  { x: [2, 3, 9, 11], w: [3, 3, 3, 2], bias: false, o: { padding: [2, 0], stride: 2 } },
  { x: [3, 2, 7, 9], w: [9, 2, 3, 3], bias: true, o: { padding: 'same' } },
  { x: [2, 3, 7, 8], w: [2, 3, 4, 2], bias: true, o: { padding: 'same' } }, // odd totals: extra pad at the end
  { x: [1, 3, 9, 9], w: [4, 3, 2, 4], bias: true, o: { padding: 'same', dilation: [2, 1] } },
  { x: [2, 1, 9, 7], w: [3, 1, 3, 3], bias: true, o: { padding: 'valid', stride: [2, 1] } },
  { x: [2, 3, 13, 11], w: [5, 3, 3, 3], bias: true, o: { padding: 2, dilation: 2, stride: 2 } },
  { x: [1, 3, 12, 10], w: [8, 3, 1, 1], bias: true, o: {} },
  { x: [2, 3, 7, 16], w: [5, 3, 2, 2], bias: true, o: { stride: 2 } }, // rows of 8 outputs: the subgroup family's conv2d_fwd_k2s2
];

interface ConvTCase { x: Shape4; w: Shape4; bias: boolean; o: ConvTranspose2dOptions }
const CONVT_CASES: ConvTCase[] = [
  { x: [2, 3, 5, 7], w: [3, 4, 3, 3], bias: true, o: {} },
  { x: [1, 4, 5, 5], w: [4, 2, 2, 2], bias: true, o: { stride: 2 } }, // the U-Net's up-convolution
  { x: [2, 3, 5, 4], w: [3, 5, 3, 3], bias: false, o: { stride: 2, padding: 1, outputPadding: 1 } },
  { x: [1, 1, 4, 5], w: [1, 3, 3, 2], bias: true, o: { stride: [3, 2], padding: [1, 0], outputPadding: [2, 1] } },
  { x: [2, 3, 5, 3], w: [3, 2, 3, 3], bias: true, o: { dilation: 2, outputPadding: 1, padding: 1 } },
  { x: [2, 2, 3, 5], w: [2, 9, 4, 3], bias: true, o: { stride: 2, dilation: [1, 2], padding: [1, 2] } },
  { x: [2, 3, 3, 8], w: [3, 5, 2, 2], bias: true, o: { stride: 2 } }, // rows of 8 inputs: the subgroup family's conv_transpose2d_fwd_k2s2
];

function make(r: Rng, c: ConvCase | ConvTCase, transposed: boolean) {
  const cout = transposed ? c.w[1] : c.w[0];
  return {
    x: randnArray(r, c.x.reduce((a, b) => a * b)),
    w: randnArray(r, c.w.reduce((a, b) => a * b), 0.5),
    b: c.bias ? randnArray(r, cout) : null,
  };
}

function runOp(device: Device, transposed: boolean, c: ConvCase | ConvTCase, d: ReturnType<typeof make>, grad = false) {
  const x = tensor(d.x, c.x, { device, requiresGrad: grad });
  const w = tensor(d.w, c.w, { device, requiresGrad: grad });
  const b = d.b ? tensor(d.b, [d.b.length], { device, requiresGrad: grad }) : null;
  const y = transposed ? convTranspose2d(x, w, b, c.o as ConvTranspose2dOptions) : conv2d(x, w, b, c.o as Conv2dOptions);
  return { x, w, b, y };
}

const fmtCase = (c: ConvCase | ConvTCase) => `x [${c.x}] w [${c.w}]${c.bias ? ' +bias' : ''} ${JSON.stringify(c.o)}`;

describe('conv2d / convTranspose2d forward vs independent float64 references', () => {
  for (const [transposed, cases] of [[false, CONV_CASES], [true, CONVT_CASES]] as const) {
    const name = transposed ? 'convTranspose2d' : 'conv2d';
    test.each(cases.map((c, i) => [i, fmtCase(c), c] as const))(`${name} %i on cpu64 and cpu32: %s`, async (i, _s, c) => {
      const d = make(rng(100 * +transposed + i), c, transposed);
      const want = transposed ? naiveConvT(d.x, c.x, d.w, c.w, d.b, c.o as ConvTranspose2dOptions) : naiveConv2d(d.x, c.x, d.w, c.w, d.b, c.o as Conv2dOptions);
      const k = c.w[0] * c.w[2] * c.w[3];
      for (const [device, tol] of [[cpu64, { rtol: 1e-12, atol: 1e-12 }], [cpu32, reductionTol(k + 1, 2)]] as const) {
        const { y } = runOp(device, transposed, c, d);
        expect(y.shape).toEqual(want.shape);
        expect(await y.toArray()).toBeAllClose(want.y, tol);
      }
    });
    test.skipIf(skip).each(cases.map((c, i) => [i, fmtCase(c), c] as const))(`${name} %i on the GPU: %s`, async (i, _s, c) => {
      const d = make(rng(100 * +transposed + i), c, transposed);
      const want = transposed ? naiveConvT(d.x, c.x, d.w, c.w, d.b, c.o as ConvTranspose2dOptions) : naiveConv2d(d.x, c.x, d.w, c.w, d.b, c.o as Conv2dOptions);
      const { y } = runOp(dev, transposed, c, d);
      expect(y.shape).toEqual(want.shape);
      expect(await y.toArray()).toBeAllClose(want.y, reductionTol(c.w[0] * c.w[2] * c.w[3] + 1, 2));
      y.dispose();
    });
  }

  test('PyTorch values by hand: 1 -> 1 channel, 3x3 ones, padding 1', async () => {
    // torch.nn.functional.conv2d(torch.arange(9.).view(1,1,3,3), torch.ones(1,1,3,3), padding=1)
    const y = conv2d(tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 3, 3], { device: cpu32 }), tensor(new Array(9).fill(1), [1, 1, 3, 3], { device: cpu32 }), null, { padding: 1 });
    expect(Array.from(await y.toArray())).toEqual([8, 15, 12, 21, 36, 27, 20, 33, 24]);
    // torch.nn.functional.conv_transpose2d(torch.tensor([[[[1., 2.], [3., 4.]]]]), torch.ones(1,1,2,2), stride=2)
    const t = convTranspose2d(tensor([1, 2, 3, 4], [1, 1, 2, 2], { device: cpu32 }), tensor([1, 1, 1, 1], [1, 1, 2, 2], { device: cpu32 }), null, { stride: 2 });
    expect(Array.from(await t.toArray())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
});

describe('conv shape and argument errors', () => {
  const t = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape, { device: cpu32 });
  test('channel mismatch names the op and both shapes', () => {
    const err = (() => {
      try {
        conv2d(t([1, 1, 8, 8]), t([64, 3, 3, 3]));
      } catch (e) {
        return e as ShapeError;
      }
    })();
    expect(err).toBeInstanceOf(ShapeError);
    expect(err!.message).toBe('conv2d: x [1, 1, 8, 8] has 1 channel, weight [64, 3, 3, 3] expects 3');
    expect(err!.shapes).toEqual([[1, 1, 8, 8], [64, 3, 3, 3]]);
    expect(() => convTranspose2d(t([1, 3, 4, 4]), t([4, 2, 2, 2]))).toThrow(/^convTranspose2d: x \[1, 3, 4, 4\] has 3 channels, weight \[4, 2, 2, 2\] expects 4$/);
  });
  test('kernel larger than the padded input', () => {
    expect(() => conv2d(t([1, 2, 2, 5]), t([1, 2, 3, 3]))).toThrow(/^conv2d: kernel 3x3 is larger than the padded input 2x5: x \[1, 2, 2, 5\], weight \[1, 2, 3, 3\]$/);
    expect(() => conv2d(t([1, 2, 4, 4]), t([1, 2, 3, 3]), null, { dilation: 2 })).toThrow(/dilated 5x5.*padded input 4x4/);
    expect(() => conv2d(t([1, 2, 4, 4]), t([1, 2, 3, 3]), null, { dilation: 2, padding: 1 })).not.toThrow();
  });
  test('bad ranks and bias shapes', () => {
    expect(() => conv2d(t([2, 8, 8]), t([1, 2, 3, 3]))).toThrow(/^conv2d: x \[2, 8, 8\] must be 4-D .*weight \[1, 2, 3, 3\]/);
    expect(() => conv2d(t([1, 2, 8, 8]), t([2, 3, 3]))).toThrow(/^conv2d: weight \[2, 3, 3\] must be 4-D \(x \[1, 2, 8, 8\]\)/);
    expect(() => conv2d(t([1, 2, 8, 8]), t([4, 2, 3, 3]), t([3]))).toThrow(/^conv2d: bias \[3\] must be \[4\]/);
    expect(() => convTranspose2d(t([1, 2, 8, 8]), t([2, 4, 3, 3]), t([2]))).toThrow(ShapeError);
  });
  test('groups > 1, bad options', () => {
    expect(() => conv2d(t([1, 4, 8, 8]), t([4, 2, 3, 3]), null, { groups: 2 })).toThrow(new ArgumentError('conv2d', 'groups > 1 is not supported (got groups=2)'));
    expect(() => convTranspose2d(t([1, 4, 8, 8]), t([4, 2, 3, 3]), null, { groups: 2 })).toThrow(/^convTranspose2d: groups > 1 is not supported/);
    expect(() => conv2d(t([1, 2, 8, 8]), t([4, 2, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow(/^conv2d: padding='same' is not supported for strided convolutions/);
    expect(() => conv2d(t([1, 2, 8, 8]), t([4, 2, 3, 3]), null, { stride: 0 })).toThrow(ArgumentError);
    expect(() => conv2d(t([1, 2, 8, 8]), t([4, 2, 3, 3]), null, { padding: -1 })).toThrow(ArgumentError);
    expect(() => convTranspose2d(t([1, 2, 4, 4]), t([2, 4, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(/^convTranspose2d: outputPadding \[2, 2\] must be smaller than either stride \[2, 2\] or dilation \[1, 1\]/);
    expect(() => convTranspose2d(t([1, 2, 4, 4]), t([2, 4, 3, 3]), null, { stride: 1, dilation: 2, outputPadding: 1 })).not.toThrow();
    expect(() => convTranspose2d(t([1, 2, 1, 1]), t([2, 4, 3, 3]), null, { padding: 2 })).toThrow(/^convTranspose2d: the output would be -1x-1/);
  });
});

// ---- Autograd ----

interface GradCase { transposed: boolean; x: Shape4; w: Shape4; o: Conv2dOptions | ConvTranspose2dOptions }
const GRAD_CASES: GradCase[] = [
  { transposed: false, x: [2, 3, 5, 6], w: [2, 3, 3, 2], o: {} },
  { transposed: false, x: [2, 1, 7, 5], w: [3, 1, 3, 3], o: { stride: 2, padding: [1, 2] } },
  { transposed: false, x: [1, 2, 6, 7], w: [2, 2, 2, 3], o: { padding: 'same', dilation: [1, 2] } },
  { transposed: false, x: [1, 3, 9, 8], w: [2, 3, 3, 3], o: { padding: 2, dilation: 2, stride: [2, 3] } },
  { transposed: true, x: [2, 3, 3, 4], w: [3, 2, 3, 3], o: {} },
  { transposed: true, x: [1, 2, 3, 3], w: [2, 3, 2, 2], o: { stride: 2 } },
  { transposed: true, x: [2, 2, 3, 4], w: [2, 2, 3, 3], o: { stride: 2, padding: 1, outputPadding: 1 } },
  { transposed: true, x: [1, 3, 4, 3], w: [3, 2, 3, 2], o: { stride: [3, 2], padding: [1, 0], outputPadding: [2, 1], dilation: [1, 2] } },
];

const gname = (c: GradCase) => `${c.transposed ? 'convTranspose2d' : 'conv2d'} x [${c.x}] w [${c.w}] ${JSON.stringify(c.o)}`;
const opOf = (c: GradCase) => (x: Tensor, w: Tensor, b?: Tensor) =>
  c.transposed ? convTranspose2d(x, w, b, c.o as ConvTranspose2dOptions) : conv2d(x, w, b, c.o as Conv2dOptions);
const coutOf = (c: GradCase) => (c.transposed ? c.w[1] : c.w[0]);

describe('conv autograd', () => {
  test.each(GRAD_CASES.map((c, i) => [i, gname(c), c] as const))('gradcheck (float64) of x, weight and bias %i: %s', async (i, _s, c) => {
    const r = rng(200 + i);
    const n = (s: number[]) => s.reduce((a, b) => a * b);
    const rep = await gradcheck(opOf(c), [
      { data: randnArray(r, n(c.x)), shape: c.x },
      { data: randnArray(r, n(c.w)), shape: c.w },
      { data: randnArray(r, coutOf(c)), shape: [coutOf(c)] },
    ]);
    expect(rep.worst, rep.where).toBeLessThan(1);
  });

  test('gradients flow only where needed; no bias', async () => {
    const r = rng(250);
    const x = tensor(randnArray(r, 2 * 3 * 5 * 5), [2, 3, 5, 5], { device: cpu64, requiresGrad: false });
    const w = tensor(randnArray(r, 4 * 3 * 3 * 3), [4, 3, 3, 3], { device: cpu64, requiresGrad: true });
    conv2d(x, w, null, { padding: 1 }).sum().backward();
    expect(x.grad).toBeNull();
    expect(w.grad!.shape).toEqual([4, 3, 3, 3]);
    // d(sum y)/dW[co, ci, ky, kx] = sum over n, oy, ox of the x value under that tap.
    const xs = await x.toArray();
    let want = 0;
    for (let ni = 0; ni < 2; ni++) for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) if (a - 1 >= 0 && b >= 0) want += xs[((ni * 3 + 1) * 5 + a - 1) * 5 + b]!;
    expect((await w.grad!.toArray())[1 * 9 + 0 * 3 + 1]).toBeCloseTo(want, 10); // co 0, ci 1, ky 0, kx 1
  });

  test.skipIf(skip).each(GRAD_CASES.map((c, i) => [i, gname(c), c] as const))('GPU backward == CPU backward %i: %s', async (i, _s, c) => {
    const r = rng(300 + i);
    const d = { x: randnArray(r, c.x.reduce((a, b) => a * b)), w: randnArray(r, c.w.reduce((a, b) => a * b)), b: randnArray(r, coutOf(c)) };
    const grads = async (device: Device) => {
      const x = tensor(d.x, c.x, { device, requiresGrad: true });
      const w = tensor(d.w, c.w, { device, requiresGrad: true });
      const b = tensor(d.b, [coutOf(c)], { device, requiresGrad: true });
      const y = opOf(c)(x, w, b);
      const gy = tensor(randnArray(rng(400 + i), y.numel), [...y.shape], { device });
      y.backward(gy);
      const out = [await x.grad!.toArray(), await w.grad!.toArray(), await b.grad!.toArray()];
      for (const t of [x, w, b, y, gy, x.grad!, w.grad!, b.grad!]) t.dispose();
      return out;
    };
    const before = stats(dev).liveBytes;
    const [gx, gw, gb] = await grads(dev);
    expect(stats(dev).liveBytes).toBe(before); // forward / backward temporaries are all freed
    const [cx, cw, cb] = await grads(cpu64);
    // dX sums over output channels and taps, dW and db over the (small) batch of output pixels.
    expect(gx, 'dX').toBeAllClose(cx!, reductionTol(c.w[0] * c.w[1] * c.w[2] * c.w[3], 2));
    expect(gw, 'dW').toBeAllClose(cw!, reductionTol(1024, 4));
    expect(gb, 'db').toBeAllClose(cb!, reductionTol(1024, 2));
  });
});

// ---- Tensors over the 128 MiB binding limit (split into batch / channel blocks with windowed bindings) ----

/** Random sample positions [n, c, y, x] of a [N, C, H, W] tensor, corners and edges included. */
function samples(r: Rng, s: Shape4, k = 1500): number[][] {
  const out: number[][] = [];
  for (const y of [0, s[2] - 1]) for (const x of [0, s[3] - 1]) out.push([s[0] - 1, s[1] - 1, y, x], [0, 0, y, x]);
  for (let i = 0; i < k; i++) out.push(s.map((d) => randInt(r, 0, d - 1)));
  return out;
}
const at = (s: Shape4, n: number, c: number, y: number, x: number) => ((n * s[1] + c) * s[2] + y) * s[3] + x;

/** One conv2d output from the definition (stride s, padding p, dilation 1), in float64. */
function conv2dAt(x: ArrayLike<number>, xs: Shape4, w: ArrayLike<number>, ws: Shape4, b: ArrayLike<number> | null, p: number, [n, co, oy, ox]: number[], s = 1) {
  let acc = b ? b[co!]! : 0;
  for (let ci = 0; ci < xs[1]; ci++)
    for (let ky = 0; ky < ws[2]; ky++)
      for (let kx = 0; kx < ws[3]; kx++) {
        const [iy, ix] = [oy! * s - p + ky, ox! * s - p + kx];
        if (iy >= 0 && iy < xs[2] && ix >= 0 && ix < xs[3]) acc += x[at(xs, n!, ci, iy, ix)]! * w[at(ws, co!, ci, ky, kx)]!;
      }
  return acc;
}

/** dX of a conv2d (stride s, padding p) at one input position: sum of dy under every tap that read it. */
function conv2dGradXAt(gy: ArrayLike<number>, ys: Shape4, w: ArrayLike<number>, ws: Shape4, p: number, [n, ci, iy, ix]: number[], s = 1) {
  let acc = 0;
  for (let co = 0; co < ys[1]; co++)
    for (let ky = 0; ky < ws[2]; ky++)
      for (let kx = 0; kx < ws[3]; kx++) {
        const [ty, tx] = [iy! + p - ky, ix! + p - kx];
        if (ty % s || tx % s) continue;
        const [oy, ox] = [ty / s, tx / s];
        if (oy >= 0 && oy < ys[2] && ox >= 0 && ox < ys[3]) acc += gy[at(ys, n!, co, oy, ox)]! * w[at(ws, co, ci!, ky, kx)]!;
      }
  return acc;
}

/** dW[co, ci, ky, kx] of a conv2d (stride s, padding p), and the sum of |terms| (for the tolerance). */
function conv2dGradWAt(x: ArrayLike<number>, xs: Shape4, gy: ArrayLike<number>, ys: Shape4, p: number, co: number, ci: number, ky: number, kx: number, s = 1) {
  let acc = 0;
  let abs = 0;
  for (let n = 0; n < xs[0]; n++)
    for (let oy = 0; oy < ys[2]; oy++) {
      const iy = oy * s - p + ky;
      if (iy < 0 || iy >= xs[2]) continue;
      for (let ox = 0; ox < ys[3]; ox++) {
        const ix = ox * s - p + kx;
        if (ix < 0 || ix >= xs[3]) continue;
        const t = gy[at(ys, n, co, oy, ox)]! * x[at(xs, n, ci, iy, ix)]!;
        acc += t;
        abs += Math.abs(t);
      }
    }
  return [acc, abs] as const;
}

function channelSums(g: ArrayLike<number>, s: Shape4) {
  const out = new Float64Array(s[1]);
  const abs = new Float64Array(s[1]);
  const pl = s[2] * s[3];
  for (let n = 0; n < s[0]; n++)
    for (let c = 0; c < s[1]; c++) {
      const o = (n * s[1] + c) * pl;
      for (let i = 0; i < pl; i++) {
        out[c] += g[o + i]!;
        abs[c] += Math.abs(g[o + i]!);
      }
    }
  return [out, abs] as const;
}

/** Expects got[i] ~ want[i] for sampled positions (tolerance for sums of k float32 products). */
function expectSamples(label: string, got: ArrayLike<number>, want: (pos: number[]) => number, pos: number[][], s: Shape4, k: number, scale = 2) {
  const g = pos.map((q) => got[at(s, q[0]!, q[1]!, q[2]!, q[3]!)]!);
  const w = pos.map(want);
  const r = closeness(g, w, reductionTol(k, scale));
  expect(r.ok, `${label}: ${r.message}`).toBe(true);
}

/** Sampled dW entries and all db entries against float64 sums, with a tolerance scaled by the sum of |terms|. */
function expectGradSums(label: string, got: ArrayLike<number>, want: (i: number) => readonly [number, number], idx: number[]) {
  for (const i of idx) {
    const [v, abs] = want(i);
    const err = Math.abs(got[i]! - v);
    expect(err, `${label}[${i}]: got ${got[i]}, want ${v} (sum |terms| ${abs})`).toBeLessThanOrEqual(2e-6 * abs + 1e-4);
  }
}

describe.skipIf(skip)('conv over the binding limit (GPU)', () => {
  test('conv2d: x [1, 9, 2050, 2050] (151 MB) -> 2 channels, and its backward (dX over the limit)', async () => {
    const r = rng(500);
    const xs: Shape4 = [1, 9, 2050, 2050];
    const ws: Shape4 = [2, 9, 3, 3];
    const ys: Shape4 = [1, 2, 2050, 2050];
    expect(xs.reduce((a, b) => a * b) * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const xd = uniformArray(r, 9 * 2050 * 2050);
    const wd = uniformArray(r, 2 * 9 * 9);
    const bd = uniformArray(r, 2);
    const x = tensor(xd, xs, { device: dev, requiresGrad: true });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const b = tensor(bd, [2], { device: dev, requiresGrad: true });
    const y = conv2d(x, w, b, { padding: 1 });
    const yd = await y.toArray();
    expectSamples('y', yd, (q) => conv2dAt(xd, xs, wd, ws, bd, 1, q), samples(r, ys), ys, 82);
    const gd = uniformArray(r, 2 * 2050 * 2050);
    const gy = tensor(gd, ys, { device: dev });
    y.backward(gy);
    expectSamples('dX', await x.grad!.toArray(), (q) => conv2dGradXAt(gd, ys, wd, ws, 1, q), samples(r, xs), xs, 18);
    const gw = await w.grad!.toArray();
    const wi = [0, 161, ...Array.from({ length: 6 }, () => randInt(r, 0, 161))];
    expectGradSums('dW', gw, (i) => conv2dGradWAt(xd, xs, gd, ys, 1, Math.floor(i / 81), Math.floor(i / 9) % 9, Math.floor(i / 3) % 3, i % 3), wi);
    const [db, dbAbs] = channelSums(gd, ys);
    expectGradSums('db', await b.grad!.toArray(), (i) => [db[i]!, dbAbs[i]!], [0, 1]);
    for (const t of [x, w, b, y, gy, x.grad!, w.grad!, b.grad!]) t.dispose();
  });

  test('conv2d: y [1, 9, 2050, 2050] over the limit (1 -> 9 channels), and its backward (dy over the limit)', async () => {
    const r = rng(510);
    const xs: Shape4 = [1, 1, 2050, 2050];
    const ws: Shape4 = [9, 1, 3, 3];
    const ys: Shape4 = [1, 9, 2050, 2050];
    const xd = uniformArray(r, 2050 * 2050);
    const wd = uniformArray(r, 81);
    const bd = uniformArray(r, 9);
    const x = tensor(xd, xs, { device: dev, requiresGrad: true });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const b = tensor(bd, [9], { device: dev, requiresGrad: true });
    const y = conv2d(x, w, b, { padding: 1 });
    expectSamples('y', await y.toArray(), (q) => conv2dAt(xd, xs, wd, ws, bd, 1, q), samples(r, ys), ys, 10);
    const gd = uniformArray(r, 9 * 2050 * 2050);
    const gy = tensor(gd, ys, { device: dev });
    y.backward(gy);
    expectSamples('dX', await x.grad!.toArray(), (q) => conv2dGradXAt(gd, ys, wd, ws, 1, q), samples(r, xs), xs, 81);
    const wi = [0, 80, ...Array.from({ length: 6 }, () => randInt(r, 0, 80))];
    expectGradSums('dW', await w.grad!.toArray(), (i) => conv2dGradWAt(xd, xs, gd, ys, 1, Math.floor(i / 9), 0, Math.floor(i / 3) % 3, i % 3), wi);
    const [db, dbAbs] = channelSums(gd, ys);
    expectGradSums('db', await b.grad!.toArray(), (i) => [db[i]!, dbAbs[i]!], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const t of [x, w, b, y, gy, x.grad!, w.grad!, b.grad!]) t.dispose();
  });

  test('convTranspose2d 2x2 stride 2: y [1, 9, 2050, 2050] over the limit, and its backward', async () => {
    const r = rng(520);
    const xs: Shape4 = [1, 2, 1025, 1025];
    const ws: Shape4 = [2, 9, 2, 2];
    const ys: Shape4 = [1, 9, 2050, 2050];
    const xd = uniformArray(r, 2 * 1025 * 1025);
    const wd = uniformArray(r, 2 * 9 * 4);
    const bd = uniformArray(r, 9);
    const x = tensor(xd, xs, { device: dev, requiresGrad: true });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const b = tensor(bd, [9], { device: dev, requiresGrad: true });
    const y = convTranspose2d(x, w, b, { stride: 2 });
    // Each output takes exactly one tap: y[co, 2i+a, 2j+c] = b[co] + sum over ci of x[ci, i, j] * W[ci, co, a, c].
    const yAt = ([n, co, oy, ox]: number[]) => {
      let s = bd[co!]!;
      for (let ci = 0; ci < 2; ci++) s += xd[at(xs, n!, ci, oy! >> 1, ox! >> 1)]! * wd[at(ws, ci, co!, oy! & 1, ox! & 1)]!;
      return s;
    };
    expectSamples('y', await y.toArray(), yAt, samples(r, ys), ys, 3);
    const gd = uniformArray(r, 9 * 2050 * 2050);
    const gy = tensor(gd, ys, { device: dev });
    y.backward(gy);
    const gxAt = ([n, ci, iy, ix]: number[]) => {
      let s = 0;
      for (let co = 0; co < 9; co++) for (let a = 0; a < 2; a++) for (let c = 0; c < 2; c++) s += gd[at(ys, n!, co, 2 * iy! + a, 2 * ix! + c)]! * wd[at(ws, ci!, co, a, c)]!;
      return s;
    };
    expectSamples('dX', await x.grad!.toArray(), gxAt, samples(r, xs), xs, 36);
    const gwAt = (i: number) => {
      const [ci, co, a, c] = [Math.floor(i / 36), Math.floor(i / 4) % 9, Math.floor(i / 2) % 2, i % 2];
      let s = 0;
      let abs = 0;
      for (let iy = 0; iy < 1025; iy++)
        for (let ix = 0; ix < 1025; ix++) {
          const t = xd[at(xs, 0, ci, iy, ix)]! * gd[at(ys, 0, co, 2 * iy + a, 2 * ix + c)]!;
          s += t;
          abs += Math.abs(t);
        }
      return [s, abs] as const;
    };
    expectGradSums('dW', await w.grad!.toArray(), gwAt, [0, 71, ...Array.from({ length: 6 }, () => randInt(r, 0, 71))]);
    const [db, dbAbs] = channelSums(gd, ys);
    expectGradSums('db', await b.grad!.toArray(), (i) => [db[i]!, dbAbs[i]!], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const t of [x, w, b, y, gy, x.grad!, w.grad!, b.grad!]) t.dispose();
  });

  test('conv2d stride 2: x [5, 2, 1800, 1900] over the limit is split into batch blocks (forward and backward)', async () => {
    const r = rng(530);
    const xs: Shape4 = [5, 2, 1800, 1900];
    const ws: Shape4 = [1, 2, 3, 3];
    const ys: Shape4 = [5, 1, 900, 950];
    const xd = uniformArray(r, 5 * 2 * 1800 * 1900);
    const wd = uniformArray(r, 18);
    const x = tensor(xd, xs, { device: dev, requiresGrad: true });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const y = conv2d(x, w, null, { padding: 1, stride: 2 });
    expect(y.shape).toEqual(ys);
    expectSamples('y', await y.toArray(), (q) => conv2dAt(xd, xs, wd, ws, null, 1, q, 2), samples(r, ys), ys, 18);
    const gd = uniformArray(r, 5 * 900 * 950);
    const gy = tensor(gd, ys, { device: dev });
    y.backward(gy);
    expectSamples('dX', await x.grad!.toArray(), (q) => conv2dGradXAt(gd, ys, wd, ws, 1, q, 2), samples(r, xs), xs, 9);
    expectGradSums('dW', await w.grad!.toArray(), (i) => conv2dGradWAt(xd, xs, gd, ys, 1, 0, Math.floor(i / 9), Math.floor(i / 3) % 3, i % 3, 2), [0, 4, 13, 17]);
    for (const t of [x, w, y, gy, x.grad!, w.grad!]) t.dispose();
  });
});

// ---- Forward-kernel variants (the subgroup kernels and their selection) ----

/** Whether 'auto' takes the subgroup-based kernels on this adapter: the subgroups feature, a fixed size of 8 or 16. */
const fixedSubgroups = (a: WebGpuDevice['adapter']) =>
  a.features.includes('subgroups') && [8, 16].includes(a.subgroupMaxSize ?? 0) && a.subgroupMinSize === a.subgroupMaxSize;

/**
 * Sets `changes` in the kernel policy of every device of this file (so CPU references and the GPU take the same
 * families); returns the function that restores the previous policies.
 */
function setConvPolicy(changes: Partial<KernelPolicy>): () => void {
  const devs: Device[] = [cpu32, cpu64, ...(skip ? [] : [dev])];
  const prev = devs.map((d) => setKernelPolicy(d, changes));
  return () => devs.forEach((d, i) => setKernelPolicy(d, prev[i]!));
}

/** Runs fn with the forward-kernel choice set to v, restoring the previous choice. */
async function withVariant<T>(v: ConvVariant, fn: () => Promise<T>): Promise<T> {
  const prev = setConvPolicy({ convForward: v });
  try {
    return await fn();
  } finally {
    prev();
  }
}

/** Names of the kernels `fn` launches on the GPU device, and what fn returns. */
function launched<T>(fn: () => T): [string[], T] {
  const spy = vi.spyOn(dev, 'run');
  try {
    const out = fn();
    return [spy.mock.calls.map((c) => (c[0] as KernelSpec).name), out];
  } finally {
    spy.mockRestore();
  }
}

/**
 * Absolute-error scale for results Winograd F(4x4, 3x3) may compute: its transforms pass through values up to ~10x the
 * inputs (A^T and B^T entries up to 8), so rounding grows ~10-20x over a direct sum (Lavin & Gray 2016, table 5).
 */
const WINO = 20;

// Wide enough for 'auto' to pick the subgroup kernels on lavapipe (>= 8 input, > 8 output channels), with a cin % 8 tail.
const WIDE: GradCase[] = [
  { transposed: false, x: [2, 19, 9, 11], w: [21, 19, 3, 3], o: { padding: 1 } },
  { transposed: false, x: [1, 16, 10, 9], w: [12, 16, 2, 2], o: { stride: 2 } },
  { transposed: true, x: [2, 19, 5, 7], w: [19, 21, 2, 2], o: { stride: 2 } },
  { transposed: true, x: [2, 19, 5, 8], w: [19, 21, 2, 2], o: { stride: 2 } }, // conv_transpose2d_fwd_k2s2, dX by conv2d_fwd_k2s2
  { transposed: true, x: [1, 12, 6, 5], w: [12, 17, 3, 3], o: { padding: 1 } },
  // 'valid' 3x3 on rows 2 mod 4 wide (Winograd on lavapipe): the vec2 data transform (x 30 wide), the vec2 output
  // transform (y 30 wide), and in backward the other way round.
  { transposed: false, x: [2, 16, 14, 30], w: [16, 16, 3, 3], o: {} },
  { transposed: false, x: [2, 16, 14, 32], w: [16, 16, 3, 3], o: {} },
];

describe('conv forward-kernel selection', () => {
  test('setKernelPolicy rejects unknown forward families and keys, and returns the previous policy', () => {
    const d = cpuDevice();
    expect(() => setKernelPolicy(d, { convForward: 'fast' as ConvVariant })).toThrow(/convForward must be one of auto, portable, subgroup, winograd, tiled, got "fast"/);
    expect(() => setKernelPolicy(d, { convForwrd: 'portable' } as Partial<KernelPolicy>)).toThrow(/unknown key 'convForwrd'/);
    const prev = setKernelPolicy(d, { convForward: 'portable' });
    expect(prev.convForward).toBe('auto');
    expect(setKernelPolicy(d, prev).convForward).toBe('portable');
    expect(d.policy.convForward).toBe('auto');
  });

  test.skipIf(skip)('auto: the subgroup kernels where the adapter has 8- or 16-lane subgroups and the launch is wide enough', () => {
    const sg = fixedSubgroups(dev.adapter);
    const r = rng(700);
    const x = tensor(randnArray(r, 2 * 16 * 6 * 6), [2, 16, 6, 6], { device: dev });
    const [names] = launched(() => {
      conv2d(x, tensor(randnArray(r, 12 * 16 * 9), [12, 16, 3, 3], { device: dev }), null, { padding: 1 });
      convTranspose2d(x, tensor(randnArray(r, 16 * 12 * 4), [16, 12, 2, 2], { device: dev }), null, { stride: 2 });
      conv2d(x, tensor(randnArray(r, 4 * 16), [4, 16, 1, 1], { device: dev })); // 4 output channels: portable
      // 2x2 stride 2 on rows a multiple of 4 wide (8 -> 16, and 8 -> 4): the subgroup family's k2s2 kernels.
      const x8 = tensor(randnArray(r, 16 * 4 * 8), [1, 16, 4, 8], { device: dev });
      convTranspose2d(x8, tensor(randnArray(r, 16 * 12 * 4), [16, 12, 2, 2], { device: dev }), null, { stride: 2 });
      conv2d(x8, tensor(randnArray(r, 12 * 16 * 4), [12, 16, 2, 2], { device: dev }), null, { stride: 2 });
    });
    expect(names.filter((n) => n !== 'conv_weight_pack')).toEqual(
      sg
        ? ['conv2d_fwd_sg', 'conv_transpose2d_fwd_sg', 'conv2d_fwd', 'conv_transpose2d_fwd_k2s2', 'conv2d_fwd_k2s2']
        : ['conv2d_fwd', 'conv_transpose2d_fwd', 'conv2d_fwd', 'conv_transpose2d_fwd', 'conv2d_fwd'],
    );
    const prev = setConvPolicy({ convForward: 'portable' });
    try {
      const [forced] = launched(() => void conv2d(x, tensor(randnArray(r, 12 * 16 * 9), [12, 16, 3, 3], { device: dev })));
      expect(forced.filter((n) => n !== 'conv_weight_pack')).toEqual(['conv2d_fwd']);
    } finally {
      prev();
    }
  });

  test.skipIf(skip)("auto: Winograd's vec2 transforms on rows 2 mod 4 wide where the adapter takes Winograd", () => {
    const r = rng(710);
    const names = (w: number) => launched(() => {
      const x = tensor(randnArray(r, 2 * 16 * 14 * w), [2, 16, 14, w], { device: dev });
      conv2d(x, tensor(randnArray(r, 16 * 16 * 9), [16, 16, 3, 3], { device: dev }));
    })[0].filter((n) => /^winograd_(input|output)/.test(n));
    const wino = fixedSubgroups(dev.adapter);
    expect(names(30)).toEqual(wino ? ['winograd_input_vec2', 'winograd_output_vec4'] : []);
    expect(names(32)).toEqual(wino ? ['winograd_input_vec4', 'winograd_output_vec2'] : []);
    expect(names(31)).toEqual(wino ? ['winograd_input', 'winograd_output'] : []);
  });

  test.skipIf(skip)('winograd_fused: few channels on rows a multiple of 4 wide, forward and input gradient against float64; not where the forward keeps v for a Winograd weight gradient', async () => {
    // Odd channel counts (tails of the 8-channel blocks), odd height, bias; batch 2.
    const r = rng(715);
    const [xs, ws] = [[2, 13, 11, 20] as Shape4, [19, 13, 3, 3] as Shape4];
    const d = { x: randnArray(r, 2 * 13 * 11 * 20), w: randnArray(r, 19 * 13 * 9, 0.3), b: randnArray(r, 19) };
    const gyd = randnArray(r, 2 * 19 * 11 * 20);
    const run = async (device: Device) => {
      const x = tensor(d.x, xs, { device, requiresGrad: true });
      const w = tensor(d.w, ws, { device, requiresGrad: true });
      const b = tensor(d.b, [19], { device });
      const [names, y] = launched(() => conv2d(x, w, b, { padding: 1 }));
      const [bnames] = launched(() => y.backward(tensor(gyd, [2, 19, 11, 20], { device })));
      const out = { names, bnames, y: await y.toArray(), gx: await x.grad!.toArray(), gw: await w.grad!.toArray() };
      for (const t of [x, w, b, y, x.grad!, w.grad!]) t.dispose();
      return out;
    };
    const want = await run(cpu64);
    const wino = (ns: string[]) => ns.filter((n) => n.startsWith('winograd_'));
    // Forward and input gradient (19 -> 13 channels) one fused pass each after the weight transform.
    const got = await withVariant('winograd', () => run(dev));
    expect(wino(got.names)).toEqual(['winograd_weight', 'winograd_fused']);
    expect(wino(got.bnames)).toEqual(['winograd_weight', 'winograd_fused']);
    expect(got.y, 'y').toBeAllClose(want.y, reductionTol(13 * 9 + 1, WINO));
    expect(got.gx, 'dX').toBeAllClose(want.gx, reductionTol(19 * 9, WINO));
    // With the weight gradient Winograd's too, the forward keeps its (small) transformed input for it: the three passes.
    const prev = setConvPolicy({ convWeightGrad: 'winograd' });
    try {
      const kept = await withVariant('winograd', () => run(dev));
      expect(wino(kept.names)).toEqual(['winograd_weight', 'winograd_input_vec4', 'winograd_gemm', 'winograd_output_vec4']);
      expect(kept.bnames).toContain('winograd_fused');
      expect(kept.y, 'y').toBeAllClose(want.y, reductionTol(13 * 9 + 1, WINO));
      expect(kept.gx, 'dX').toBeAllClose(want.gx, reductionTol(19 * 9, WINO));
      expect(kept.gw, 'dW').toBeAllClose(want.gw, reductionTol(1024, WINO));
    } finally {
      prev();
    }
  });

  test.skipIf(skip)("auto: few channels below Winograd's channel rule (a 1-channel first layer) as one winograd_fused pass and its weight gradient by conv2d_bwd_weight_few, against float64; the direct kernels on rows not a multiple of 4 wide", async () => {
    const r = rng(717);
    const run = async (device: Device, w: number, padding: number) => {
      const xd = randnArray(r, 2 * 1 * 13 * w);
      const wd = randnArray(r, 7 * 9, 0.5);
      const bd = randnArray(r, 7);
      const ow = w + 2 * padding - 2;
      const gd = randnArray(r, 2 * 7 * (13 + 2 * padding - 2) * ow);
      const go = async (dd: Device) => {
        const x = tensor(xd, [2, 1, 13, w], { device: dd });
        const wt = tensor(wd, [7, 1, 3, 3], { device: dd, requiresGrad: true });
        const [names, y] = launched(() => conv2d(x, wt, tensor(bd, [7], { device: dd }), { padding }));
        const [bnames] = launched(() => y.backward(tensor(gd, y.shape, { device: dd })));
        const out = { names: names.filter((n) => n !== 'conv_weight_pack'), bnames: bnames.filter((n) => /weight/.test(n)), y: await y.toArray(), gw: await wt.grad!.toArray() };
        for (const t of [y, wt.grad!]) t.dispose();
        return out;
      };
      return { got: await go(device), want: await go(cpu64) };
    };
    const sg = fixedSubgroups(dev.adapter);
    const same = await run(dev, 20, 1);
    expect(same.got.names).toEqual(sg ? ['winograd_weight', 'winograd_fused'] : ['conv2d_fwd']);
    expect(same.got.bnames).toEqual([sg ? 'conv2d_bwd_weight_few' : 'conv2d_bwd_weight']);
    // With one input channel the transforms' rounding, not the 9 products, sets Winograd's error: the chain's terms (36
    // data terms per transformed value, one channel's product, 36 output terms), as winograd.test.ts counts them.
    expect(same.got.y).toBeAllClose(same.want.y, reductionTol(36 * 36, WINO));
    expect(same.got.gw).toBeAllClose(same.want.gw, reductionTol(2 * 13 * 20));
    // 'valid' on 20 wide rows: y and g 18 wide, not vec4 rows: the direct kernels.
    const valid = await run(dev, 20, 0);
    expect(valid.got.names).toEqual(['conv2d_fwd']);
    expect(valid.got.bnames).toEqual([sg ? 'conv2d_bwd_weight_sg' : 'conv2d_bwd_weight']);
    expect(valid.got.y).toBeAllClose(valid.want.y, reductionTol(10));
    expect(valid.got.gw).toBeAllClose(valid.want.gw, reductionTol(2 * 11 * 18));
    // Forced portable: the direct kernel.
    const prev = setConvPolicy({ convForward: 'portable' });
    try {
      expect((await run(dev, 20, 1)).got.names).toEqual(['conv2d_fwd']);
    } finally {
      prev();
    }
  });

  // Every op-level GPU case again with the subgroup kernels, then Winograd (its 3x3 stride-1 cases), then the tiled
  // kernels, forced (small channel counts: tails, 4- and 8-channel blocks).
  const forcedFwd = (['subgroup', 'winograd', 'tiled'] as const).flatMap((v) => [[false, CONV_CASES, v], [true, CONVT_CASES, v]] as const);
  for (const [transposed, cases, v] of forcedFwd) {
    const name = transposed ? 'convTranspose2d' : 'conv2d';
    test.skipIf(skip).each(cases.map((c, i) => [i, fmtCase(c), c] as const))(`${name} %i with the ${v} kernels forced: %s`, async (i, _s, c) => {
      const d = make(rng(100 * +transposed + i), c, transposed);
      const want = transposed ? naiveConvT(d.x, c.x, d.w, c.w, d.b, c.o as ConvTranspose2dOptions) : naiveConv2d(d.x, c.x, d.w, c.w, d.b, c.o as Conv2dOptions);
      await withVariant(v, async () => {
        const { y } = runOp(dev, transposed, c, d);
        expect(await y.toArray()).toBeAllClose(want.y, reductionTol(c.w[0] * c.w[2] * c.w[3] + 1, v === 'winograd' ? WINO : 2));
        y.dispose();
      });
    });
  }

  // GPU backward == CPU backward with the subgroup kernels: forced on the small cases, by 'auto' on the wide ones.
  const variantCases = [
    ...(['subgroup', 'winograd', 'tiled'] as const).flatMap((v) => GRAD_CASES.map((c) => [v, c] as const)), ...WIDE.map((c) => ['auto', c] as const),
  ];
  test.skipIf(skip).each(variantCases.map(([v, c], i) => [i, v, gname(c), c] as const))('GPU backward == CPU backward %i (%s): %s', async (i, v, _s, c) => {
    const r = rng(800 + i);
    const d = { x: randnArray(r, c.x.reduce((a, b) => a * b)), w: randnArray(r, c.w.reduce((a, b) => a * b)), b: randnArray(r, coutOf(c)) };
    const gyd = randnArray(rng(900 + i), 1 << 16);
    const run = async (device: Device) => {
      const x = tensor(d.x, c.x, { device, requiresGrad: true });
      const w = tensor(d.w, c.w, { device, requiresGrad: true });
      const b = tensor(d.b, [coutOf(c)], { device, requiresGrad: true });
      const y = opOf(c)(x, w, b);
      const gy = tensor(gyd.subarray(0, y.numel), [...y.shape], { device });
      y.backward(gy);
      const out = [await y.toArray(), await x.grad!.toArray(), await w.grad!.toArray(), await b.grad!.toArray()];
      for (const t of [x, w, b, y, gy, x.grad!, w.grad!, b.grad!]) t.dispose();
      return out;
    };
    const [gyv, gx, gw, gb] = await withVariant(v, () => run(dev));
    const [cy, cx, cw, cb] = await run(cpu64);
    const k = c.w[0] * c.w[1] * c.w[2] * c.w[3];
    // 'auto' takes Winograd on the wide cases: its tolerance factor.
    const direct = v === 'subgroup' || v === 'tiled';
    const f = direct ? 2 : WINO;
    expect(gyv, 'y').toBeAllClose(cy!, reductionTol(k + 1, f));
    expect(gx, 'dX').toBeAllClose(cx!, reductionTol(k, f));
    expect(gw, 'dW').toBeAllClose(cw!, reductionTol(1024, direct ? 4 : WINO));
    expect(gb, 'db').toBeAllClose(cb!, reductionTol(1024, 2));
  });

  test.skipIf(skip).each([['subgroup', 'conv2d_fwd_sg'], ['tiled', 'conv2d_fwd_tiled']] as const)('conv2d over the binding limit with the %s kernel: x [1, 16, 1500, 1500] (144 MB) split into input-channel blocks', async (v, kernel) => {
    const r = rng(540);
    const xs: Shape4 = [1, 16, 1500, 1500];
    const ws: Shape4 = [9, 16, 3, 3];
    const ys: Shape4 = [1, 9, 1500, 1500];
    expect(xs.reduce((a, b) => a * b) * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const xd = uniformArray(r, 16 * 1500 * 1500);
    const wd = uniformArray(r, 9 * 16 * 9);
    const bd = uniformArray(r, 9);
    const x = tensor(xd, xs, { device: dev });
    const w = tensor(wd, ws, { device: dev });
    const b = tensor(bd, [9], { device: dev });
    await withVariant(v, async () => {
      const [names, y] = launched(() => conv2d(x, w, b, { padding: 1 }));
      expect(names.filter((n) => n === kernel).length).toBeGreaterThan(1); // input-channel blocks, the later ones accumulating
      expectSamples('y', await y.toArray(), (q) => conv2dAt(xd, xs, wd, ws, bd, 1, q), samples(r, ys), ys, 145);
      y.dispose();
    });
    for (const t of [x, w, b]) t.dispose();
  });
});

describe('conv Winograd F(4x4, 3x3) path', () => {
  const isWino = (n: string) => n.startsWith('winograd_');
  test.skipIf(skip)("auto: Winograd for wide 3x3 stride-1 convs (both directions and their input gradients) on 8/16-lane adapters, never when 'subgroup' or 'portable'", () => {
    const a = dev.adapter;
    const sg = fixedSubgroups(a);
    const r = rng(720);
    // Big enough for 'auto' (at least 2 subgroups of 4-tile quads: 2 x 8 x 2 of them here).
    const x = tensor(randnArray(r, 2 * 32 * 32 * 32), [2, 32, 32, 32], { device: dev, requiresGrad: true });
    const w = tensor(randnArray(r, 24 * 32 * 9), [24, 32, 3, 3], { device: dev, requiresGrad: true });
    const wt = tensor(randnArray(r, 32 * 24 * 9), [32, 24, 3, 3], { device: dev, requiresGrad: true });
    const [names] = launched(() => {
      conv2d(x, w, null, { padding: 1 }).sum().backward();
      convTranspose2d(x, wt).sum().backward();
    });
    // 4 passes for each forward and each input gradient, 4 for each weight gradient but conv2d's, which reuses its
    // forward's transformed input (3): one winograd_input per forward and input gradient, one for convTranspose2d's dW;
    // but conv2d's input gradient (24 -> 32 channels, 32 wide rows: few channels, vec4 rows, nothing to keep) is one
    // winograd_fused pass after its weight transform (2).
    expect(names.filter(isWino).length).toBe(sg ? 21 : 0);
    expect(names.filter((n) => n === 'winograd_fused').length).toBe(sg ? 1 : 0);
    // Over rows a multiple of 4 wide (x and conv2d's gradient, 32) the vec4 data transform, over rows 2 mod 4 wide
    // (convTranspose2d's 34 wide gradient, for its input gradient and its weight gradient) the vec2 one.
    expect(names.filter((n) => n === 'winograd_input_vec4').length).toBe(sg ? 2 : 0);
    expect(names.filter((n) => n === 'winograd_input_vec2').length).toBe(sg ? 2 : 0);
    expect(names.filter((n) => n === 'winograd_input').length).toBe(0);
    expect(names.filter((n) => n === 'winograd_weight').length).toBe(sg ? 4 : 0);
    expect(names.filter((n) => n === 'winograd_wgrad_output').length).toBe(sg ? 2 : 0);
    for (const v of ['subgroup', 'portable'] as const) {
      const prev = setConvPolicy({ convForward: v });
      try {
        const [forced] = launched(() => void conv2d(x, w, null, { padding: 1 }));
        expect(forced.filter(isWino)).toEqual([]);
      } finally {
        prev();
      }
    }
    for (const t of [x, w, wt, x.grad!, w.grad!, wt.grad!]) t.dispose();
  });

  test.skipIf(skip)('bands and batch blocks: x [2, 64, 240, 240] conv 64 -> 64 over two bands of tile rows per item, forward and weight gradient', async () => {
    const r = rng(730);
    const xs: Shape4 = [2, 64, 240, 240];
    const ws: Shape4 = [64, 64, 3, 3];
    const ys: Shape4 = [2, 64, 240, 240];
    const xd = uniformArray(r, xs.reduce((p, q) => p * q));
    const wd = uniformArray(r, ws.reduce((p, q) => p * q), -0.1, 0.1);
    const bd = uniformArray(r, 64);
    const gd = uniformArray(r, ys.reduce((p, q) => p * q));
    const x = tensor(xd, xs, { device: dev });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const b = tensor(bd, [64], { device: dev });
    const gy = tensor(gd, ys, { device: dev });
    const prevW = setConvPolicy({ convWeightGrad: 'winograd' });
    try {
      await withVariant('winograd', async () => {
        const [names, y] = launched(() => conv2d(x, w, b, { padding: 1 }));
        expect(names.filter((n) => n === 'winograd_gemm').length).toBe(4);
        expectSamples('y', await y.toArray(), (q) => conv2dAt(xd, xs, wd, ws, bd, 1, q), samples(r, ys), ys, 64 * 9 + 1, WINO);
        // The weight gradient over the same 4 bands: 4 slots summed by the output pass.
        const [bnames] = launched(() => y.backward(gy));
        expect(bnames.filter((n) => n === 'winograd_wgrad_gemm').length).toBe(4);
        const gw = await w.grad!.toArray();
        for (const i of [0, 4, 13, 17, 9 * 64 * 33 + 5, 9 * 64 * 64 - 1]) {
          const [co, ci, ky, kx] = [Math.floor(i / (9 * 64)), Math.floor(i / 9) % 64, Math.floor(i / 3) % 3, i % 3];
          const [want, abs] = conv2dGradWAt(xd, xs, gd, ys, 1, co, ci, ky, kx);
          expect(Math.abs(gw[i]! - want), `dW[${i}]: got ${gw[i]}, want ${want} (sum |terms| ${abs})`).toBeLessThanOrEqual(2e-5 * abs + 1e-4);
        }
        y.dispose();
      });
    } finally {
      prevW();
    }
    for (const t of [x, w, b, gy, w.grad!]) t.dispose();
  });

  // Over the binding limit: x and dX [1, 20, 1500, 1500] (180 MB) split into channel blocks (input blocks accumulate in
  // the forward, output blocks in the input gradient, x-channel blocks in the weight gradient).
  test.skipIf(skip)('over the binding limit: x [1, 20, 1500, 1500] (180 MB), forward, input and weight gradients in channel blocks', async () => {
    const r = rng(750);
    const xs: Shape4 = [1, 20, 1500, 1500];
    const ws: Shape4 = [16, 20, 3, 3];
    const ys: Shape4 = [1, 16, 1500, 1500];
    expect(xs.reduce((p, q) => p * q) * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const xd = uniformArray(r, xs.reduce((p, q) => p * q));
    const wd = uniformArray(r, ws.reduce((p, q) => p * q), -0.3, 0.3);
    const bd = uniformArray(r, 16);
    const gd = uniformArray(r, ys.reduce((p, q) => p * q));
    const x = tensor(xd, xs, { device: dev, requiresGrad: true });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const b = tensor(bd, [16], { device: dev });
    const gy = tensor(gd, ys, { device: dev });
    const prevW = setConvPolicy({ convWeightGrad: 'winograd' });
    try {
      await withVariant('winograd', async () => {
        const [names, y] = launched(() => conv2d(x, w, b, { padding: 1 }));
        expect(names.some((n) => n.startsWith('conv'))).toBe(false);
        expect(names.filter((n) => n === 'winograd_gemm').length).toBeGreaterThan(1);
        expectSamples('y', await y.toArray(), (q) => conv2dAt(xd, xs, wd, ws, bd, 1, q), samples(r, ys, 300), ys, 20 * 9 + 1, WINO);
        const [bnames] = launched(() => y.backward(gy));
        expect(bnames.some((n) => n.startsWith('conv2d') || n.startsWith('conv_transpose2d'))).toBe(false);
        expectSamples('dX', await x.grad!.toArray(), (q) => conv2dGradXAt(gd, ys, wd, ws, 1, q), samples(r, xs, 300), xs, 16 * 9, WINO);
        const gw = await w.grad!.toArray();
        for (const i of [0, 7, 100, 20 * 9 * 16 - 1]) {
          const [co, ci, ky, kx] = [Math.floor(i / 180), Math.floor(i / 9) % 20, Math.floor(i / 3) % 3, i % 3];
          const [want, abs] = conv2dGradWAt(xd, xs, gd, ys, 1, co, ci, ky, kx);
          expect(Math.abs(gw[i]! - want), `dW[${i}]`).toBeLessThanOrEqual(2e-5 * abs + 1e-4);
        }
        y.dispose();
      });
    } finally {
      prevW();
    }
    for (const t of [x, w, b, gy, x.grad!, w.grad!]) t.dispose();
  });

  // Transformed weights over the limit: 36 * 1024 * 1024 floats (151 MB) in input-channel blocks; the weight gradient's
  // slots in channel blocks.
  test.skipIf(skip)('1024 -> 1024 channels: transformed weights and weight-gradient slots in channel blocks', async () => {
    const r = rng(760);
    const xs: Shape4 = [1, 1024, 12, 12];
    const ws: Shape4 = [1024, 1024, 3, 3];
    const ys: Shape4 = [1, 1024, 10, 10];
    const xd = uniformArray(r, xs.reduce((p, q) => p * q));
    const wd = uniformArray(r, ws.reduce((p, q) => p * q), -0.05, 0.05);
    const gd = uniformArray(r, ys.reduce((p, q) => p * q));
    const x = tensor(xd, xs, { device: dev });
    const w = tensor(wd, ws, { device: dev, requiresGrad: true });
    const gy = tensor(gd, ys, { device: dev });
    const prevW = setConvPolicy({ convWeightGrad: 'winograd' });
    try {
      await withVariant('winograd', async () => {
        const [names, y] = launched(() => conv2d(x, w));
        expect(names.filter((n) => n === 'winograd_weight').length).toBe(2);
        expectSamples('y', await y.toArray(), (q) => conv2dAt(xd, xs, wd, ws, null, 0, q), samples(r, ys, 200), ys, 1024 * 9, WINO);
        const [bnames] = launched(() => y.backward(gy));
        expect(bnames.filter((n) => n === 'winograd_wgrad_output').length).toBeGreaterThan(1);
        const gw = await w.grad!.toArray();
        for (const i of [0, 5, 9 * 1024 * 700 + 13, 9 * 1024 * 1024 - 1]) {
          const [co, ci, ky, kx] = [Math.floor(i / (9 * 1024)), Math.floor(i / 9) % 1024, Math.floor(i / 3) % 3, i % 3];
          const [want, abs] = conv2dGradWAt(xd, xs, gd, ys, 0, co, ci, ky, kx);
          expect(Math.abs(gw[i]! - want), `dW[${i}]`).toBeLessThanOrEqual(2e-5 * abs + 1e-4);
        }
        y.dispose();
      });
    } finally {
      prevW();
    }
    for (const t of [x, w, gy, w.grad!]) t.dispose();
  });

  test.skipIf(skip)("'winograd' on a device without subgroups is a clear error", async () => {
    const x = tensor(randnArray(rng(740), 16 * 25), [1, 16, 5, 5], { device: dev });
    const w = tensor(randnArray(rng(741), 16 * 16 * 9), [16, 16, 3, 3], { device: dev });
    const facts = dev.adapter;
    const prev = setKernelPolicy(dev, { convForward: 'winograd' });
    (dev as { adapter: typeof facts }).adapter = { ...facts, features: facts.features.filter((f) => f !== 'subgroups') };
    try {
      // Refused when asked for, and when the facts no longer hold at the launch.
      expect(() => setKernelPolicy(dev, { convForward: 'winograd' })).toThrow(/convForward 'winograd' cannot run here: the adapter .* lacks the 'subgroups' feature/);
      expect(() => conv2d(x, w)).toThrow(/the Winograd kernels cannot run: the adapter .* lacks the 'subgroups' feature/);
    } finally {
      (dev as { adapter: typeof facts }).adapter = facts;
      setKernelPolicy(dev, prev);
    }
    for (const t of [x, w]) t.dispose();
  });
});

describe('kernel policy on any subgroup size an adapter may report', () => {
  // The subgroup and Winograd lane schemes assume >= 8 lanes: 'auto' must never take them elsewhere, and forcing them
  // must be refused (SwiftShader in Chromium reports 4-lane subgroups; real GPUs 32 or 64, or a range).
  const SIZES: [number, number][] = [[1, 1], [4, 4], [4, 64], [8, 8], [16, 16], [8, 32], [32, 32], [32, 64], [64, 64]];
  const facts = (min: number, max: number) => ({ vendor: 'test', architecture: '', description: `subgroups ${min}..${max}`, features: ['subgroups'], subgroupMinSize: min, subgroupMaxSize: max });
  const metaLeaf = (shape: number[]) => Tensor.empty(shape).requiresGrad_();
  test.each(SIZES)('subgroups %i..%i', (min, max) => {
    const dev = new RecordingMetaBackend(undefined, facts(min, max));
    const fixed = min === max && (min === 8 || min === 16);
    withDevice(dev, () => {
      const x = metaLeaf([2, 32, 16, 16]);
      const y = conv2d(x, metaLeaf([32, 32, 3, 3]), null, { padding: 1 });
      y.sum().backward();
    });
    const names = new Set(dev.launches.map((l) => l.kernel));
    const lane = [...names].filter((n) => n.endsWith('_sg') || n.startsWith('winograd_'));
    if (fixed) expect(lane.length).toBeGreaterThan(0);
    else expect(lane).toEqual([]);
    for (const v of ['subgroup', 'winograd'] as const) {
      for (const key of ['convForward', 'convWeightGrad'] as const) {
        if (min >= 8) expect(setKernelPolicy(dev, { [key]: v })[key]).toBe('auto');
        else expect(() => setKernelPolicy(dev, { [key]: v })).toThrow(new RegExp(`${key} '${v}' cannot run here: .* subgroups of ${min} lanes \\(subgroupMinSize\\), and these kernels need at least 8`));
        dev.policy = { ...dev.policy, [key]: 'auto' };
      }
    }
  });
});

describe('conv under noGrad', () => {
  test('noGrad records nothing', () => {
    const x = tensor(randnArray(rng(600), 2 * 8 * 8), [1, 2, 8, 8], { device: cpu32, requiresGrad: true });
    const w = tensor(randnArray(rng(601), 3 * 2 * 9), [3, 2, 3, 3], { device: cpu32, requiresGrad: true });
    const y = noGrad(() => conv2d(x, w));
    expect(y.requiresGrad).toBe(false);
    expect(y.shape).toEqual([1, 3, 6, 6]);
  });
});

// ---- Weight-gradient variants (conv2d_bwd_weight / conv2d_bwd_weight_sg / conv2d_bwd_weight_k2s2 and their selection) ----

/** Runs fn with the weight-gradient kernel choice set to v, restoring the previous choice. */
async function withWgrad<T>(v: ConvVariant, fn: () => Promise<T>): Promise<T> {
  const prev = setConvPolicy({ convWeightGrad: v });
  try {
    return await fn();
  } finally {
    prev();
  }
}

// The U-Net's weight-gradient geometries (3x3 'same' and 'valid', the 2x2 stride-2 up-conv, the 1x1 head) with channel
// counts around the 8-channel blocks.
const WGRAD_UNET: GradCase[] = [
  { transposed: false, x: [2, 11, 9, 13], w: [13, 11, 3, 3], o: { padding: 1 } },
  { transposed: false, x: [1, 9, 10, 7], w: [17, 9, 3, 3], o: {} },
  { transposed: true, x: [2, 12, 5, 7], w: [12, 9, 2, 2], o: { stride: 2 } },
  { transposed: false, x: [2, 16, 6, 5], w: [3, 16, 1, 1], o: {} },
  // Rows a multiple of 4 wide: the subgroup family's conv2d_bwd_weight_k2s2 (the up-conv's, and a direct 2x2 stride-2
  // conv's with an odd input row past the output's).
  { transposed: true, x: [2, 20, 5, 8], w: [20, 9, 2, 2], o: { stride: 2 } },
  { transposed: false, x: [1, 9, 11, 16], w: [12, 9, 2, 2], o: { stride: 2 } },
];

describe('conv weight-gradient selection', () => {
  test('setKernelPolicy rejects unknown weight-gradient families and returns the previous policy', () => {
    const d = cpuDevice();
    expect(() => setKernelPolicy(d, { convWeightGrad: 'fast' as ConvVariant })).toThrow(ArgumentError);
    const prev = setKernelPolicy(d, { convWeightGrad: 'portable' });
    expect(setKernelPolicy(d, prev).convWeightGrad).toBe('portable');
  });

  test.skipIf(skip)("auto: the subgroup kernel with the geometry's path where the adapter has 8- or 16-lane subgroups; portable when asked", async () => {
    const a = dev.adapter;
    const sg = fixedSubgroups(a);
    const wgrads = async (): Promise<string[]> => {
      const spy = vi.spyOn(dev, 'run');
      try {
        for (const [i, c] of WGRAD_UNET.entries()) {
          const r = rng(850 + i);
          const x = tensor(randnArray(r, c.x.reduce((p, q) => p * q)), c.x, { device: dev });
          const w = tensor(randnArray(r, c.w.reduce((p, q) => p * q)), c.w, { device: dev, requiresGrad: true });
          opOf(c)(x, w).sum().backward();
          for (const t of [x, w, w.grad!]) t.dispose();
        }
        return spy.mock.calls.filter((call) => (call[0] as KernelSpec).name.startsWith('conv2d_bwd_weight'))
          .map((call) => `${(call[0] as KernelSpec).name}${call[4]?.constants?.PATH !== undefined ? `@${call[4].constants.PATH}` : ''}`);
      } finally {
        spy.mockRestore();
      }
    };
    const sgNames = ['conv2d_bwd_weight_sg@1', 'conv2d_bwd_weight_sg@1', 'conv2d_bwd_weight_sg@3', 'conv2d_bwd_weight_sg@2', 'conv2d_bwd_weight_k2s2', 'conv2d_bwd_weight_k2s2'];
    expect(await wgrads()).toEqual(sg ? sgNames : Array(6).fill('conv2d_bwd_weight'));
    expect(await withWgrad('portable', wgrads)).toEqual(Array(6).fill('conv2d_bwd_weight'));
    if (a.features.includes('subgroups')) expect(await withWgrad('subgroup', wgrads)).toEqual(sgNames);
  });

  // GPU backward == CPU backward with either kernel forced: every autograd case, and the U-Net geometries.
  const cases = [...GRAD_CASES, ...WGRAD_UNET];
  const variants = ['portable', 'subgroup', 'winograd', 'tiled'] as const;
  test.skipIf(skip).each(variants.flatMap((v) => cases.map((c, i) => [i, v, gname(c), c] as const)))('GPU dW == CPU dW %i (%s): %s', async (i, v, _s, c) => {
    if (v === 'subgroup' && !dev.adapter.features.includes('subgroups')) return;
    const r = rng(870 + i);
    const d = { x: randnArray(r, c.x.reduce((p, q) => p * q)), w: randnArray(r, c.w.reduce((p, q) => p * q)) };
    const gyd = randnArray(rng(890 + i), 1 << 12);
    const run = async (device: Device) => {
      const x = tensor(d.x, c.x, { device });
      const w = tensor(d.w, c.w, { device, requiresGrad: true });
      const y = opOf(c)(x, w);
      const gy = tensor(gyd.subarray(0, y.numel), [...y.shape], { device });
      y.backward(gy);
      const gw = await w.grad!.toArray();
      for (const t of [x, w, y, gy, w.grad!]) t.dispose();
      return gw;
    };
    const before = stats(dev).liveBytes;
    const gw = await withWgrad(v, () => run(dev));
    expect(stats(dev).liveBytes).toBe(before);
    expect(gw, 'dW').toBeAllClose(await run(cpu64), reductionTol(1024, v === 'winograd' ? WINO : 4));
  });
});
