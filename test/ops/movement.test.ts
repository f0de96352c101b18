import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  withKernelPolicy, type KernelPolicy,
  ArgumentError,
  cat,
  dropout,
  interpolate,
  manualSeed,
  pad,
  ShapeError,
  stats,
  tensor,
  type Device,
  type InterpolateOptions,
  type Tensor,
} from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randInt, randnArray, randShape, rng } from '../helpers/random.js';
import { smallLimits } from '../helpers/small_limits.js';
import type { Rng } from '../../src/tensor/random.js';

/** cat with the device's policy for block moves set to `method` for the call. */
const catWith = (method: KernelPolicy['cat'], xs: readonly Tensor[], dim: number) => withKernelPolicy(xs[0]!.device, { cat: method }, () => cat(xs, dim));

const { skip, dev, devices } = await gpuSuite();

const EXACT = { rtol: 0, atol: 0 };
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const strides = (s: readonly number[]) => s.map((_, i) => prod(s.slice(i + 1)));

// ---------------------------------------------------------------- independent JS versions (no kernel code)

function naiveCat(xs: { data: ArrayLike<number>; shape: number[] }[], dim: number): { data: Float64Array; shape: number[] } {
  const r = xs[0]!.shape.length;
  const d = dim < 0 ? dim + r : dim;
  const shape = [...xs[0]!.shape];
  shape[d] = xs.reduce((s, x) => s + x.shape[d]!, 0);
  const out = new Float64Array(prod(shape));
  const os = strides(shape);
  let base = 0;
  for (const x of xs) {
    const xsd = strides(x.shape);
    for (let i = 0; i < x.data.length; i++) {
      let o = 0;
      for (let k = 0; k < r; k++) {
        const c = Math.floor(i / xsd[k]!) % x.shape[k]!;
        o += (k === d ? c + base : c) * os[k]!;
      }
      out[o] = x.data[i]!;
    }
    base += x.shape[d]!;
  }
  return { data: out, shape };
}

function naivePad(x: ArrayLike<number>, shape: number[], pads: number[], value: number) {
  const r = shape.length;
  const lo = shape.map((_, k) => (r - 1 - k < pads.length / 2 ? pads[2 * (r - 1 - k)]! : 0));
  const hi = shape.map((_, k) => (r - 1 - k < pads.length / 2 ? pads[2 * (r - 1 - k) + 1]! : 0));
  const out = shape.map((s, k) => s + lo[k]! + hi[k]!);
  const os = strides(out);
  const xs = strides(shape);
  const data = new Float64Array(prod(out));
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    let ok = true;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(i / os[k]!) % out[k]! - lo[k]!;
      if (c < 0 || c >= shape[k]!) ok = false;
      src += c * xs[k]!;
    }
    data[i] = ok ? x[src]! : Math.fround(value);
  }
  return { data, shape: out };
}

/** F.interpolate from PyTorch's formulas (UpSample.h): float32 coordinates as PyTorch's, float64 blending. */
function naiveInterp(x: ArrayLike<number>, shape: number[], o: InterpolateOptions) {
  const [N, C, H, W] = shape as [number, number, number, number];
  const two = (v: number | readonly number[]) => (typeof v === 'number' ? [v, v] : [...v]);
  const sf = o.scaleFactor === undefined ? undefined : two(o.scaleFactor);
  const [OH, OW] = o.size !== undefined ? two(o.size) : [Math.floor(H * sf![0]!), Math.floor(W * sf![1]!)];
  const align = !!o.alignCorners;
  const nearest = (out: number, inp: number, s?: number) => (j: number) => {
    if (out === inp) return [j, j, 0];
    if (out === 2 * inp) return [j >> 1, j >> 1, 0];
    const ratio = Math.fround(s !== undefined ? 1 / s : inp / out);
    const i = Math.min(Math.floor(Math.fround(j * ratio)), inp - 1);
    return [i, i, 0];
  };
  const linear = (out: number, inp: number, s?: number) => (j: number) => {
    if (out === inp) return [j, j, 0];
    // PyTorch computes the ratio and the source coordinate in float32 (opmath of a float tensor).
    const f = Math.fround;
    const ratio = f(align ? (out > 1 ? (inp - 1) / (out - 1) : 0) : s !== undefined ? 1 / s : inp / out);
    const src = align ? f(ratio * j) : Math.max(f(f(ratio * (j + 0.5)) - 0.5), 0);
    const i0 = Math.min(Math.floor(src), inp - 1);
    return [i0, i0 + (i0 < inp - 1 ? 1 : 0), Math.min(Math.max(src - i0, 0), 1)];
  };
  const tap = o.mode === 'bilinear' ? linear : nearest;
  const th = tap(OH!, H, sf?.[0]);
  const tw = tap(OW!, W, sf?.[1]);
  const data = new Float64Array(N * C * OH! * OW!);
  let i = 0;
  for (let q = 0; q < N * C; q++) {
    for (let oy = 0; oy < OH!; oy++) {
      const [h0, h1, lh] = th(oy) as [number, number, number];
      for (let ox = 0; ox < OW!; ox++) {
        const [w0, w1, lw] = tw(ox) as [number, number, number];
        const at = (h: number, w: number) => x[(q * H + h) * W + w]!;
        data[i++] = (1 - lh) * ((1 - lw) * at(h0, w0) + lw * at(h0, w1)) + lh * ((1 - lw) * at(h1, w0) + lw * at(h1, w1));
      }
    }
  }
  return { data, shape: [N, C, OH!, OW!] };
}

