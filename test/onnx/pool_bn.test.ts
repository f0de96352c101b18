// ONNX conformance for MaxPool and BatchNormalization (test/fixtures/onnx-node): every case runs, on the CPU
// device and on the GPU, or is listed in SKIPPED with its reason.
import { describe, expect, test } from 'vitest';
import { ArgumentError, batchNorm, maxPool2dWithIndices, tensor } from '../../src/index.js';
import { maxpool2d_fwd } from '../../src/kernels/pool.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { onnxCases, type OnnxCase } from '../helpers/onnx.js';
import { runKernel } from '../helpers/run_kernel.js';

const { devices } = await gpuSuite();

/** Cases this engine cannot express, with the reason. */
export const SKIPPED: Record<string, string> = {
  test_maxpool_2d_same_lower: 'auto_pad SAME_LOWER with kernel 2, stride 1 pads 1 at the top/left only (asymmetric): PyTorch max_pool2d has symmetric padding only',
  test_maxpool_2d_same_upper: 'auto_pad SAME_UPPER with kernel 2, stride 1 pads 1 at the bottom/right only (asymmetric): PyTorch max_pool2d has symmetric padding only',
};

/**
 * Cases the op refuses on purpose (PyTorch's rule) that the kernel still computes: checked against ONNX through
 * maxpool2d_fwd directly.
 */
const KERNEL_ONLY: Record<string, string> = {
  test_maxpool_2d_pads: 'pads 2 with kernel 3: PyTorch (and maxPool2d) require padding <= kernel / 2',
};

const attr = <T>(c: OnnxCase, k: string, d: T): T => (c.attributes[k] as T | undefined) ?? d;

/** ONNX MaxPool attributes as 2-D PyTorch options (1-D runs as [N, C, 1, L]); null when padding is asymmetric. */
function poolGeometry(c: OnnxCase) {
  const x = c.inputs[0]!;
  const oneD = x.shape.length === 3;
  const ks = attr<number[]>(c, 'kernel_shape', []);
  const r = ks.length;
  const strides = attr<number[]>(c, 'strides', new Array(r).fill(1));
  const dil = attr<number[]>(c, 'dilations', new Array(r).fill(1));
  let pads = attr<number[]>(c, 'pads', new Array(2 * r).fill(0));
  const auto = attr<string>(c, 'auto_pad', 'NOTSET');
  const spatial = x.shape.slice(2);
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    pads = new Array(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const out = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (ks[i]! - 1) * dil[i]! + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      pads[i] = auto === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i]!;
    }
  } else if (auto === 'VALID') pads = new Array(2 * r).fill(0);
  for (let i = 0; i < r; i++) if (pads[i] !== pads[i + r]) return null;
  const two = (v: number[], one: number): [number, number] => (oneD ? [one, v[0]!] : [v[0]!, v[1]!]);
  return {
    shape: oneD ? [x.shape[0]!, x.shape[1]!, 1, x.shape[2]!] : x.shape,
    opts: {
      kernelSize: two(ks, 1),
      stride: two(strides, 1),
      padding: two(pads.slice(0, r), 0),
      dilation: two(dil, 1),
      ceilMode: attr<number>(c, 'ceil_mode', 0) === 1,
    },
    storageOrder: attr<number>(c, 'storage_order', 0),
  };
}

/** ONNX's argmax z indexes the whole tensor (column-major within the plane when storage_order = 1). */
function onnxArgmax(idx: ArrayLike<number>, shape: number[], oh: number, ow: number, storageOrder: number): number[] {
  const [h, w] = [shape[2]!, shape[3]!];
  return Array.from(idx, (j, k) => {
    const plane = Math.floor(k / (oh * ow));
    const [iy, ix] = [Math.floor(j / w), j % w];
    return plane * h * w + (storageOrder === 1 ? ix * h + iy : j);
  });
}

