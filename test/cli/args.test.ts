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
    [['bench', '--config', 'constructor'], "unet-webgpu bench: --config must be one of a, b, c, got 'constructor'"],
    [['bench', '--reps', '0'], "unet-webgpu bench: --reps must be an integer >= 1, got '0'"],
    [['bench', '--modes', 'fwd,back'], "unet-webgpu bench: --modes must be one of fwd, fwd_eval, train, got 'back'"],
    [['run', '--size', 'abc'], "unet-webgpu run: --size must be an integer >= 1, got 'abc'"],
    [['run', '--steps', 'abc'], "unet-webgpu run: --steps must be an integer >= 1, got 'abc'"],
    [['summary', '--padding', 'full'], "unet-webgpu summary: --padding must be one of same, valid, got 'full'"],
    [['summary', '--kernel_size', '3'], "Unknown option '--kernel_size'"],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(2);
  });
});