// ---------------------------------------------------------------- helpers

const on = (d: Device, data: ArrayLike<number>, shape: readonly number[], requiresGrad = false) =>
  tensor(Float32Array.from(data), [...shape], { device: d, requiresGrad });

async function read(t: Tensor): Promise<Float64Array> {
  const a = Float64Array.from(await t.toArray());
  t.dispose();
  return a;
}

/** Output and input gradients of f on `device` for a given gy (backward with a seed). */
async function forwardBackward(device: Device, f: (...xs: Tensor[]) => Tensor, inputs: { data: ArrayLike<number>; shape: number[] }[], gy?: (n: number) => Float32Array) {
  const xs = inputs.map((i) => on(device, i.data, i.shape, true));
  const y = f(...xs);
  const g = tensor(gy ? gy(y.numel) : Float32Array.from({ length: y.numel }, (_, i) => Math.sin(0.37 * i + 0.1)), [...y.shape], { device });
  const shape = [...y.shape];
  y.backward(g);
  const out = await y.toArray();
  const grads = await Promise.all(xs.map((x) => x.grad!.toArray()));
  for (const t of [y, g, ...xs, ...xs.map((x) => x.grad!)]) t.dispose();
  return { y: out, shape, grads };
}

// ---------------------------------------------------------------- cat

function catCase(r: Rng) {
  const rank = randInt(r, 1, 4);
  const base = randShape(r, rank, 1, 6);
  const d = randInt(r, -rank, rank - 1);
  const k = randInt(r, 1, 3);
  const inputs = Array.from({ length: k }, () => {
    const s = [...base];
    s[d < 0 ? d + rank : d] = randInt(r, 1, 5);
    return { data: randnArray(r, prod(s)), shape: s };
  });
  return { inputs, dim: d };
}

describe('cat', () => {
  test('every dim (negative too), 1-3 inputs, copy and kernel paths: bit-exact vs JS', async () => {
    const r = rng(11);
    for (let t = 0; t < 24; t++) {
      const { inputs, dim } = catCase(r);
      const want = naiveCat(inputs, dim);
      for (const d of devices(cpu32)) {
        for (const method of ['auto', 'copy', 'kernel'] as const) {
          const y = catWith(method, inputs.map((i) => on(d, i.data, i.shape)), dim);
          expect(y.shape).toEqual(want.shape);
          expect(await read(y)).toBeAllClose(want.data, EXACT);
        }
      }
    }
  });

  test('NCHW channel concat: batch > 1, C = 1 and 3, odd H and W', async () => {
    const r = rng(12);
    for (const [n, c1, c2, h, w] of [[2, 1, 3, 5, 7], [3, 3, 1, 9, 3], [1, 3, 3, 11, 13]]) {
      const a = { data: randnArray(r, n! * c1! * h! * w!), shape: [n!, c1!, h!, w!] };
      const b = { data: randnArray(r, n! * c2! * h! * w!), shape: [n!, c2!, h!, w!] };
      const want = naiveCat([a, b], 1);
      for (const d of devices(cpu32)) {
        for (const method of ['auto', 'kernel'] as const) {
          const y = catWith(method, [on(d, a.data, a.shape), on(d, b.data, b.shape)], 1);
          expect(await read(y)).toBeAllClose(want.data, EXACT);
        }
      }
    }
  });

  test('shape errors name the op and the shapes', () => {
    const a = on(cpu32, new Float32Array(24), [1, 2, 3, 4]);
    const b = on(cpu32, new Float32Array(30), [1, 2, 3, 5]);
    expect(() => cat([a, b], 1)).toThrow(ShapeError);
    expect(() => cat([a, b], 1)).toThrow(/^cat: x0 \[1, 2, 3, 4\] and x1 \[1, 2, 3, 5\] differ in dim 3/);
    expect(() => cat([a, on(cpu32, new Float32Array(6), [2, 3])], 0)).toThrow(/^cat: .*same number of dims/);
    expect(() => cat([a, a], 4)).toThrow(ShapeError);
    expect(() => cat([], 0)).toThrow(ArgumentError);
    expect(cat([a, b], -1).shape).toEqual([1, 2, 3, 9]);
  });

  test('gradcheck (float64, CPU) for every input', async () => {
    const r = rng(13);
    for (const dim of [0, 1, -1]) {
      const shapes = dim === 0 ? [[1, 2, 3], [2, 2, 3]] : dim === 1 ? [[2, 1, 3], [2, 3, 3]] : [[2, 2, 1], [2, 2, 2]];
      const inputs = shapes.map((s) => ({ data: randnArray(r, prod(s)), shape: s }));
      const rep = await gradcheck((a, b) => cat([a!, b!], dim), inputs);
      expect(rep.worst, rep.where).toBeLessThan(1);
    }
  });

  test.skipIf(skip)('GPU backward == CPU backward (bit-exact), both paths', async () => {
    const r = rng(14);
    for (let t = 0; t < 8; t++) {
      const { inputs, dim } = catCase(r);
      for (const method of ['copy', 'kernel'] as const) {
        const f = (...xs: Tensor[]) => catWith(method, xs, dim);
        const g = await forwardBackward(dev, f, inputs);
        const c = await forwardBackward(cpu32, f, inputs);
        expect(g.y).toBeAllClose(c.y, EXACT);
        g.grads.forEach((gr, i) => expect(gr).toBeAllClose(c.grads[i]!, EXACT));
        // independent: the gradient of input i is its slice of gy
        const gy = Float32Array.from({ length: c.y.length }, (_, i) => Math.sin(0.37 * i + 0.1));
        const parts = naiveCat(inputs.map((x, i) => ({ data: Float64Array.from({ length: x.data.length }, (_, j) => i * 1e6 + j), shape: x.shape })), dim);
        const want = inputs.map((x) => new Float64Array(x.data.length));
        parts.data.forEach((tag, o) => (want[Math.floor(tag / 1e6)]![tag % 1e6] = gy[o]!));
        g.grads.forEach((gr, i) => expect(gr).toBeAllClose(want[i]!, EXACT));
      }
    }
  });
});

