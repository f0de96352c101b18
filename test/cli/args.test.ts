// The commands reject bad flag values with a message naming the command, the flag and the value, and exit 2
// (they used to run with another meaning and exit 0: `--size abc` was NaN, `--reps 0` ran no repetition,
// `--config constructor` passed the table lookup).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ArgumentError } from '../../src/index.js';
import { choiceFlag, intFlag, numFlag } from '../../src/cli/args.js';

const BIN = join(import.meta.dirname, '../../bin/unet-webgpu.mjs');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('flag values', () => {
  test.each([
    [['intFlag', '3', 1], 3],
    [['intFlag', '0', 0], 0],
  ] as const)('accepted: %j', ([, v, min], want) => expect(intFlag('cmd', 'n', v, min)).toBe(want));

  test.each([['abc'], [''], ['1.5'], ['0'], ['-2'], ['1e400'], ['0x']])('intFlag rejects %j', (v) => {
    expect(() => intFlag('run', 'steps', v)).toThrow(ArgumentError);
    expect(() => intFlag('run', 'steps', v)).toThrow(`run: --steps must be an integer >= 1, got '${v}'`);
  });

  test('numFlag and choiceFlag', () => {
    expect(numFlag('bench', 'lr', '0.01', 0, false)).toBe(0.01);
    expect(() => numFlag('bench', 'lr', '0', 0, false)).toThrow("bench: --lr must be a finite number > 0, got '0'");
    expect(() => numFlag('bench', 'lr', 'Infinity', 0, false)).toThrow(ArgumentError);
    expect(choiceFlag('bench', 'config', 'b', { a: 1, b: 2 })).toBe('b');
    // Inherited keys of a table are not choices.
    for (const v of ['constructor', 'toString', '__proto__']) expect(() => choiceFlag('bench', 'config', v, { a: 1, b: 2 })).toThrow(`bench: --config must be one of a, b, got '${v}'`);
  });
});

describe('the command line', () => {
  test.each([
    [['bench', '--config', 'constructor'], "unet-webgpu bench: --config must be one of a, b, c, isbi, got 'constructor'"],
    [['bench', '--reps', '0'], "unet-webgpu bench: --reps must be an integer >= 1, got '0'"],
    [['bench', '--modes', 'fwd,back'], "unet-webgpu bench: --modes must be one of fwd, fwd_eval, train, got 'back'"],
    [['run', '--size', 'abc'], "unet-webgpu run: --size must be an integer >= 1, got 'abc'"],
    [['run', '--steps', 'abc'], "unet-webgpu run: --steps must be an integer >= 1, got 'abc'"],
    [['summary', '--padding', 'full'], "unet-webgpu summary: --padding must be one of same, valid, got 'full'"],
    [['summary', '--kernel_size', '3'], "Unknown option '--kernel_size'"],
    [['summary', '--model', 'vnet'], "unet-webgpu summary: --model must be one of unet, attention-unet, res-unet, trans-unet, unet++, plain-conv-unet, got 'vnet'"],
    [['summary', '--model', 'attention-unet', '--padding', 'valid'], 'unet-webgpu summary: --padding applies to --model unet, not attention-unet'],
    [['summary', '--model', 'unet', '--deep-supervision'], 'unet-webgpu summary: --deep-supervision applies to --model unet++, not unet'],
    [['summary', '--model', 'unet++', '--size', '100'], 'unet-webgpu summary: NestedUNet: input size 100 must be a positive multiple of 2^depth = 16'],
    [['bench', '--model', 'vnet'], "unet-webgpu bench: --model must be one of unet, attention-unet, res-unet, trans-unet, unet++, plain-conv-unet, got 'vnet'"],
    [['bench', '--model', 'unet++', '--checkpointing'], 'unet-webgpu bench: --checkpointing applies to --model unet, res-unet, trans-unet, not unet++'],
    [['bench', '--config', 'c', '--model', 'unet++'], 'unet-webgpu bench: NestedUNet: input size 572 must be a positive multiple of 2^depth = 16'],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(2);
  });

  // The parameter counts of the references in each model's summary (test/fixtures/family/shapes.json: AttU_Net(3, 1),
  // torchvision-block ResUNet(3, 1), NestedUNet(1, 3), nnU-Net's 7-stage 2-D PlainConvUNet 1 -> 3).
  test.each([
    ['attention-unet', ['--in', '3'], '34,878,573', '[1, 1, 256, 256]'],
    ['res-unet', ['--in', '3'], '32,436,353', '[1, 1, 256, 256]'],
    ['unet++', ['--in', '3'], '9,163,329', '[1, 1, 256, 256]'],
    ['plain-conv-unet', ['--classes', '3', '--depth', '6', '--size', '128'], '33,473,330', '[1, 3, 128, 128]'],
  ])('summary --model %s %j', (model, args, params, out) => {
    const r = cli('summary', '--model', model, ...args, '--depthShown', '0');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Total params: ${params}`);
    expect(r.stdout).toContain(out);
  });
});
