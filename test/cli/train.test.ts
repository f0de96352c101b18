// `unet-webgpu train` in a child process: tiny settings on a folder of PNGs write the checkpoints, the JSON-lines
// log and the plot and print the validation Dice; --resume continues to a larger budget; --help, unknown options,
// bad values and a bad mask are rejected with messages (usage errors exit 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { encodePng } from '../../src/index.js';
import { skipGpu } from '../helpers/gpu.js';

const skip = await skipGpu();
const BIN = join(import.meta.dirname, '../../bin/unet-webgpu.mjs');
const train = (...args: string[]) => spawnSync(process.execPath, [BIN, 'train', ...args], { encoding: 'utf8', timeout: 300_000 });

/** A folder with images/ and masks/ of `n` 40x40 PNGs (mask = a disk, image = the disk plus a gradient). */
function dataset(n: number, rgbMask = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'unet-train-'));
  mkdirSync(join(dir, 'images'));
  mkdirSync(join(dir, 'masks'));
  for (let k = 0; k < n; k++) {
    const m = Array.from({ length: 1600 }, (_, i) => (Math.hypot((i % 40) - 12 - 3 * k, Math.floor(i / 40) - 20) < 9 ? 255 : 0));
    writeFileSync(join(dir, 'images', `${k}.png`), encodePng({ width: 40, height: 40, channels: 1, data: m.map((v, i) => 0.7 * v + (i % 40)) }));
    const mask = rgbMask ? { width: 40, height: 40, channels: 3, data: [...m, ...m.map(() => 0), ...m.map(() => 0)] } : { width: 40, height: 40, channels: 1, data: m };
    writeFileSync(join(dir, 'masks', `${k}.png`), encodePng(mask));
  }
  return dir;
}