// ---------------------------------------------------------------- pad

function padCase(r: Rng) {
  const rank = randInt(r, 1, 5);
  const shape = randShape(r, rank, 1, 6);
  const k = randInt(r, 1, rank);
  const pads: number[] = [];
  for (let j = 0; j < k; j++) {
    const s = shape[rank - 1 - j]!;
    let lo = randInt(r, -2, 3);
    let hi = randInt(r, -2, 3);
    while (s + lo + hi < 1) [lo, hi] = [lo + 1, hi + 1];
    pads.push(lo, hi);
  }
  return { data: randnArray(r, prod(shape)), shape, pads, value: r.uniform() < 0.3 ? 0 : r.normal() };
}

describe('pad', () => {
  test('asymmetric and negative pads over 1-5 dims: bit-exact vs JS', async () => {
    const r = rng(21);
    for (let t = 0; t < 30; t++) {
      const c = padCase(r);
      const want = naivePad(c.data, c.shape, c.pads, c.value);
      for (const d of devices(cpu32)) {
        const y = pad(on(d, c.data, c.shape), c.pads, c.value);
        expect(y.shape).toEqual(want.shape);
        expect(await read(y)).toBeAllClose(want.data, EXACT);
      }
    }
  });

  test('NCHW: batch > 1, C = 1 and 3, crop like the U-Net skip path', async () => {
    const r = rng(22);
    // Rows of 4 and 8 (the crops, and the pad to 12): pad_vec4 on the GPU.
    for (const [shape, pads] of [[[2, 3, 7, 9], [1, 0, 2, 1]], [[3, 1, 8, 8], [-2, -2, -2, -2]], [[1, 3, 5, 4], [0, 3, -1, 2]], [[2, 3, 10, 10], [-1, -1, -1, -1]], [[2, 2, 5, 8], [1, 3, 0, 1]]] as const) {
      const x = randnArray(r, prod(shape));
      const want = naivePad(x, [...shape], [...pads], 0);
      for (const d of devices(cpu32)) expect(await read(pad(on(d, x, shape), [...pads]))).toBeAllClose(want.data, EXACT);
    }
  });

  test('errors', () => {
    const x = on(cpu32, new Float32Array(12), [3, 4]);
    expect(() => pad(x, [1])).toThrow(ArgumentError);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1])).toThrow(ArgumentError);
    expect(() => pad(x, [-3, -2])).toThrow(/^pad: dim 1 of x \[3, 4\]/);
    expect(pad(x, [-2, -2]).shape).toEqual([3, 0]);
  });

  test('gradcheck (float64, CPU)', async () => {
    const r = rng(23);
    for (const [shape, pads] of [[[1, 2, 3, 3], [1, 2, 0, 1]], [[2, 1, 4, 5], [-1, 2, 1, -2]], [[3, 4], [2, -1, -1, 1]]] as const) {
      const rep = await gradcheck((x) => pad(x!, [...pads], 0.5), [{ data: randnArray(r, prod(shape)), shape: [...shape] }]);
      expect(rep.worst, rep.where).toBeLessThan(1);
    }
  });

  test.skipIf(skip)('GPU backward == CPU backward (bit-exact) == the crop of gy', async () => {
    const r = rng(24);
    for (let t = 0; t < 10; t++) {
      const c = padCase(r);
      const f = (x: Tensor) => pad(x, c.pads, c.value);
      const g = await forwardBackward(dev, f as never, [c]);
      const cp = await forwardBackward(cpu32, f as never, [c]);
      expect(g.grads[0]).toBeAllClose(cp.grads[0]!, EXACT);
      const gy = Float32Array.from({ length: g.y.length }, (_, i) => Math.sin(0.37 * i + 0.1));
      const want = naivePad(gy, g.shape, c.pads.map((v) => -v), 0);
      expect(g.grads[0]).toBeAllClose(want.data, EXACT);
    }
  });
});

// ---------------------------------------------------------------- interpolate

