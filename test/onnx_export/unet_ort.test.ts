// exportOnnx end to end: small U-Nets of every up mode, padding and merge, with random weights and randomised
// BatchNorm statistics, exported and run in ONNX Runtime (onnxruntime-node's CPU provider, graph optimisation
// 'all'), against our forward on the float32 CPU device and on WebGPU. Every op of the U-Net forward (conv, BN
// with running statistics, ReLU, max, bilinear / transposed-conv upsampling, pad, cat) is continuous in its
// input, so no near-tie or near-zero pre-activation can flip a result between engines: the float32 rounding
// differences stay rounding-sized (the bound is 1e-4 absolute on outputs of size ~1).
import { describe, expect, test } from 'vitest';
import { exportOnnx } from '../../src/onnx/export.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { UNet, type UNetOptions } from '../../src/unet/unet.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { rng, uniformArray } from '../helpers/random.js';
import { checkOnnxModel } from './checker.js';
import { maxAbs, net, ours, randomState, runOrt, session } from './nets.js';

const { skip, dev } = await gpuSuite();

// [name, options, traced input shape, second input shape (another batch and spatial size)]
const CASES: [string, UNetOptions, number[], number[]][] = [
  ['transpose, same', { inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'same' }, [1, 1, 32, 32], [2, 1, 37, 29]],
  ['bilinear, same', { inChannels: 3, classes: 2, width: 4, depth: 2, padding: 'same', bilinear: true }, [1, 3, 32, 32], [2, 3, 27, 21]],
  ['transpose, valid', { inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'valid' }, [1, 1, 60, 60], [2, 1, 45, 51]],
  ['bilinear, valid', { inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'valid', bilinear: true }, [1, 1, 60, 60], [2, 1, 45, 51]],
  ['transpose, valid, crop merge', { inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'valid', merge: 'crop' }, [1, 1, 60, 60], [2, 1, 61, 57]],
  // The seed's shape (depth 4, valid padding, biases, 1 -> 1), narrow: at its smallest input and at an odd one.
  ['seed shape: transpose, valid, depth 4', { inChannels: 1, classes: 1, width: 4, depth: 4, padding: 'valid' }, [1, 1, 140, 140], [2, 1, 157, 149]],
  ['seed shape: bilinear, valid, depth 4', { inChannels: 1, classes: 1, width: 4, depth: 4, padding: 'valid', bilinear: true }, [1, 1, 140, 140], [2, 1, 157, 149]],
  ['transpose, same, depth 4, no bias', { inChannels: 1, classes: 1, width: 2, depth: 4, padding: 'same', bias: false }, [1, 1, 33, 35], [2, 1, 48, 17]],
];

describe('exportOnnx: the U-Net in ONNX Runtime equals our forward', () => {
  test.each(CASES)('%s', async (name, opts, shape, shape2) => {
    const salt = CASES.findIndex((c) => c[0] === name);
    const sd = randomState(opts, salt);
    const cpuNet = net(opts, sd, cpu32);
    const r = rng(100 + salt);
    const x = uniformArray(r, shape.reduce((a, b) => a * b), -1, 1);
    const refCpu = await ours(cpuNet, x, shape);
    const bytes = await exportOnnx(cpuNet, shape, { metadata: { case: name } });
    checkOnnxModel(decodeModel(bytes));
    const s = await session(bytes);
    const got = await runOrt(s, x, shape);
    const out = UNet.outputSize(shape[2]!, opts);
    expect(got.dims).toEqual([shape[0], opts.classes, out, UNet.outputSize(shape[3]!, opts)]);
    const dCpu = maxAbs(got.data, refCpu);
    expect(dCpu).toBeLessThanOrEqual(1e-4);

    // Dynamic axes: another batch and spatial size through the same model.
    const x2 = uniformArray(r, shape2.reduce((a, b) => a * b), -1, 1);
    const got2 = await runOrt(s, x2, shape2);
    const d2 = maxAbs(got2.data, await ours(cpuNet, x2, shape2));
    expect(got2.dims).toEqual([shape2[0], opts.classes, UNet.outputSize(shape2[2]!, opts), UNet.outputSize(shape2[3]!, opts)]);
    expect(d2).toBeLessThanOrEqual(1e-4);

    // A fixed-size export of the same model (constant pads, folded shapes) agrees too.
    const fixed = await session(await exportOnnx(cpuNet, shape, { dynamicAxes: false }));
    const dFixed = maxAbs((await runOrt(fixed, x, shape)).data, refCpu);
    expect(dFixed).toBeLessThanOrEqual(1e-4);
    const scale = refCpu.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    // Not a test on (near) zeros: the logits reach at least 1000x the tolerance (0.33-1.9 for these fixed models).
    expect(scale).toBeGreaterThan(0.1);
    console.log(`[onnx] ${name}: max |ours| ${scale.toFixed(3)}, max |ort - ours cpu| ${dCpu.toExponential(2)} at ${shape.join('x')}, ${d2.toExponential(2)} at ${shape2.join('x')}, fixed-size export ${dFixed.toExponential(2)}`);
    await s.release();
    await fixed.release();
  });

  test.skipIf(skip).each(CASES)('%s: exported from the WebGPU model, equals its forward', async (name, opts, shape) => {
    const salt = CASES.findIndex((c) => c[0] === name);
    const gpuNet = net(opts, randomState(opts, salt), dev);
    const x = uniformArray(rng(200 + salt), shape.reduce((a, b) => a * b), -1, 1);
    const ref = await ours(gpuNet, x, shape);
    const s = await session(await exportOnnx(gpuNet, shape));
    const d = maxAbs((await runOrt(s, x, shape)).data, ref);
    console.log(`[onnx] ${name}: max |ort - ours webgpu| ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(1e-4);
    await s.release();
    gpuNet.dispose();
  });
});
