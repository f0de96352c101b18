// No silent wrong result from a module's options (issue 12): every nn layer and the U-Net checks its options
// at construction and rejects unknown keys (misspelled, snake_case) naming the key and the accepted ones, with
// an ArgumentError whose message starts with the class or op name and shows the bad value. CPU device only.
import { describe, expect, test } from 'vitest';
import { ArgumentError, cpuDevice, metaDevice, nn, Tensor, withDevice } from '../../src/index.js';
import { checkBoolean, checkNumber, checkOneOf, checkOptions } from '../../src/core/options.js';
import { summary } from '../../src/nn/summary.js';
import { UNet } from '../../src/unet/unet.js';
import { badCalls, type BadCall } from '../helpers/bad_calls.js';

const cpu = cpuDevice();
const U = { inChannels: 1, classes: 1, width: 2, depth: 1 };
// Plain-JS calls: the type checker would refuse most of these, a JS user gets no such help.
const js = <T>(v: unknown) => v as T;

const CASES: BadCall[] = [
  // The U-Net's options.
  ["UNet padding 'full'", () => new UNet(js({ ...U, padding: 'full' })), 'UNet', /padding 'full' is not one of 'same', 'valid'/],
  ["UNet merge 'add'", () => new UNet(js({ ...U, merge: 'add' })), 'UNet', /merge 'add' is not one of 'pad', 'crop'/],
  ["UNet bilinear 'yes'", () => new UNet(js({ ...U, bilinear: 'yes' })), 'UNet', /bilinear must be true or false, got 'yes'/],
  ['UNet bias 1', () => new UNet(js({ ...U, bias: 1 })), 'UNet', /bias must be true or false, got 1/],
  ['UNet in_channels', () => new UNet(js({ in_channels: 1, classes: 1 })), 'UNet', /unknown option 'in_channels' \(did you mean 'inChannels'\?\); accepted: inChannels, classes/],
  ['UNet no options', () => new UNet(js(undefined)), 'UNet', /inChannels must be a positive integer, got undefined/],
  ["UNet.outputSize padding 'full'", () => UNet.outputSize(572, js({ padding: 'full' })), 'UNet.outputSize', /padding 'full' is not one of/],
  ["UNet.outputSize merge 'add'", () => UNet.outputSize(572, js({ merge: 'add' })), 'UNet.outputSize', /merge 'add' is not one of/],
  ['UNet.outputSize depth 0', () => UNet.outputSize(572, { depth: 0 }), 'UNet.outputSize', /depth must be an integer >= 1, got 0/],
  ['UNet.outputSize size NaN', () => UNet.outputSize(NaN), 'UNet.outputSize', /size must be an integer >= 1, got NaN/],
  ['UNet.outputSize too small for valid padding', () => UNet.outputSize(100, { padding: 'valid' }), 'UNet.outputSize', /100 .*cannot run.*valid/],
  ['UNet.outputSize too small for the pools', () => UNet.outputSize(8, { depth: 4 }), 'UNet.outputSize', /8 .*cannot run/],
  ['UNet.outputSize unknown key', () => UNet.outputSize(64, js({ pad: 'same' })), 'UNet.outputSize', /unknown option 'pad'/],
  // Layers.
  ["Upsample mode 'bicubic'", () => new nn.Upsample(js({ scaleFactor: 2, mode: 'bicubic' })), 'Upsample', /mode 'bicubic' is not one of 'nearest', 'bilinear'/],
  ['Upsample scale_factor', () => new nn.Upsample(js({ scale_factor: 2 })), 'Upsample', /unknown option 'scale_factor' \(did you mean 'scaleFactor'\?\)/],
  ['Upsample align_corners', () => new nn.Upsample(js({ scaleFactor: 2, mode: 'bilinear', align_corners: true })), 'Upsample', /unknown option 'align_corners'/],
  ['Upsample scaleFactor 0', () => new nn.Upsample({ scaleFactor: 0 }), 'Upsample', /scaleFactor must be a finite number > 0, got 0/],
  ['Upsample scaleFactor NaN', () => new nn.Upsample({ scaleFactor: [2, NaN] }), 'Upsample', /scaleFactor must be a finite number > 0, got NaN/],
  ['Upsample size 0', () => new nn.Upsample({ size: 0 }), 'Upsample', /size must be an integer >= 1, got 0/],
  ['Upsample size of 3', () => new nn.Upsample(js({ size: [4, 4, 4] })), 'Upsample', /size must be a number or a pair, got \[4,4,4\]/],
  ["Upsample alignCorners 'yes'", () => new nn.Upsample(js({ scaleFactor: 2, mode: 'bilinear', alignCorners: 'yes' })), 'Upsample', /alignCorners must be true or false/],
  ['MaxPool2d(0)', () => new nn.MaxPool2d(0), 'MaxPool2d', /kernel_size must be integers >= 1, got \(0, 0\)/],
  ['MaxPool2d(1.5)', () => new nn.MaxPool2d(1.5), 'MaxPool2d', /kernel_size must be integers >= 1, got \(1.5, 1.5\)/],
  ['MaxPool2d({ kernelSize: 2 })', () => new nn.MaxPool2d(js({ kernelSize: 2 })), 'MaxPool2d', /kernel_size must be a number or a pair, got \{"kernelSize":2\}/],
  ['MaxPool2d kernel_size', () => new nn.MaxPool2d(2, js({ kernel_size: 2 })), 'MaxPool2d', /unknown option 'kernel_size'; accepted: stride, padding, dilation, ceilMode/],
  ['MaxPool2d ceil_mode', () => new nn.MaxPool2d(2, js({ ceil_mode: true })), 'MaxPool2d', /unknown option 'ceil_mode' \(did you mean 'ceilMode'\?\)/],
  ['MaxPool2d stride 0', () => new nn.MaxPool2d(2, { stride: 0 }), 'MaxPool2d', /stride must be integers >= 1, got \(0, 0\)/],
  ['MaxPool2d padding -1', () => new nn.MaxPool2d(2, { padding: -1 }), 'MaxPool2d', /padding must be integers >= 0, got \(-1, -1\)/],
  ['MaxPool2d padding over half the kernel', () => new nn.MaxPool2d(2, { padding: 2 }), 'MaxPool2d', /padding \(2, 2\) must be at most half of the kernel size \(2, 2\)/],
  ['MaxPool2d dilation 0', () => new nn.MaxPool2d(2, { dilation: 0 }), 'MaxPool2d', /dilation must be integers >= 1/],
  ["MaxPool2d ceilMode 'true'", () => new nn.MaxPool2d(2, js({ ceilMode: 'true' })), 'MaxPool2d', /ceilMode must be true or false, got 'true'/],
  ['MaxPool2d kernel of 3', () => new nn.MaxPool2d(js([2, 2, 2])), 'MaxPool2d', /kernel_size must be a number or a pair, got \[2,2,2\]/],
  ['AvgPool2d(0)', () => new nn.AvgPool2d(0), 'AvgPool2d', /kernel_size must be integers >= 1, got \(0, 0\)/],
  ['AvgPool2d count_include_pad', () => new nn.AvgPool2d(2, js({ count_include_pad: false })), 'AvgPool2d', /unknown option 'count_include_pad' \(did you mean 'countIncludePad'\?\); accepted: stride, padding, ceilMode, countIncludePad, divisorOverride/],
  ['AvgPool2d dilation', () => new nn.AvgPool2d(2, js({ dilation: 2 })), 'AvgPool2d', /unknown option 'dilation'/],
  ['AvgPool2d padding over half the kernel', () => new nn.AvgPool2d(3, { padding: 2 }), 'AvgPool2d', /padding \(2, 2\) must be at most half of the kernel size \(3, 3\)/],
  ["AvgPool2d countIncludePad 'no'", () => new nn.AvgPool2d(2, js({ countIncludePad: 'no' })), 'AvgPool2d', /countIncludePad must be true or false, got 'no'/],
  ['AvgPool2d divisorOverride 1.5', () => new nn.AvgPool2d(2, { divisorOverride: 1.5 }), 'AvgPool2d', /divisor_override must be an integer/],
  ['Conv2d padding_mode', () => new nn.Conv2d(1, 1, 3, js({ padding_mode: 'zeros' })), 'Conv2d', /unknown option 'padding_mode' \(did you mean 'padding'\?\)|unknown option 'padding_mode'; accepted: stride, padding, dilation, bias/],
  ['Conv2d groups', () => new nn.Conv2d(2, 2, 3, js({ groups: 2 })), 'Conv2d', /unknown option 'groups'; accepted: stride, padding, dilation, bias/],
  ["Conv2d bias 'no'", () => new nn.Conv2d(1, 1, 3, js({ bias: 'no' })), 'Conv2d', /bias must be true or false, got 'no'/],
  ['Conv2d kernel of 3', () => new nn.Conv2d(1, 1, js([3, 3, 3])), 'Conv2d', /kernel_size must be a number or a pair, got \[3,3,3\]/],
  ['ConvTranspose2d output_padding', () => new nn.ConvTranspose2d(1, 1, 2, js({ stride: 2, output_padding: 1 })), 'ConvTranspose2d', /unknown option 'output_padding' \(did you mean 'outputPadding'\?\)/],
  ['BatchNorm2d eps 0', () => new nn.BatchNorm2d(4, { eps: 0 }), 'BatchNorm2d', /eps must be a finite number > 0, got 0/],
  ['BatchNorm2d eps -1e-5', () => new nn.BatchNorm2d(4, { eps: -1e-5 }), 'BatchNorm2d', /eps must be a finite number > 0, got -0.00001/],
  ['BatchNorm2d eps NaN', () => new nn.BatchNorm2d(4, { eps: NaN }), 'BatchNorm2d', /eps must be a finite number > 0, got NaN/],
  ['BatchNorm2d momentum 1.5', () => new nn.BatchNorm2d(4, { momentum: 1.5 }), 'BatchNorm2d', /momentum must be a finite number >= 0 and <= 1 \(or null\), got 1.5/],
  ['BatchNorm2d momentum -0.1', () => new nn.BatchNorm2d(4, { momentum: -0.1 }), 'BatchNorm2d', /momentum .* got -0.1/],
  ['BatchNorm2d momentum NaN', () => new nn.BatchNorm2d(4, { momentum: NaN }), 'BatchNorm2d', /momentum .* got NaN/],
  ['BatchNorm2d track_running_stats', () => new nn.BatchNorm2d(4, js({ track_running_stats: false })), 'BatchNorm2d', /unknown option 'track_running_stats' \(did you mean 'trackRunningStats'\?\)/],
  ["BatchNorm2d affine 'no'", () => new nn.BatchNorm2d(4, js({ affine: 'no' })), 'BatchNorm2d', /affine must be true or false/],
  ["LeakyReLU('0.2')", () => new nn.LeakyReLU(js('0.2')), 'LeakyReLU', /negative_slope must be a finite number, got '0.2'/],
  ['LeakyReLU({ negativeSlope })', () => new nn.LeakyReLU(js({ negativeSlope: 0.2 })), 'LeakyReLU', /negative_slope must be a finite number, got \{"negativeSlope":0.2\}/],
  ["GELU approximate 'erf'", () => new nn.GELU(js({ approximate: 'erf' })), 'GELU', /approximate 'erf' is not one of 'none', 'tanh'/],
  ['GELU approx', () => new nn.GELU(js({ approx: 'tanh' })), 'GELU', /unknown option 'approx'; accepted: approximate/],
  ['Dropout NaN', () => new nn.Dropout(NaN), 'Dropout', /between 0 and 1, but got NaN/],
  // Other option objects of nn.
  ['loadStateDict strict_mode', () => new nn.Conv2d(1, 1, 1).loadStateDict({}, js({ strict_mode: false })), 'loadStateDict', /unknown option 'strict_mode'; accepted: strict/],
  ["loadStateDict strict 'no'", () => new nn.Conv2d(1, 1, 1).loadStateDict({}, js({ strict: 'no' })), 'loadStateDict', /strict must be true or false, got 'no'/],
  ['summary max_depth', () => summary(new nn.ReLU(), Tensor.empty([1], 'f32', metaDevice()), js({ max_depth: 2 })), 'summary', /unknown option 'max_depth'; accepted: depth/],
  ['summary depth -1', () => summary(new nn.ReLU(), Tensor.empty([1], 'f32', metaDevice()), { depth: -1 }), 'summary', /depth must be an integer >= 0, got -1/],
  ['deserializeSafetensors dev', () => nn.deserializeSafetensors(new Uint8Array(16), js({ dev: cpu })), 'deserializeSafetensors', /unknown option 'dev'; accepted: device/],
];