function interpCase(r: Rng, mode: 'nearest' | 'bilinear'): { data: Float32Array; shape: number[]; opts: InterpolateOptions } {
  const shape = [randInt(r, 1, 2), [1, 3][randInt(r, 0, 1)]!, randInt(r, 1, 9), randInt(r, 1, 9)];
  const opts: InterpolateOptions = { mode };
  if (mode === 'bilinear') opts.alignCorners = r.uniform() < 0.5;
  const u = r.uniform();
  if (u < 0.4) opts.size = [randInt(r, 1, 15), randInt(r, 1, 15)];
  else {
    const pick = () => [0.5, 0.6, 0.75, 1, 1.3, 1.7, 2, 2.5, 3][randInt(r, 0, 8)]!;
    opts.scaleFactor = u < 0.7 ? pick() : [pick(), pick()];
  }
  const sf = opts.scaleFactor;
  if (sf !== undefined) {
    const [a, b] = typeof sf === 'number' ? [sf, sf] : sf;
    if (Math.floor(shape[2]! * a!) < 1) shape[2] = 2;
    if (Math.floor(shape[3]! * b!) < 1) shape[3] = 2;
  }
  return { data: randnArray(r, prod(shape)), shape, opts };
}

// PyTorch 1.13 (F.interpolate) on x [1, 1, 3, 5] = arange(15) * 0.37 - 1.1 in float32, gy = arange(n) * 0.1:
// test/fixtures/torch/interpolate_values.json, made by scripts/fixtures/make_op_fixtures.py.
interface JsTensor {
  shape: number[];
  data: number[];
}
const TORCH: { x: JsTensor; cases: { args: InterpolateOptions; out: JsTensor; gy?: JsTensor; gx?: JsTensor }[] } = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/torch/interpolate_values.json'), 'utf8'),
);

describe('interpolate', () => {
  test('PyTorch 1.13 values: non-integer scale factors, size, both align modes, forward and backward', async () => {
    for (const c of TORCH.cases) {
      for (const d of devices(cpu32)) {
        const x = on(d, TORCH.x.data, TORCH.x.shape, true);
        const y = interpolate(x, c.args);
        expect(y.shape).toEqual(c.out.shape);
        const tol = c.args.mode === 'bilinear' ? { rtol: 2e-6, atol: 2e-6 } : { rtol: 1e-7, atol: 0 };
        expect(await y.toArray()).toBeAllClose(c.out.data, tol);
        if (c.gx) {
          y.backward(on(d, c.gy!.data, y.shape));
          expect(await x.grad!.toArray()).toBeAllClose(c.gx.data, { rtol: 2e-6, atol: 2e-6 });
        }
      }
    }
  });

  test('nearest: size and scale factor, up and down: bit-exact vs PyTorch formula in JS', async () => {
    const r = rng(31);
    for (let t = 0; t < 20; t++) {
      const c = interpCase(r, 'nearest');
      const want = naiveInterp(c.data, c.shape, c.opts);
      for (const d of devices(cpu32)) {
        const y = interpolate(on(d, c.data, c.shape), c.opts);
        expect(y.shape).toEqual(want.shape);
        expect(await read(y)).toBeAllClose(want.data, EXACT);
      }
    }
  });

  test('bilinear: size and scale factor, up and down, both align_corners: vs float64 JS', async () => {
    const r = rng(32);
    for (let t = 0; t < 24; t++) {
      const c = interpCase(r, 'bilinear');
      const want = naiveInterp(c.data, c.shape, c.opts);
      for (const d of devices(cpu32)) {
        const y = interpolate(on(d, c.data, c.shape), c.opts);
        expect(y.shape).toEqual(want.shape);
        expect(await read(y)).toBeAllClose(want.data, { rtol: 1e-5, atol: 1e-5 });
      }
    }
  });

  test('U-Net path: bilinear scale 2, align_corners true', async () => {
    const r = rng(33);
    const shape = [2, 3, 7, 5];
    const x = randnArray(r, prod(shape));
    const opts: InterpolateOptions = { scaleFactor: 2, mode: 'bilinear', alignCorners: true };
    const want = naiveInterp(x, shape, opts);
    for (const d of devices(cpu32)) expect(await read(interpolate(on(d, x, shape), opts))).toBeAllClose(want.data, { rtol: 1e-5, atol: 1e-5 });
  });

  test('errors', () => {
    const x = on(cpu32, new Float32Array(12), [1, 1, 3, 4]);
    expect(() => interpolate(on(cpu32, new Float32Array(12), [3, 4]), { size: 2 })).toThrow(ShapeError);
    expect(() => interpolate(x, {})).toThrow(ArgumentError);
    expect(() => interpolate(x, { size: 2, scaleFactor: 2 })).toThrow(ArgumentError);
    expect(() => interpolate(x, { size: 2, alignCorners: true })).toThrow(ArgumentError);
    expect(() => interpolate(x, { scaleFactor: 0.1 })).toThrow(/^interpolate: input and output sizes/);
  });

  test('gradcheck (float64, CPU): nearest and bilinear, both align modes, up and down', async () => {
    const r = rng(34);
    const cases: [number[], InterpolateOptions][] = [
      [[1, 2, 3, 4], { scaleFactor: 2, mode: 'bilinear', alignCorners: true }],
      [[2, 1, 3, 3], { size: [5, 7], mode: 'bilinear', alignCorners: false }],
      [[1, 1, 5, 6], { scaleFactor: 0.6, mode: 'bilinear', alignCorners: false }],
      [[1, 1, 6, 5], { size: [4, 2], mode: 'bilinear', alignCorners: true }],
      [[1, 2, 3, 4], { scaleFactor: [1.7, 2], mode: 'nearest' }],
      [[1, 1, 7, 5], { size: [3, 4], mode: 'nearest' }],
    ];
    for (const [shape, opts] of cases) {
      const rep = await gradcheck((x) => interpolate(x!, opts), [{ data: randnArray(r, prod(shape)), shape }]);
      expect(rep.worst, `${JSON.stringify(opts)}: ${rep.where}`).toBeLessThan(1);
    }
  });

  test.skipIf(skip)('GPU backward == CPU backward', async () => {
    const r = rng(35);
    for (let t = 0; t < 16; t++) {
      const c = interpCase(r, t % 2 ? 'bilinear' : 'nearest');
      const f = (x: Tensor) => interpolate(x, c.opts);
      const g = await forwardBackward(dev, f as never, [c]);
      if (c.opts.mode === 'nearest') {
        const cp = await forwardBackward(cpu32, f as never, [c]);
        expect(g.grads[0]).toBeAllClose(cp.grads[0]!, EXACT);
      } else {
        const cp = await forwardBackward(cpu64, f as never, [c]);
        expect(g.grads[0]).toBeAllClose(cp.grads[0]!, { rtol: 1e-5, atol: 1e-5 });
      }
    }
  });
});

