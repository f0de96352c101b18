// The bad-input table: wrong calls across the public API (tensors, devices, kernel policy, ops, layers, optimizers,
// schedulers, the U-Net, safetensors, images, metrics) and the command line, each with the typed error it must
// raise and a message that starts with the op and names the values. Observed before as silent wrong results
// (issue 12); every row here throws.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  Adam, ArgumentError, avgPool2d, batchNorm, bceWithLogits, conv2d, convTranspose2d, cpuDevice, crossEntropy, DeviceMismatchError, diceLoss,
  decodeImage, FormatError, gelu, getKernel, interpolate, layerNorm, LimitError, matmul, maxPool2d, MetaTensorError, metaDevice, nn, openDevice, pad, SGD,
  setKernelPolicy, ShapeError, StateDictError, StepLR, Tensor, tensor, UNet, withDevice, type TensorError,
} from '../../src/index.js';
import { parseSafetensors } from '../../src/nn/safetensors.js';
import { openNodeDevice } from '../../src/node.js';
import { confusion } from '../../src/seg/metrics.js';
import { expectBadCall, thrownAsync } from '../helpers/bad_calls.js';

type Row = readonly [name: string, call: () => unknown, type: new (...a: never[]) => TensorError, op: string, message: RegExp];

const cpu = cpuDevice();
const t = (shape: number[], v = 0.5) => tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape, { device: cpu });
const x4 = t([1, 2, 6, 6]);
const w4 = t([3, 2, 3, 3]);
const meta = metaDevice();
const metaT = withDevice(meta, () => Tensor.empty([2, 2]));
/** A safetensors file's bytes from a header object (and zero data). */
const st = (header: string, data = 0) => {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
};
const param = () => tensor([1, 2], [2], { device: cpu, requiresGrad: true });
const sgd = (o: object) => new SGD([param()], o as never);
const swiftShader = { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader', features: ['subgroups'], subgroupMinSize: 4, subgroupMaxSize: 4 };
const fakeDev = { ...cpuDevice(), adapter: swiftShader } as unknown as ReturnType<typeof cpuDevice>;
Object.setPrototypeOf(fakeDev, Object.getPrototypeOf(cpu));

const ROWS: Row[] = [
  // Tensors and devices.
  ['Tensor.empty with a NaN dim', () => Tensor.empty([NaN], 'f32', cpu), ShapeError, 'Tensor.empty', /NaN/],
  ['Tensor.empty with a negative dim', () => Tensor.empty([-4], 'f32', cpu), ShapeError, 'Tensor.empty', /-4/],
  ['Tensor.empty with a fractional dim', () => Tensor.empty([2.5, 2], 'f32', cpu), ShapeError, 'Tensor.empty', /2\.5/],
  ['tensor: data and shape disagree', () => tensor([1, 2, 3], [2, 2], { device: cpu }), ShapeError, 'tensor', /3.*\[2, 2\]|\[2, 2\].*3/],
  ['reshape to a size that does not match', () => t([2, 3]).reshape(4, 2), ShapeError, 'reshape', /\[2, 3\]/],
  ['ops on two devices', () => t([2]).add(withDevice(cpuDevice(), () => tensor([1, 2]))), DeviceMismatchError, 'add', /different devices/],
  // Kernel policy.
  ['setKernelPolicy: unknown key', () => setKernelPolicy(cpu, { convForwrd: 'portable' } as never), ArgumentError, 'setKernelPolicy', /unknown key 'convForwrd'/],
  ['setKernelPolicy: unknown family', () => setKernelPolicy(cpu, { convForward: 'fast' } as never), ArgumentError, 'setKernelPolicy', /convForward must be one of auto, portable, subgroup, winograd, tiled, got "fast"/],
  ['setKernelPolicy: Winograd on 4-lane subgroups', () => setKernelPolicy(fakeDev, { convForward: 'winograd' }), ArgumentError, 'setKernelPolicy', /subgroups of 4 lanes \(subgroupMinSize\)/],
  ['setKernelPolicy: subgroup kernels on 4-lane subgroups', () => setKernelPolicy(fakeDev, { convWeightGrad: 'subgroup' }), ArgumentError, 'setKernelPolicy', /need at least 8/],
  // The launch path, called from plain JS.
  ['Backend.run with a misspelled binding', () => cpu.run(getKernel('relu'), { xs: cpu.alloc(4, 'f32') }, { y: cpu.alloc(4, 'f32') }, { n: 4, a: 0 }), ArgumentError, 'relu', /reads missing x; unknown xs/],
  ['Backend.run with an unknown param', () => cpu.run(getKernel('relu'), { x: cpu.alloc(4, 'f32') }, { y: cpu.alloc(4, 'f32') }, { n: 4, a: 0, alpha: 1 }), ArgumentError, 'relu', /params unknown alpha/],
  ['Backend.run without a param', () => cpu.run(getKernel('relu'), { x: cpu.alloc(4, 'f32') }, { y: cpu.alloc(4, 'f32') }, { n: 4 }), ArgumentError, 'relu', /params missing a/],
  // Ops: shapes and arguments.
  ['conv2d: channels do not match', () => conv2d(t([1, 3, 6, 6]), w4), ShapeError, 'conv2d', /3 channels.*expects 2|expects 2/],
  ['conv2d: groups', () => conv2d(x4, w4, null, { groups: 2 }), ArgumentError, 'conv2d', /groups/],
  ['conv2d: a negative stride', () => conv2d(x4, w4, null, { stride: -1 }), ArgumentError, 'conv2d', /stride must be an integer >= 1/],
  ['conv2d: 3-D weight', () => conv2d(x4, t([3, 2, 3])), ShapeError, 'conv2d', /weight \[3, 2, 3\] must be 4-D/],
  ['convTranspose2d: channels do not match', () => convTranspose2d(x4, t([3, 2, 2, 2])), ShapeError, 'convTranspose2d', /\[3, 2, 2, 2\]/],
  ['maxPool2d: a window larger than the input', () => maxPool2d(t([1, 1, 2, 2]), { kernelSize: 3 }), ShapeError, 'maxPool2d', /too small/],
  ['avgPool2d: a window larger than the input', () => avgPool2d(t([1, 1, 2, 2]), { kernelSize: 3 }), ShapeError, 'avgPool2d', /x \[1, 1, 2, 2\] is too small for kernelSize \[3, 3\]/],
  ['avgPool2d: padding over half the kernel', () => avgPool2d(x4, { kernelSize: 2, padding: 2 }), ArgumentError, 'avgPool2d', /padding \[2, 2\] must be at most half of kernelSize \[2, 2\]/],
  ['avgPool2d: a 2-D input', () => avgPool2d(t([6, 6]), 2), ShapeError, 'avgPool2d', /x \[6, 6\] must be \[N, C, H, W\]/],
  ['batchNorm: running stats of another size', () => batchNorm(x4, t([3]), t([3]), null, null, { training: true }), ShapeError, 'batchNorm', /runningMean \[3\]/],
  ['interpolate: both size and scaleFactor', () => interpolate(x4, { size: 4, scaleFactor: 2 }), ArgumentError, 'interpolate', /exactly one of size and scaleFactor/],
  ['matmul: inner sizes differ', () => matmul(t([2, 3]), t([4, 2])), ShapeError, 'matmul', /\[2, 3\].*\[4, 2\]/],
  ['bceWithLogits: target of another shape', () => bceWithLogits(t([2, 3]), t([3, 2])), ShapeError, 'bceWithLogits', /\[3, 2\]/],
  ['crossEntropy: target of another shape', () => crossEntropy(t([2, 3, 4]), tensor([0, 1], [2], { device: cpu, dtype: 'i32' })), ShapeError, 'crossEntropy', /target/],
  ['diceLoss: target of another shape', () => diceLoss(t([1, 2, 4, 4]), t([1, 2, 3, 3])), ShapeError, 'diceLoss', /target/],
  ['pad: an odd number of pads', () => pad(x4, [1, 1, 1]), ArgumentError, 'pad', /pad/],
  ["gelu: approximate 'erf'", () => gelu(x4, { approximate: 'erf' as never }), ArgumentError, 'gelu', /approximate 'erf' is not one of 'none', 'tanh'/],
  ['layerNorm: x does not end in normalizedShape', () => layerNorm(x4, [6, 5]), ShapeError, 'layerNorm', /x \[1, 2, 6, 6\] does not end in normalizedShape \[6, 5\]/],
  ['layerNorm: weight of another shape', () => layerNorm(x4, [6, 6], t([6])), ShapeError, 'layerNorm', /weight \[6\] must be \[6, 6\]/],
  // Layers (checked at construction).
  ['UNet: padding full', () => new UNet({ inChannels: 1, classes: 1, padding: 'full' as never }), ArgumentError, 'UNet', /'full'/],
  ['UNet: merge add', () => new UNet({ inChannels: 1, classes: 1, merge: 'add' as never }), ArgumentError, 'UNet', /'add'/],
  ['UNet: an unknown option', () => new UNet({ inChannels: 1, classes: 1, in_channels: 1 } as never), ArgumentError, 'UNet', /unknown option 'in_channels'/],
  ['UNet.outputSize for a size that cannot run', () => UNet.outputSize(20, { inChannels: 1, classes: 1, padding: 'valid' }), ArgumentError, 'UNet.outputSize', /20/],
  ['Upsample: bicubic', () => new nn.Upsample({ scaleFactor: 2, mode: 'bicubic' as never }), ArgumentError, 'Upsample', /'bicubic'/],
  ['MaxPool2d(0)', () => new nn.MaxPool2d(0), ArgumentError, 'MaxPool2d', /0/],
  ['AvgPool2d: divisor_override 0', () => new nn.AvgPool2d(2, { divisorOverride: 0 }), ArgumentError, 'AvgPool2d', /divisor_override must not be 0/],
  ['MaxPool2d: snake_case option', () => new nn.MaxPool2d(2, { ceil_mode: true } as never), ArgumentError, 'MaxPool2d', /unknown option 'ceil_mode' \(did you mean 'ceilMode'\?\)/],
  ['Conv2d: output_padding', () => new nn.ConvTranspose2d(2, 2, 2, { output_padding: 1 } as never), ArgumentError, 'ConvTranspose2d', /unknown option 'output_padding'/],
  ['BatchNorm2d: eps 0', () => new nn.BatchNorm2d(4, { eps: 0 }), ArgumentError, 'BatchNorm2d', /eps/],
  ['LayerNorm: normalized_shape 0', () => new nn.LayerNorm([4, 0]), ArgumentError, 'LayerNorm', /normalized_shape\[1\] must be an integer >= 1, got 0/],
  ["GELU: approximate 'fast'", () => new nn.GELU({ approximate: 'fast' as never }), ArgumentError, 'GELU', /'fast'/],
  ['BatchNorm2d: momentum 2', () => new nn.BatchNorm2d(4, { momentum: 2 }), ArgumentError, 'BatchNorm2d', /momentum/],
  // Optimizers, schedulers, clipping.
  ['SGD: lr Infinity', () => sgd({ lr: Infinity }), ArgumentError, 'SGD', /invalid learning rate: Infinity/],
  ['SGD: lr negative', () => sgd({ lr: -0.1 }), ArgumentError, 'SGD', /invalid learning rate: -0\.1/],
  ['SGD: dampening NaN', () => sgd({ lr: 0.1, dampening: NaN }), ArgumentError, 'SGD', /dampening.*NaN/],
  ['SGD: an unknown option', () => sgd({ lr: 0.1, weight_decay: 0.1 }), ArgumentError, 'SGD', /unknown option 'weight_decay'/],
  ['Adam: betas out of range', () => new Adam([param()], { lr: 0.1, betas: [0.9, 1] }), ArgumentError, 'Adam', /invalid beta parameter at index 1/],
  ['Adam: eps 0', () => new Adam([param()], { lr: 0.1, eps: 0 }), ArgumentError, 'Adam', /eps/],
  ['StepLR: gamma NaN', () => new StepLR(sgd({ lr: 0.1 }), { stepSize: 2, gamma: NaN }), ArgumentError, 'StepLR', /gamma.*NaN/],
  ['StepLR: step size 0', () => new StepLR(sgd({ lr: 0.1 }), { stepSize: 0 }), ArgumentError, 'StepLR', /stepSize/],
  ['clipGradNorm_: maxNorm NaN', () => nn.clipGradNorm_([t([2])], NaN), ArgumentError, 'clipGradNorm_', /maxNorm.*NaN/],
  ['clipGradNorm_: maxNorm negative', () => nn.clipGradNorm_([t([2])], -1), ArgumentError, 'clipGradNorm_', /maxNorm.*-1/],
  // State dicts and files.
  ['loadStateDict with a non-tensor value', () => new nn.Conv2d(1, 1, 1).loadStateDict({ weight: [1, 2] as never, bias: t([1]) }), StateDictError, 'loadStateDict', /weight/],
  ['safetensors: a duplicate header key', () => parseSafetensors(st('{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}')), FormatError, 'safetensors', /duplicate key 'a'/],
  ['safetensors: a truncated file', () => parseSafetensors(new Uint8Array([1, 2, 3])), FormatError, 'safetensors', /./],
  ['decodeImage: not an image', () => decodeImage(new Uint8Array([1, 2, 3, 4]), 'notes.txt'), FormatError, 'decodeImage', /notes\.txt is not a PNG, JPEG or TIFF file/],
  // Meta tensors hold no data.
  ['toArray of a meta tensor', () => metaT.toArray(), MetaTensorError, 'toArray', /meta device/],
  ['item of a meta tensor', () => withDevice(meta, () => Tensor.empty([1])).item(), MetaTensorError, 'item', /meta device/],
  // Limits.
  ['conv2d: a weight larger than a binding', () => withDevice(limited(), () => conv2d(Tensor.empty([1, 64, 8, 8]), Tensor.empty([64, 64, 3, 3]))), LimitError, 'conv2d', /weight \[64, 64, 3, 3\]/],
  // Device options (checked before any adapter is asked for).
  ['openNodeDevice: a misspelt option', () => openNodeDevice({ nice_main: 19 } as never), ArgumentError, 'openNodeDevice', /unknown option 'nice_main' \(did you mean 'niceMain'\?\); accepted: powerPreference, .*tuning/],
  ['openNodeDevice: an unknown pool option', () => openNodeDevice({ pool: { maxPooled: 1 } } as never), ArgumentError, 'openNodeDevice', /unknown pool option 'maxPooled'; accepted: maxPooledBytes, fit, evictIdleSubmits, keepPooledBytes/],
  ['openDevice: an option of the Node entry', () => openDevice({ dawnFlags: [] } as never), ArgumentError, 'openDevice', /unknown option 'dawnFlags'; accepted: .*setDefault/],
  // Metrics.
  ['confusion: a label outside the classes', () => confusion([0, 3], [0, 1], 2), ArgumentError, 'confusion', /label 3, outside \[0, 2\)/],
];

/** A meta device that reports 64 KiB bindings (its ops plan as on such a device, allocating nothing). */
function limited() {
  const d = metaDevice();
  Object.defineProperty(d, 'limits', { value: { ...d.limits, maxBindingBytes: 64 << 10 } });
  return d;
}

describe('wrong calls across the public API', () => {
  test.each(ROWS.map((r) => [r[0], r] as const))('%s', async (_n, [, fn, type, op, msg]) => {
    expectBadCall(await thrownAsync(fn), type, op, msg);
  });
});

const BIN = join(import.meta.dirname, '../../bin/unet-webgpu.mjs');
describe('wrong calls on the command line (exit 2, the command, flag and value named)', () => {
  test.each([
    [['bench', '--config', 'constructor'], "bench: --config must be one of a, b, c, isbi, got 'constructor'"],
    [['bench', '--reps', '0'], "bench: --reps must be an integer >= 1, got '0'"],
    [['run', '--size', 'abc'], "run: --size must be an integer >= 1, got 'abc'"],
    [['run', '--steps', 'abc'], "run: --steps must be an integer >= 1, got 'abc'"],
    [['summary', '--merge', 'add'], "summary: --merge must be one of pad, crop, got 'add'"],
    [['bench', '--nice-main', '40'], "bench: --nice-main must be an integer in [-20, 19], got '40'"],
  ])('%j', (args, message) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(2);
  });
});

test('the table has at least 60 rows', () => expect(ROWS.length + 6).toBeGreaterThanOrEqual(60));