describe('bad options: ArgumentError at construction, naming the class and the value', () => badCalls(CASES, ArgumentError));

describe('what stays accepted', () => {
  test('bare numbers where PyTorch takes them, pairs, null momentum, the boundaries', () => {
    withDevice(cpu, () => {
      expect(new nn.MaxPool2d(2).kernelSize).toBe(2);
      expect(new nn.MaxPool2d([3, 2], { stride: 1, padding: [1, 1] }).stride).toBe(1);
      // nn.Upsample(64) is nn.Upsample(size=64), as in PyTorch.
      expect(new nn.Upsample(64).size).toBe(64);
      expect(new nn.Upsample([4, 6]).size).toEqual([4, 6]);
      expect(new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false }).mode).toBe('bilinear');
      expect(new nn.BatchNorm2d(2, { momentum: null }).momentum).toBe(null);
      expect(new nn.BatchNorm2d(2, { momentum: 0 }).momentum).toBe(0);
      expect(new nn.BatchNorm2d(2, { momentum: 1, eps: 1e-3 }).momentum).toBe(1);
      expect(new nn.Conv2d(1, 1, 3, { padding: 'same', stride: undefined }).padding).toBe('same');
      expect(new nn.LeakyReLU(-0.5).negativeSlope).toBe(-0.5);
      expect(new nn.GELU().approximate).toBe('none');
      expect(new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).stride).toBe(2);
      expect(new nn.AvgPool2d(2).countIncludePad).toBe(true);
      expect(String(new nn.GELU({ approximate: 'tanh' }))).toContain("GELU(approximate='tanh')");
    });
  });

  test('UNet.outputSize: the sizes the U-Net really produces, and the full config is accepted', () => {
    expect(UNet.outputSize(572, { padding: 'valid', merge: 'pad' })).toBe(564);
    expect(UNet.outputSize(572, { padding: 'valid', merge: 'crop' })).toBe(388);
    expect(UNet.outputSize(128, { inChannels: 1, classes: 1, width: 16, padding: 'same', bias: true } as never)).toBe(128);
    expect(UNet.outputSize(16, { depth: 4 })).toBe(16);
    // For every input size: outputSize throws exactly when a real forward (on the meta device) fails, else it
    // gives the forward's size. In eval mode: training BatchNorm also needs more than one value per channel
    // (batch x H x W > 1 at the bottom level), which depends on the batch, not on the geometry.
    const meta = metaDevice();
    for (const opts of [
      { depth: 4, padding: 'same', merge: 'pad' },
      { depth: 4, padding: 'same', merge: 'crop' },
      { depth: 4, padding: 'valid', merge: 'pad' },
      { depth: 4, padding: 'valid', merge: 'crop' },
      { depth: 1, padding: 'valid', merge: 'pad' },
      { depth: 2, padding: 'valid', merge: 'crop', bilinear: true },
    ] as const) {
      const net = withDevice(meta, () => new UNet({ ...U, ...opts })).eval();
      let runs = 0;
      for (let size = 1; size <= 200; size++) {
        let got: number[] | null = null;
        try {
          got = net.forward(Tensor.empty([1, 1, size, size], 'f32', meta)).shape.slice(2);
        } catch {
          got = null;
        }
        const tag = `${size} ${JSON.stringify(opts)}`;
        if (got === null) expect(() => UNet.outputSize(size, opts), tag).toThrow(ArgumentError);
        else expect([UNet.outputSize(size, opts), UNet.outputSize(size, opts)], tag).toEqual(got);
        if (got) runs++;
      }
      expect(runs).toBeGreaterThan(0);
    }
  });
});