// ---------------------------------------------------------------- dropout

describe('dropout', () => {
  test('training: zeroes about p of the elements, scales the rest by 1/(1-p); GPU == CPU bit-exact', async () => {
    const r = rng(41);
    const shape = [2, 3, 31, 17];
    const x = randnArray(r, prod(shape));
    for (const p of [0.1, 0.5, 0.8]) {
      const ys = [];
      for (const d of devices(cpu32)) ys.push(await read(dropout(on(d, x, shape), p, true, { seed: 1234 })));
      for (const y of ys) expect(y).toBeAllClose(ys[0]!, EXACT);
      const y = ys[0]!;
      let zeros = 0;
      y.forEach((v, i) => {
        if (v === 0) zeros++;
        else expect(v).toBe(Math.fround(x[i]! * Math.fround(1 / (1 - p))));
      });
      expect(Math.abs(zeros / y.length - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / y.length));
    }
  });

  test('channels (dropout2d): whole [n, c] planes, about p of them', async () => {
    const r = rng(42);
    const shape = [4, 50, 3, 5];
    const x = uniformNonZero(r, prod(shape));
    for (const d of devices(cpu32)) {
      const y = await read(dropout(on(d, x, shape), 0.4, true, { channels: true, seed: 99 }));
      let dropped = 0;
      for (let q = 0; q < 200; q++) {
        const plane = y.subarray(q * 15, q * 15 + 15);
        const z = plane.filter((v) => v === 0).length;
        expect(z === 0 || z === 15).toBe(true);
        if (z === 15) dropped++;
      }
      expect(Math.abs(dropped / 200 - 0.4)).toBeLessThan(5 * Math.sqrt(0.24 / 200));
    }
  });

  test('eval and p = 0 are the identity; p = 1 gives zeros; seeds and the global generator', async () => {
    const r = rng(43);
    const x = uniformNonZero(r, 300);
    for (const d of devices(cpu32)) {
      expect(await read(dropout(on(d, x, [300]), 0.5, false))).toBeAllClose(x, EXACT);
      expect(await read(dropout(on(d, x, [300]), 0, true))).toBeAllClose(x, EXACT);
      expect(await read(dropout(on(d, x, [300]), 1, true))).toBeAllClose(new Float32Array(300), EXACT);
      const a = await read(dropout(on(d, x, [300]), 0.5, true, { seed: 5 }));
      const b = await read(dropout(on(d, x, [300]), 0.5, true, { seed: 5 }));
      const c = await read(dropout(on(d, x, [300]), 0.5, true, { seed: 6 }));
      expect(a).toBeAllClose(b, EXACT);
      expect(a.some((v, i) => v !== c[i])).toBe(true);
      manualSeed(77);
      const g1 = await read(dropout(on(d, x, [300]), 0.5));
      const g2 = await read(dropout(on(d, x, [300]), 0.5));
      manualSeed(77);
      const g3 = await read(dropout(on(d, x, [300]), 0.5));
      expect(g1).toBeAllClose(g3, EXACT);
      expect(g1.some((v, i) => v !== g2[i])).toBe(true);
    }
    expect(() => dropout(on(cpu32, x, [300]), 1.5)).toThrow(ArgumentError);
    expect(() => dropout(on(cpu32, x, [300]), 0.5, true, { channels: true })).toThrow(ShapeError);
  });

  test('backward multiplies gy by the same mask; GPU == CPU; gradcheck (float64, CPU)', async () => {
    const r = rng(44);
    const shape = [2, 3, 4, 5];
    const x = uniformNonZero(r, prod(shape));
    for (const channels of [false, true]) {
      const f = (t: Tensor) => dropout(t, 0.3, true, { channels, seed: 2024 });
      const runs = [];
      for (const d of devices(cpu32)) runs.push(await forwardBackward(d, f as never, [{ data: x, shape }]));
      for (const run of runs) {
        expect(run.y).toBeAllClose(runs[0]!.y, EXACT);
        expect(run.grads[0]).toBeAllClose(runs[0]!.grads[0]!, EXACT);
        const gy = Float32Array.from({ length: x.length }, (_, i) => Math.sin(0.37 * i + 0.1));
        expect(run.grads[0]).toBeAllClose(gy.map((g, i) => (run.y[i] === 0 ? 0 : g * Math.fround(1 / 0.7))), EXACT);
      }
      const rep = await gradcheck((t) => f(t!), [{ data: x, shape }]);
      expect(rep.worst, rep.where).toBeLessThan(1);
    }
    // eval mode passes the gradient through
    const rep = await gradcheck((t) => dropout(t!, 0.5, false), [{ data: x.subarray(0, 10), shape: [10] }]);
    expect(rep.worst).toBeLessThan(1);
  });
});