describe('ONNX MaxPool', () => {
  const cases = onnxCases('MaxPool');
  test('the fixtures are there', () => expect(cases.length).toBeGreaterThan(10));
  test.each(cases.filter((c) => SKIPPED[c.test]).map((c) => [c.test, SKIPPED[c.test]!]))('SKIPPED %s: %s', (name) => {
    expect(poolGeometry(cases.find((c) => c.test === name)!)).toBeNull();
  });
  test.each(cases.filter((c) => !SKIPPED[c.test]).map((c) => [c.test, c] as const))('%s', async (name, c) => {
    const g = poolGeometry(c)!;
    expect(g).not.toBeNull();
    const x = c.inputs[0]!;
    const [y, z] = c.outputs;
    for (const d of devices(cpu32)) {
      let values: ArrayLike<number>;
      let idx: ArrayLike<number>;
      let outShape: number[];
      if (KERNEL_ONLY[name]) {
        const [n, ch, h, w] = g.shape as [number, number, number, number];
        const [oh, ow] = y!.shape.slice(-2) as [number, number];
        const o = g.opts;
        const p = {
          total: n * ch * oh * ow, h, w, oh, ow, kh: o.kernelSize[0], kw: o.kernelSize[1], sh: o.stride[0], sw: o.stride[1],
          ph: o.padding[0], pw: o.padding[1], dh: o.dilation[0], dw: o.dilation[1], xo: 0, yo: 0,
        };
        expect(() => maxPool2dWithIndices(tensor(x.data, g.shape, { device: d }), o)).toThrow(ArgumentError);
        const got = await runKernel(d, maxpool2d_fwd, { reads: { x: x.data }, writes: { y: p.total, idx: p.total }, params: p });
        [values, idx, outShape] = [got.y, got.idx, [n, ch, oh, ow]];
      } else {
        const r = maxPool2dWithIndices(tensor(x.data, g.shape, { device: d }), g.opts);
        [values, idx, outShape] = [await r.values.toArray(), await r.indices.toArray(), [...r.values.shape]];
      }
      expect(outShape.filter((s, i) => !(x.shape.length === 3 && i === 2)), d.kind).toEqual(y!.shape);
      // The fixture stores the shortest decimals that read back as the same float32: compare as float32.
      expect(values, d.kind).toBeAllClose(Float32Array.from(y!.data), { rtol: 0, atol: 0 });
      if (z) expect(onnxArgmax(idx, g.shape, outShape[2]!, outShape[3]!, g.storageOrder), d.kind).toEqual(z.data);
    }
  });
});

describe('ONNX BatchNormalization', () => {
  const cases = onnxCases('BatchNormalization');
  test('the fixtures are there', () => expect(cases.length).toBe(6));
  test.each(cases.map((c) => [c.test, c] as const))('%s', async (_name, c) => {
    const [x, s, b, mean, vr] = c.inputs as [typeof c.inputs[0] & object, ...NonNullable<typeof c.inputs[0]>[]];
    const training = attr<number>(c, 'training_mode', 0) === 1;
    const eps = attr<number>(c, 'epsilon', 1e-5);
    // ONNX: running = momentum * running + (1 - momentum) * batch; PyTorch's momentum is the other weight.
    const momentum = 1 - attr<number>(c, 'momentum', 0.9);
    const ch = x.shape[1]!;
    for (const d of devices(cpu32)) {
      const rm = tensor(mean!.data, [ch], { device: d });
      const rv = tensor(vr!.data, [ch], { device: d });
      const y = batchNorm(tensor(x.data, x.shape, { device: d }), rm, rv, tensor(s!.data, [ch], { device: d }), tensor(b!.data, [ch], { device: d }), {
        training,
        eps,
        momentum,
      });
      expect(await y.toArray(), d.kind).toBeAllClose(c.outputs[0]!.data, { rtol: 1e-5, atol: 1e-5 });
      if (!training) continue;
      expect(await rm.toArray(), d.kind).toBeAllClose(c.outputs[1]!.data, { rtol: 1e-5, atol: 1e-6 });
      // Running var: PyTorch (and batchNorm) blend in the unbiased batch variance, ONNX the biased one. Recover our
      // batch variance from our update and check ONNX's formula with it.
      const m = x.shape[0]! * x.shape.slice(2).reduce((p, q) => p * q, 1);
      const got = await rv.toArray();
      const onnxVar = Array.from(got, (v, i) => {
        const unbiased = (v - (1 - momentum) * vr!.data[i]!) / momentum;
        return (1 - momentum) * vr!.data[i]! + momentum * ((unbiased * (m - 1)) / m);
      });
      expect(onnxVar, d.kind).toBeAllClose(c.outputs[2]!.data, { rtol: 1e-5, atol: 1e-6 });
    }
  });
});