test('serializeSafetensors: unknown keys and file dtypes are refused (a rejected promise)', async () => {
  const sd = { a: Tensor.empty([1], 'i32', cpu) };
  await expect(nn.serializeSafetensors(sd, undefined, js({ i32_as: 'I32' }))).rejects.toThrow("serializeSafetensors: unknown option 'i32_as' (did you mean 'i32As'?); accepted: i32As");
  await expect(nn.serializeSafetensors(sd, undefined, js({ i32As: 'I16' }))).rejects.toThrow("serializeSafetensors: i32As 'I16' is not one of 'I64', 'I32'");
});

describe('the helpers in src/core/options.ts', () => {
  test('checkOptions: undefined is {}, non-objects and unknown keys are refused', () => {
    expect(checkOptions('op', undefined, ['a'])).toEqual({});
    const o = { a: 1 };
    expect(checkOptions('op', o, ['a', 'b'])).toBe(o);
    expect(checkOptions<{ a?: number; b?: string }>('op', { a: 1 }, { a: true, b: true })).toEqual({ a: 1 });
    expect(() => checkOptions('op', js(2), ['a'])).toThrow(/^op: options must be an object, got 2$/);
    expect(() => checkOptions('op', js([1]), ['a'])).toThrow(/^op: options must be an object, got \[1\]$/);
    expect(() => checkOptions('op', js(null), ['a'])).toThrow(/^op: options must be an object, got null$/);
    expect(() => checkOptions('op', js({ ceil_mode: 1 }), ['ceilMode'])).toThrow("op: unknown option 'ceil_mode' (did you mean 'ceilMode'?); accepted: ceilMode");
    expect(() => checkOptions('op', js({ x: 1 }), [])).toThrow("op: unknown option 'x'; accepted: none");
  });

  test('checkOneOf, checkNumber, checkBoolean', () => {
    expect(checkOneOf('op', 'mode', 'a', ['a', 'b'])).toBe('a');
    expect(() => checkOneOf('op', 'mode', 3, ['a', 'b'])).toThrow("op: mode 3 is not one of 'a', 'b'");
    expect(checkNumber('op', 'x', 0, { min: 0 })).toBe(0);
    expect(() => checkNumber('op', 'x', 0, { min: 0, minExclusive: true })).toThrow('op: x must be a finite number > 0, got 0');
    expect(() => checkNumber('op', 'x', Infinity)).toThrow('op: x must be a finite number, got Infinity');
    expect(checkNumber('op', 'x', Infinity, { finite: false })).toBe(Infinity);
    expect(() => checkNumber('op', 'n', 2.5, { integer: true, min: 1 })).toThrow('op: n must be an integer >= 1, got 2.5');
    expect(() => checkNumber('op', 'x', '1')).toThrow("op: x must be a finite number, got '1'");
    expect(() => checkNumber('op', 'x', 1, { max: 1, maxExclusive: true })).toThrow('op: x must be a finite number < 1, got 1');
    expect(checkBoolean('op', 'b', false)).toBe(false);
    expect(() => checkBoolean('op', 'b', 0)).toThrow('op: b must be true or false, got 0');
  });
});