function uniformNonZero(r: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (r.uniform() < 0.5 ? -1 : 1) * (0.5 + r.uniform()));
}

// ---------------------------------------------------------------- memory

describe('memory', () => {
  test('forward + backward of every op leaves no live tensor or storage behind', async () => {
    const r = rng(61);
    for (const d of devices(cpu32)) {
      const before = stats(d);
      const x = on(d, randnArray(r, 2 * 3 * 5 * 7), [2, 3, 5, 7], true);
      const ys = [
        catWith('kernel', [x, x], 1),
        cat([x, x], 0),
        pad(x, [1, -2, 0, 3]),
        interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }),
        interpolate(x, { size: [3, 4] }),
        dropout(x, 0.5, true, { seed: 1 }),
        dropout(x, 0.5, false),
      ];
      for (const y of ys) {
        const s = y.sum();
        s.backward();
        s.dispose();
        y.dispose();
      }
      await x.grad!.toArray();
      x.grad!.dispose();
      x.dispose();
      await d.sync();
      const after = stats(d);
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveStorages).toBe(before.liveStorages);
    }
  });
});

// ---------------------------------------------------------------- binding limits

describe('split over the binding limit (a device that claims 4 KiB bindings, 256-byte alignment)', () => {
  const small = (d: Device) => smallLimits(d, { maxBindingBytes: 4096, bindingOffsetAlignment: 256 });

  test('cat (kernel and copy paths) and its backward: same bits as unsplit', async () => {
    const r = rng(51);
    const cases = [
      { shapes: [[3, 2, 17, 23], [3, 5, 17, 23]], dim: 1 },
      { shapes: [[70, 33], [70, 41], [70, 5]], dim: 1 },
      { shapes: [[2, 40, 31], [2, 40, 30]], dim: -1 },
      { shapes: [[1500], [777]], dim: 0 },
    ];
    for (const d of devices(cpu32)) {
      for (const { shapes, dim } of cases) {
        const inputs = shapes.map((s) => ({ data: randnArray(r, prod(s)), shape: s }));
        const want = naiveCat(inputs, dim);
        for (const method of ['auto', 'kernel', 'copy'] as const) {
          const f = (...xs: Tensor[]) => catWith(method, xs, dim);
          const big = await forwardBackward(d, f, inputs);
          const sm = await forwardBackward(small(d), f, inputs);
          expect(sm.y).toBeAllClose(want.data, EXACT);
          sm.grads.forEach((g, i) => expect(g).toBeAllClose(big.grads[i]!, EXACT));
        }
      }
    }
  });

  test('pad and its backward: same bits as unsplit, incl. slices of one row too big for a window', async () => {
    const r = rng(52);
    const cases: [number[], number[]][] = [
      [[3, 4, 19, 21], [2, -1, 3, 1]],
      [[2, 3000], [-5, 1200]],
      [[5000], [100, -300]],
      [[2, 3, 40, 41], [1, 1, 1, 1, 1, 2]],
      [[1, 2, 1100, 3], [0, 0, -1, 2, 1, -1]],
      [[2, 3, 40, 44], [-2, -2, 1, 1]], // rows of 40: pad_vec4 where a window's offset allows
    ];
    for (const d of devices(cpu32)) {
      for (const [shape, pads] of cases) {
        const x = randnArray(r, prod(shape));
        const f = (t: Tensor) => pad(t, pads, -0.25);
        const big = await forwardBackward(d, f as never, [{ data: x, shape }]);
        const sm = await forwardBackward(small(d), f as never, [{ data: x, shape }]);
        expect(sm.y).toBeAllClose(naivePad(x, shape, pads, -0.25).data, EXACT);
        expect(sm.grads[0]).toBeAllClose(big.grads[0]!, EXACT);
      }
    }
  });

  test('interpolate forward and backward: same bits as unsplit (planes per launch)', async () => {
    const r = rng(53);
    const cases: [number[], InterpolateOptions][] = [
      [[2, 3, 9, 11], { scaleFactor: 2, mode: 'bilinear', alignCorners: true }],
      [[3, 2, 13, 7], { size: [5, 9], mode: 'bilinear' }],
      [[2, 3, 10, 9], { scaleFactor: [1.5, 2.5], mode: 'nearest' }],
    ];
    for (const d of devices(cpu32)) {
      for (const [shape, opts] of cases) {
        const x = randnArray(r, prod(shape));
        const f = (t: Tensor) => interpolate(t, opts);
        const big = await forwardBackward(d, f as never, [{ data: x, shape }]);
        const sm = await forwardBackward(small(d), f as never, [{ data: x, shape }]);
        expect(sm.y).toBeAllClose(big.y, EXACT);
        expect(sm.grads[0]).toBeAllClose(big.grads[0]!, EXACT);
      }
    }
    // one plane larger than a binding cannot be split: LimitError, nothing leaked
    expect(() => interpolate(on(small(cpu32), new Float32Array(40 * 40), [1, 1, 40, 40]), { scaleFactor: 2 })).toThrow(/maxStorageBufferBindingSize/);
  });

  test('dropout: same bits as unsplit', async () => {
    const r = rng(54);
    const x = randnArray(r, 5000);
    for (const d of devices(cpu32)) {
      for (const channels of [false, true]) {
        const f = (t: Tensor) => dropout(t, 0.4, true, { channels, seed: 7 });
        const big = await forwardBackward(d, f as never, [{ data: x, shape: [2, 5, 500] }]);
        const sm = await forwardBackward(small(d), f as never, [{ data: x, shape: [2, 5, 500] }]);
        expect(sm.y).toBeAllClose(big.y, EXACT);
        expect(sm.grads[0]).toBeAllClose(big.grads[0]!, EXACT);
      }
    }
  });
});

