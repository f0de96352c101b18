import { describe, expect, test } from 'vitest';
import { conv2d, convTranspose2d, tensor, type Conv2dOptions, type ConvTranspose2dOptions, type Device } from '../../src/index.js';
import { reductionTol } from '../helpers/close.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { onnxCases, type OnnxCase } from '../helpers/onnx.js';

const { skip, dev } = await gpuSuite();

/**
 * ONNX Conv / ConvTranspose cases we do not run, with the reason. mapOptions throws for each of them (checked below),
 * so a new case that PyTorch's options cannot express fails until it is listed here.
 */
const SKIPPED: Record<string, string> = {
  test_convtranspose_1d: '1-D input (only 2-D convolutions are supported)',
  test_convtranspose_3d: '3-D input (only 2-D convolutions are supported)',
  test_convtranspose_group_2: 'group = 2 (groups > 1 is not supported)',
  test_convtranspose_group_2_image_3: 'group = 2 (groups > 1 is not supported)',
  test_convtranspose_autopad_same:
    "auto_pad SAME_UPPER with stride 2 crops 0 at the begin and 1 at the end: PyTorch's padding / outputPadding cannot express it (it needs a crop after the op)",
};

const ints = (v: unknown) => (v as number[] | undefined)?.map(Number);
const floorDiv2 = (t: number) => Math.floor(t / 2); // Python's t // 2, as in ONNX's reference

/** ONNX attributes -> our (PyTorch) options; throws with the reason when they cannot be expressed. */
function mapOptions(c: OnnxCase): Conv2dOptions | ConvTranspose2dOptions {
  const a = c.attributes;
  const x = c.inputs[0]!;
  const w = c.inputs[1]!;
  if (x.shape.length !== 4) throw new Error(`${x.shape.length - 2}-D convolution (only 2-D is supported)`);
  if ((a.group ?? 1) !== 1) throw new Error(`group = ${a.group} (groups > 1 is not supported)`);
  const size = x.shape.slice(2);
  const k = w.shape.slice(2);
  const s = ints(a.strides) ?? [1, 1];
  const d = ints(a.dilations) ?? [1, 1];
  const ek = [0, 1].map((i) => d[i]! * (k[i]! - 1) + 1);
  const autoPad = (a.auto_pad as string | undefined) ?? 'NOTSET';
  const pads = ints(a.pads) ?? [0, 0, 0, 0];
  // Begin / end pads per axis (ONNX lists all begins first).
  let begin = [pads[0]!, pads[1]!];
  let end = [pads[2]!, pads[3]!];
  const split = (total: number[], upper: boolean) => {
    begin = total.map((t) => (upper ? floorDiv2(t) : t - floorDiv2(t)));
    end = total.map((t, i) => t - begin[i]!);
  };
  const stride: [number, number] = [s[0]!, s[1]!];
  const dilation: [number, number] = [d[0]!, d[1]!];
  if (c.op === 'Conv') {
    if (autoPad === 'VALID') begin = end = [0, 0];
    else if (autoPad !== 'NOTSET') {
      // SAME_*: output ceil(in / s), the total pad split with the odd one at the end (UPPER) or begin (LOWER).
      split([0, 1].map((i) => Math.max(0, (Math.ceil(size[i]! / s[i]!) - 1) * s[i]! + ek[i]! - size[i]!)), autoPad === 'SAME_UPPER');
    }
    if (begin.every((b, i) => b === end[i])) return { stride, dilation, padding: [begin[0]!, begin[1]!] };
    // PyTorch's 'same': stride 1, total d*(k-1), the odd pad at the end.
    const same = [0, 1].every((i) => s[i] === 1 && begin[i] === floorDiv2(ek[i]! - 1) && end[i] === ek[i]! - 1 - begin[i]!);
    if (same) return { stride, dilation, padding: 'same' };
    // A larger end pad that no output reaches changes nothing: symmetric padding = the begin pad.
    const out = (i: number, e: number) => Math.floor((size[i]! + begin[i]! + e - ek[i]!) / s[i]!) + 1;
    if ([0, 1].every((i) => end[i]! >= begin[i]! && out(i, end[i]!) === out(i, begin[i]!))) return { stride, dilation, padding: [begin[0]!, begin[1]!] };
    throw new Error(`asymmetric pads begin ${begin}, end ${end}`);
  }
  // ConvTranspose: output = s*(in-1) + output_padding + ek - begin - end.
  const op = ints(a.output_padding) ?? [0, 0];
  const outShape = ints(a.output_shape)?.slice(-2) ?? (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' ? size.map((v, i) => v * s[i]!) : null);
  if (outShape) split([0, 1].map((i) => s[i]! * (size[i]! - 1) + op[i]! + ek[i]! - outShape[i]!), autoPad === 'SAME_UPPER');
  else if (autoPad === 'VALID') begin = end = [0, 0];
  // Ours crops `padding` at both ends and extends the end by outputPadding: padding = begin, outputPadding = op + begin - end.
  const outputPadding = [0, 1].map((i) => op[i]! + begin[i]! - end[i]!);
  if (outputPadding.some((v, i) => v < 0 || v >= Math.max(s[i]!, d[i]!)) || begin.some((v) => v < 0)) {
    throw new Error(`pads begin ${begin}, end ${end} with output_padding ${op} need outputPadding ${outputPadding} (must be in [0, max(stride, dilation)))`);
  }
  return { stride, dilation, padding: [begin[0]!, begin[1]!], outputPadding: [outputPadding[0]!, outputPadding[1]!] };
}

function run(device: Device, c: OnnxCase) {
  const [x, w, b] = c.inputs.map((t) => (t.absent || !t.data ? null : tensor(Float32Array.from(t.data), t.shape, { device })));
  const opts = mapOptions(c);
  return c.op === 'Conv' ? conv2d(x!, w!, b, opts as Conv2dOptions) : convTranspose2d(x!, w!, b, opts as ConvTranspose2dOptions);
}

for (const op of ['Conv', 'ConvTranspose']) {
  describe(`ONNX ${op} conformance`, () => {
    const cases = onnxCases(op);
    test('cases exist', () => expect(cases.length).toBeGreaterThan(0));
    for (const c of cases) {
      const why = SKIPPED[c.test];
      const k = c.inputs[1]!.shape.reduce((p, q) => p * q, 1) / (op === 'Conv' ? c.inputs[1]!.shape[0]! : c.inputs[1]!.shape[1]!);
      const check = async (device: Device) => {
        const y = run(device, c);
        const want = c.outputs[0]!;
        expect(y.shape).toEqual(want.shape);
        expect(await y.toArray()).toBeAllClose(want.data, reductionTol(k + 1, 4));
        y.dispose();
      };
      if (why) {
        test(`${c.test} SKIPPED (${why}): the options cannot be mapped`, () => expect(() => mapOptions(c)).toThrow());
        continue;
      }
      test(`${c.test} (cpu)`, () => check(cpu32));
      test.skipIf(skip)(`${c.test} (gpu)`, () => check(dev));
    }
  });
}