describe('train command', () => {
  test('--help, unknown options and bad values', () => {
    const help = train('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: unet-webgpu train/);
    expect(help.stdout).toMatch(/--augment LIST/);
    const unknown = train('--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unet-webgpu train: Unknown option '--bogus'/);
    for (const [args, msg] of [
      [['--loss', 'l2'], /--loss must be one of bce, ce, dice, bce\+dice, got 'l2'/],
      [['--batch', '0'], /--batch must be an integer >= 1, got '0'/],
      [['--lr', 'fast'], /--lr must be a finite number > 0, got 'fast'/],
      [['--steps', '3', '--epochs', '2'], /give one budget, not --epochs and --steps/],
      [['--augment', 'flips,warp'], /unknown augmentation 'warp'/],
      [['--images', 'x'], /--images and --masks go together/],
      [['--model', 'attention-unet', '--checkpointing'], /--checkpointing applies to --model unet, res-unet, trans-unet, not attention-unet/],
    ] as const) {
      const r = train(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  test.skipIf(skip)('--tune times the buckets of the step the cached table lacks, caches them, and the next run reuses them', () => {
    const dir = dataset(3);
    const cache = mkdtempSync(join(tmpdir(), 'unet-tune-cache-'));
    const run = (out: string, ...extra: string[]) => {
      const r = spawnSync(process.execPath, [BIN, 'train', '--tune', '--images', join(dir, 'images'), '--masks', join(dir, 'masks'), '--val', '0.34', '--steps', '2', '--crop', '32', '--batch', '2', '--width', '4', '--depth', '2', '--out', out, ...extra], {
        encoding: 'utf8', timeout: 300_000, env: { ...process.env, UNET_WEBGPU_CACHE_DIR: cache },
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.match(/train: --tune: (\d+) new shape bucket\(s\) timed in [\d.]+ s, (\d+) already in this adapter's table \((.*)\)/);
    };
    const first = run(join(dir, 'run1'));
    expect(first, 'the --tune line').not.toBeNull();
    const [fresh, had, path] = [Number(first![1]), Number(first![2]), first![3]!];
    expect(fresh).toBeGreaterThan(0);
    expect(had).toBe(0);
    expect(path).toBe(join(cache, 'tuning.json'));
    const file = JSON.parse(readFileSync(path, 'utf8')) as { adapters: Record<string, { entries: Record<string, unknown> }> };
    expect(Object.values(file.adapters).map((t) => Object.keys(t.entries).length)).toEqual([fresh]);
    // The same step again: nothing new to time. A wider net adds the buckets it has that the first did not.
    const again = run(join(dir, 'run2'));
    expect([Number(again![1]), Number(again![2])]).toEqual([0, fresh]);
    const wider = run(join(dir, 'run3'), '--width', '16');
    expect(Number(wider![1])).toBeGreaterThan(0);
    expect(Number(wider![2])).toBeLessThanOrEqual(fresh);
  }, 300_000);

  test.skipIf(skip)('--checkpointing trains to the same losses, bit for bit, and the same validation Dice', () => {
    const dir = dataset(3);
    const losses = (out: string, ...extra: string[]) => {
      const r = train(...extra, '--images', join(dir, 'images'), '--masks', join(dir, 'masks'), '--val', '0.34', '--steps', '3', '--epoch-steps', '3', '--crop', '32', '--batch', '2', '--width', '4', '--depth', '2', '--log-every', '1', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      const rows = readFileSync(join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss?: number; dice?: number[] });
      return { loss: rows.filter((x) => x.type === 'step').map((x) => x.loss), dice: rows.filter((x) => x.type === 'val').map((x) => x.dice) };
    };
    const plain = losses(join(dir, 'plain'));
    const ckpt = losses(join(dir, 'ckpt'), '--checkpointing');
    expect(plain.loss).toHaveLength(3);
    expect(plain.loss.every((v) => Number.isFinite(v) && v! > 0)).toBe(true);
    expect(ckpt).toEqual(plain);
  });

  test.skipIf(skip)('tiny settings write latest/best checkpoints, the log and the plot; --resume extends the run', () => {
    const dir = dataset(4);
    const out = join(dir, 'run');
    const args = ['--images', join(dir, 'images'), '--masks', join(dir, 'masks'), '--val', '0.25', '--steps', '4', '--epoch-steps', '2', '--crop', '32', '--batch', '2', '--width', '4', '--depth', '2', '--log-every', '1', '--out', out];
    const r = train(...args);
    expect(r.stderr.replace(/Warning: .*\n/g, '')).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/train: 3 training and 1 validation images/);
    expect(r.stdout).toMatch(/epoch 2 \(step 4\): loss \d\.\d{4}, val Dice class 0 \d\.\d{4} class 1 \d\.\d{4}/);
    expect(r.stdout).toMatch(/validation Dice: class 0 \d\.\d{4}, class 1 \d\.\d{4}/);
    for (const f of ['latest.safetensors', 'best.safetensors', 'train.jsonl', 'plot.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    const log = readFileSync(join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number; loss?: number });
    expect(log.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(log.filter((l) => l.type === 'val').length).toBe(2);
    expect(readFileSync(join(out, 'plot.svg'), 'utf8')).toMatch(/^<svg[^]*validation Dice[^]*<\/svg>\n$/);
    expect(train(...args).stderr).toMatch(/already holds a run: --resume/);
    const more = train('--resume', out, '--steps', '6');
    expect(more.status).toBe(0);
    expect(more.stdout).toMatch(/resuming at step 4/);
    expect(more.stdout).toMatch(/over 6 steps/);
  });

  // The family: --model records the model in the checkpoint, so predict and --resume rebuild it (strict state-dict load).
  test.skipIf(skip).each([
    ['attention-unet', []],
    ['res-unet', []],
    ['trans-unet', []],
    ['unet++', []],
    ['unet++', ['--deep-supervision']],
    ['plain-conv-unet', []],
  ] as const)('--model %s %j trains, predicts from its checkpoint and resumes', async (model, extra) => {
    const dir = dataset(3);
    const out = join(dir, 'run');
    const r = train('--model', model, ...extra, '--images', join(dir, 'images'), '--masks', join(dir, 'masks'), '--val', '0.34', '--steps', '2', '--epoch-steps', '1', '--crop', '32', '--batch', '1', '--width', '4', '--depth', '2', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`; ${model} width 4 depth 2 same,`);
    expect(r.stdout).toMatch(/validation Dice: class 0 \d\.\d{4}, class 1 \d\.\d{4}/);
    const { loadSegModel } = await import('../../src/node.js');
    const { modelNameOf } = await import('../../src/unet/family/index.js');
    const { cpuDevice } = await import('../../src/index.js');
    const { model: net, meta } = await loadSegModel(join(out, 'latest.safetensors'), { device: cpuDevice() });
    expect(meta.modelName).toBe(model);
    if (extra.length) expect((meta.model as { deepSupervision?: boolean }).deepSupervision).toBe(true);
    expect(modelNameOf(net)).toBe(model);
    net.dispose();
    const pred = spawnSync(process.execPath, [BIN, 'predict', '--weights', join(out, 'latest.safetensors'), '--input', join(dir, 'images'), '--out', join(dir, 'pred')], { encoding: 'utf8', timeout: 300_000 });
    expect(pred.status, pred.stderr).toBe(0);
    for (const k of [0, 1, 2]) expect(existsSync(join(dir, 'pred', 'masks', `${k}.png`)), `masks/${k}.png`).toBe(true);
    const more = train('--resume', out, '--steps', '3');
    expect(more.status, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/resuming at step 2/);
    expect(more.stdout).toContain(`; ${model} width 4 depth 2`);
  });

  test('--model: an unknown name lists the choices; U-Net-only flags are refused for the others', () => {
    const bad = train('--model', 'vnet');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--model must be one of unet, attention-unet, res-unet, trans-unet, unet\+\+, plain-conv-unet, got 'vnet'/);
    const pad = train('--model', 'unet++', '--padding', 'valid');
    expect(pad.status).toBe(2);
    expect(pad.stderr).toMatch(/--padding applies to --model unet, not unet\+\+/);
    const deep = train('--deep-supervision');
    expect(deep.status).toBe(2);
    expect(deep.stderr).toMatch(/--deep-supervision applies to --model unet\+\+, not unet/);
  });

  test.skipIf(skip)('an RGB mask stops the run with the mask checker\'s message', () => {
    const dir = dataset(2, true);
    const r = train('--images', join(dir, 'images'), '--masks', join(dir, 'masks'), '--steps', '1', '--out', join(dir, 'run'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mask .*0\.png is an RGB mask with colours/);
  });
});