// ---------------------------------------------------------------- real tensors over lavapipe's 128 MiB binding limit

/** Deterministic non-zero pseudo-random f32 values, cheap to make in JS for 40M elements. */
function fillHash(n: number, salt: number): Float32Array {
  const a = new Float32Array(n);
  let h = salt >>> 0;
  for (let i = 0; i < n; i++) {
    h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    a[i] = ((h >>> 8) + 1) * 5.9604645e-8 - 0.5;
  }
  return a;
}

/** Mismatches of got vs want(i), checked at every `stride`-th index, plus a position-weighted checksum of all. */
function compare(got: ArrayLike<number>, want: (i: number) => number, stride = 1) {
  let bad = 0;
  let first = -1;
  let sGot = 0;
  let sWant = 0;
  for (let i = 0; i < got.length; i += stride) {
    const w = want(i);
    if (got[i] !== w) {
      bad++;
      if (first < 0) first = i;
    }
  }
  for (let i = 0; i < got.length; i++) {
    const wgt = (i % 1021) + 1;
    sGot += got[i]! * wgt;
    sWant += want(i) * wgt;
  }
  return { bad, first, checksum: sGot, expected: sWant };
}

describe.skipIf(skip)('over the real binding limit (GPU)', () => {
  const over = (numel: number) => numel * 4 > dev.limits.maxBindingBytes;

  test('cat of two [1, 64, 568, 568] along dim 1 (165 MB) and its backward', async () => {
    const n = 64 * 568 * 568;
    const a = fillHash(n, 1);
    const b = fillHash(n, 2);
    const ta = on(dev, a, [1, 64, 568, 568], true);
    const tb = on(dev, b, [1, 64, 568, 568], true);
    const y = cat([ta, tb], 1);
    expect(y.shape).toEqual([1, 128, 568, 568]);
    expect(over(y.numel)).toBe(true);
    const got = await y.toArray();
    const res = compare(got, (i) => (i < n ? a[i]! : b[i - n]!), 7);
    expect(res.bad).toBe(0);
    expect(res.checksum).toBe(res.expected);
    const gy = fillHash(2 * n, 3);
    y.backward(tensor(gy, [1, 128, 568, 568], { device: dev }));
    const ga = await ta.grad!.toArray();
    const gb = await tb.grad!.toArray();
    const ra = compare(ga, (i) => gy[i]!, 5);
    const rb = compare(gb, (i) => gy[n + i]!, 5);
    expect([ra.bad, rb.bad]).toEqual([0, 0]);
    expect([ra.checksum, rb.checksum]).toEqual([ra.expected, rb.expected]);
    for (const t of [ta, tb, y, ta.grad!, tb.grad!]) t.dispose();
  });

  test('cat through the kernel with odd rows: [4500, 5001] + [4500, 3003] along dim 1 (144 MB) and backward', async () => {
    const [R, L1, L2] = [4500, 5001, 3003];
    const a = fillHash(R * L1, 4);
    const b = fillHash(R * L2, 5);
    const ta = on(dev, a, [R, L1], true);
    const tb = on(dev, b, [R, L2], true);
    const y = catWith('kernel', [ta, tb], 1);
    expect(over(y.numel)).toBe(true);
    const L = L1 + L2;
    const want = (i: number) => {
      const o = Math.floor(i / L);
      const j = i - o * L;
      return j < L1 ? a[o * L1 + j]! : b[o * L2 + j - L1]!;
    };
    const res = compare(await y.toArray(), want, 3);
    expect(res.bad).toBe(0);
    expect(res.checksum).toBe(res.expected);
    const gy = fillHash(R * L, 6);
    y.backward(tensor(gy, [R, L], { device: dev }));
    const ra = compare(await ta.grad!.toArray(), (i) => gy[Math.floor(i / L1) * L + (i % L1)]!, 3);
    const rb = compare(await tb.grad!.toArray(), (i) => gy[Math.floor(i / L2) * L + L1 + (i % L2)]!, 3);
    expect([ra.bad, rb.bad]).toEqual([0, 0]);
    expect([ra.checksum, rb.checksum]).toEqual([ra.expected, rb.expected]);
    for (const t of [ta, tb, y, ta.grad!, tb.grad!]) t.dispose();
  });

  test('pad producing a 144 MB tensor, and its backward (a crop of the over-limit gy)', async () => {
    const [C, H, W] = [3, 1001, 1003];
    const pads = [1500, 1499, 1000, 999];
    const [OH, OW] = [H + 1999, W + 2999];
    const x = fillHash(C * H * W, 7);
    const tx = on(dev, x, [1, C, H, W], true);
    const y = pad(tx, pads, 0.75);
    expect(y.shape).toEqual([1, C, OH, OW]);
    expect(over(y.numel)).toBe(true);
    const want = (i: number) => {
      const w = (i % OW) - 1500;
      const h = (Math.floor(i / OW) % OH) - 1000;
      const c = Math.floor(i / (OW * OH));
      return h >= 0 && h < H && w >= 0 && w < W ? x[(c * H + h) * W + w]! : 0.75;
    };
    const res = compare(await y.toArray(), want, 3);
    expect(res.bad).toBe(0);
    expect(res.checksum).toBe(res.expected);
    const gy = fillHash(C * OH * OW, 8);
    y.backward(tensor(gy, [1, C, OH, OW], { device: dev }));
    const rg = compare(await tx.grad!.toArray(), (i) => {
      const w = i % W;
      const h = Math.floor(i / W) % H;
      const c = Math.floor(i / (W * H));
      return gy[(c * OH + h + 1000) * OW + w + 1500]!;
    });
    expect(rg.bad).toBe(0);
    for (const t of [tx, y, tx.grad!]) t.dispose();
  });

  test('interpolate bilinear scale 2 align_corners to [1, 2, 4098, 4098] (134 MB) and its backward', async () => {
    const [C, H, W] = [2, 2049, 2049];
    const [OH, OW] = [2 * H, 2 * W];
    const x = fillHash(C * H * W, 9);
    const tx = on(dev, x, [1, C, H, W], true);
    const y = interpolate(tx, { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    expect(over(y.numel)).toBe(true);
    const got = await y.toArray();
    // float64 bilinear at a strided sample of outputs (independent of the kernels)
    // PyTorch's float32 ratio and source coordinate (f32(o * ratio)); blending in float64
    const sh = Math.fround((H - 1) / (OH - 1));
    const sw = Math.fround((W - 1) / (OW - 1));
    let worst = 0;
    for (let i = 0; i < got.length; i += 997) {
      const ox = i % OW;
      const oy = Math.floor(i / OW) % OH;
      const c = Math.floor(i / (OW * OH));
      const fy = Math.fround(oy * sh);
      const fx = Math.fround(ox * sw);
      const y0 = Math.min(Math.floor(fy), H - 1);
      const x0 = Math.min(Math.floor(fx), W - 1);
      const y1 = Math.min(y0 + 1, H - 1);
      const x1 = Math.min(x0 + 1, W - 1);
      const [ly, lx] = [fy - y0, fx - x0];
      const at = (h: number, w: number) => x[(c * H + h) * W + w]!;
      const v = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      worst = Math.max(worst, Math.abs(got[i]! - v));
    }
    expect(worst).toBeLessThan(1e-5);
    const gy = fillHash(C * OH * OW, 10);
    y.backward(tensor(gy, [1, C, OH, OW], { device: dev }));
    const gx = await tx.grad!.toArray();
    // the adjoint at a strided sample of inputs: sum over the outputs whose taps reach (iy, ix)
    const w1 = (o: number, i: number, s: number, n: number) => {
      const f = Math.fround(o * s);
      const i0 = Math.min(Math.floor(f), n - 1);
      const l = f - i0;
      return (i0 === i ? 1 - l : 0) + (Math.min(i0 + 1, n - 1) === i ? l : 0);
    };
    let worstG = 0;
    for (let i = 0; i < gx.length; i += 1009) {
      const ix = i % W;
      const iy = Math.floor(i / W) % H;
      const c = Math.floor(i / (W * H));
      let acc = 0;
      for (let oy = Math.max(0, 2 * iy - 3); oy <= Math.min(OH - 1, 2 * iy + 3); oy++) {
        const a = w1(oy, iy, sh, H);
        if (!a) continue;
        for (let ox = Math.max(0, 2 * ix - 3); ox <= Math.min(OW - 1, 2 * ix + 3); ox++) {
          acc += a * w1(ox, ix, sw, W) * gy[(c * OH + oy) * OW + ox]!;
        }
      }
      worstG = Math.max(worstG, Math.abs(gx[i]! - acc));
    }
    expect(worstG).toBeLessThan(1e-5);
    for (const t of [tx, y, tx.grad!]) t.dispose();
  });
});
