// ONNX conformance: Softmax (opset 6 and 13), Relu, Sigmoid, on the GPU and the float32 CPU device.
// Opset < 13 Softmax flattens the input to 2-D at `axis` (default 1) and normalizes the rows; opset 13 normalizes
// along the one dim `axis` (default -1). Both are written here with reshape + our softmax.
import { describe, expect, test } from 'vitest';
import { F, tensor, type Tensor } from '../../src/index.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { onnxCases, type OnnxCase } from '../helpers/onnx.js';

const { devices } = await gpuSuite();

/** ONNX cases we do not run, with the reason (none: every Softmax / Relu / Sigmoid case runs). */
const SKIPPED: Record<string, string> = {};

const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function cases(op: string) {
  const all = onnxCases(op);
  return { all, run: all.filter((c) => !SKIPPED[c.test]).map((c) => [c.test, c] as const) };
}

async function check(c: OnnxCase, f: (x: Tensor) => Tensor, tol = { rtol: 1e-6, atol: 1e-7 }) {
  const want = c.outputs[0]!;
  for (const d of devices(cpu32)) {
    const x = tensor(Float32Array.from(c.inputs[0]!.data), c.inputs[0]!.shape, { device: d });
    const y = f(x);
    expect(y.shape).toEqual(want.shape);
    expect(await y.toArray(), `${c.test} on ${d.kind}`).toBeAllClose(Float32Array.from(want.data), tol);
    x.dispose();
    y.dispose();
  }
}

/** ONNX Softmax with the opset's semantics. */
function onnxSoftmax(x: Tensor, c: OnnxCase): Tensor {
  const opset = c.opset[''] ?? c.opset['ai.onnx'] ?? 13;
  const r = x.ndim;
  if (opset >= 13) return F.softmax(x, (c.attributes.axis as number | undefined) ?? -1);
  const a0 = (c.attributes.axis as number | undefined) ?? 1;
  const axis = a0 < 0 ? a0 + r : a0;
  const flat = x.reshape(prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis)));
  const y = F.softmax(flat, 1);
  const out = y.reshape([...x.shape]);
  flat.dispose();
  y.dispose();
  return out;
}

describe('ONNX Softmax', () => {
  const { all, run } = cases('Softmax');
  test('cases exist (opset 6 test_Softmax and the opset 13 node tests)', () => {
    expect(all.map((c) => c.test)).toEqual(expect.arrayContaining(['test_Softmax', 'test_softmax_axis_0', 'test_softmax_large_number']));
  });
  test.each(run)('%s', async (_name, c) => {
    await check(c, (x) => onnxSoftmax(x, c));
  });
});

describe('ONNX Relu and Sigmoid', () => {
  const relu = cases('Relu');
  const sigmoid = cases('Sigmoid');
  test('cases exist', () => {
    expect(relu.all.length).toBeGreaterThanOrEqual(2);
    expect(sigmoid.all.length).toBeGreaterThanOrEqual(3);
  });
  test.each(relu.run)('%s', async (_name, c) => {
    await check(c, (x) => F.relu(x), { rtol: 0, atol: 0 });
  });
  test.each(sigmoid.run)('%s', async (_name, c) => {
    await check(c, (x) => F.sigmoid(x));
  });
});
