// Evaluation of hand-made label maps against hand-computed Dice, IoU, pixel error and HD95; mask files read as
// labels (0/255, 0..K-1) or refused with the file and the values; the `evaluate` command on a folder of PNGs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { encodePng, FormatError, type RasterImage } from '../../src/index.js';
import { maskLabels } from '../../src/data/mask.js';
import { evaluateMasks, meanScores } from '../../src/seg/evaluate.js';

const BIN = join(import.meta.dirname, '../../bin/unet-webgpu.mjs');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

// 4 x 4: class 1 is a 2 x 2 square; the prediction shifts it one column right (test/data/metrics.test.ts's maps).
const TRUTH4 = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0];
const PRED4 = [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0];
// 3 x 6, three classes in column bands: truth 0 0 1 1 2 2, prediction 0 0 0 1 1 1 on every row.
const TRUTH3 = [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2];
const PRED3 = [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1];

describe('evaluateMasks', () => {
  test('the shifted square: Dice 20/24 and 1/2, IoU 10/14 and 1/3, pixel error 1/4, HD95 1 for both classes', () => {
    // Class 1: each square's outer column is 1 from the other's boundary, its inner column on it: distances
    // [0, 0, 1, 1] each way, 95th percentile 1. Class 0: every pixel on the image edge is boundary; the two edge pixels
    // the prediction gives to class 1 and the two it takes back inside are each 1 from the other boundary: 1.
    const s = evaluateMasks(PRED4, TRUTH4, 4, 4, 2);
    expect(s.pixelError).toBe(0.25);
    expect(s.classes.map((c) => c.dice)).toEqual([20 / 24, 0.5]);
    expect(s.classes.map((c) => c.iou)).toEqual([10 / 14, 2 / 6]);
    expect(s.classes.map((c) => c.hd95)).toEqual([1, 1]);
  });

  test('three column bands: per-class values worked out by hand, an unpredicted class has HD95 Infinity', () => {
    const s = evaluateMasks(PRED3, TRUTH3, 6, 3, 3);
    // Wrong: column 2 (truth 1, predicted 0) and columns 4, 5 (truth 2, predicted 1): 9 of 18.
    expect(s.pixelError).toBe(0.5);
    // Class 0: tp 6, fp 3, fn 0. Class 1: tp 3 (column 3), fp 6, fn 3. Class 2: tp 0, fn 6.
    expect(s.classes.map((c) => c.dice)).toEqual([12 / 15, 6 / 15, 0]);
    expect(s.classes.map((c) => c.iou)).toEqual([6 / 9, 3 / 12, 0]);
    // Class 0: predicted boundary (8 pixels: all of columns 0-2 but the centre (1, 1)) to the true one (columns 0-1):
    // [0 x 5, 1 x 3] -> 95th percentile 1; back: [0 x 5, 1] -> 0.75; HD95 1.
    // Class 1: predicted boundary (columns 3 and 5, and (0, 4), (2, 4)) to the truth (columns 2-3): [0 x 3, 1 x 2, 2 x 3]
    // -> 2; back: [0 x 3, 1 x 3] -> 1; HD95 2.
    expect(s.classes.map((c) => c.hd95)).toEqual([1, 2, Infinity]);
    expect([...s.confusion.tp]).toEqual([6, 3, 0]);
  });

  test('a class absent from both: Dice 1, IoU 1, HD95 0; means skip nothing but NaN, an infinite HD95 stays infinite', () => {
    const s = evaluateMasks([0, 0, 1, 1], [0, 0, 1, 1], 2, 2, 3);
    expect(s.classes[2]).toEqual({ dice: 1, iou: 1, hd95: 0 });
    expect(s.classes[0]).toEqual({ dice: 1, iou: 1, hd95: 0 });
    const m = meanScores([s, evaluateMasks(PRED3, TRUTH3, 6, 3, 3)]);
    expect(m.pixelError).toBe(0.25);
    expect(m.classes.map((c) => c.dice)).toEqual([(1 + 12 / 15) / 2, (1 + 6 / 15) / 2, 0.5]);
    expect(m.classes.map((c) => c.hd95)).toEqual([0.5, 1, Infinity]);
  });
});

const grey = (width: number, height: number, data: number[], maxValue = 255, channels = 1): RasterImage => ({ width, height, channels, data: Float32Array.from(data), maxValue, bitDepth: maxValue === 255 ? 8 : 16 });

describe('mask files as labels', () => {
  test('0/255 and 0/65535 are binary 0/1; 0..K-1 pass as they are; grey stored as RGB reads its first channel', () => {
    expect([...maskLabels(grey(2, 2, [0, 255, 255, 0]), 2)]).toEqual([0, 1, 1, 0]);
    expect([...maskLabels(grey(2, 1, [65535, 0], 65535), 2)]).toEqual([1, 0]);
    expect([...maskLabels(grey(3, 1, [0, 2, 1]), 3)]).toEqual([0, 2, 1]);
    expect([...maskLabels(grey(2, 1, [0, 1]), 2)]).toEqual([0, 1]);
    expect([...maskLabels(grey(2, 1, [255, 0, 255, 0, 255, 0], 255, 3), 2)]).toEqual([1, 0]);
  });

  test('other values are a FormatError naming the file and the values found', () => {
    expect(() => maskLabels(grey(4, 1, [0, 128, 255, 3]), 2, 'masks/7.png')).toThrow(FormatError);
    expect(() => maskLabels(grey(4, 1, [0, 128, 255, 3]), 2, 'masks/7.png')).toThrow('masks/7.png has values 0, 3, 128, 255 (4 distinct); expected 0 and 255 (binary) or the labels 0, 1');
    expect(() => maskLabels(grey(2, 1, [0, 255]), 3, 'm.png')).toThrow('m.png has values 0, 255 (2 distinct); expected the labels 0..2');
    expect(() => maskLabels(grey(2, 1, [0, 255, 0, 0, 0, 255], 255, 3), 2, 'rgb.png')).toThrow('rgb.png is a colour mask (pixel 1, 0 is RGB 255, 0, 255)');
  });
});

describe('the evaluate command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-evaluate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (sub: string, name: string, width: number, height: number, labels: number[], scale = 255) => {
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, name), encodePng({ width, height, channels: 1, data: labels.map((v) => v * scale) }));
  };
  // Binary: the shifted square as 0/255 PNGs; a second image predicted exactly; a stray prediction without a mask.
  write('pred', 'a.png', 4, 4, PRED4);
  write('masks', 'a.png', 4, 4, TRUTH4);
  write('pred', 'b.png', 4, 4, TRUTH4);
  write('masks', 'b.png', 4, 4, TRUTH4);
  write('pred', 'extra.png', 4, 4, TRUTH4);
  // Three classes as labels 0..2.
  write('pred3', 'c.png', 6, 3, PRED3, 1);
  write('masks3', 'c.png', 6, 3, TRUTH3, 1);

  test('--json: per image and mean, lists by class', () => {
    const r = cli('evaluate', '--pred', join(dir, 'pred'), '--masks', join(dir, 'masks'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.classes).toBe(2);
    expect(out.images.map((i: { name: string }) => i.name)).toEqual(['a', 'b']);
    expect(out.images[0]).toEqual({ name: 'a', pixelError: 0.25, dice: [20 / 24, 0.5], iou: [10 / 14, 2 / 6], hd95: [1, 1] });
    expect(out.images[1]).toEqual({ name: 'b', pixelError: 0, dice: [1, 1], iou: [1, 1], hd95: [0, 0] });
    expect(out.mean).toEqual({ pixelError: 0.125, dice: [(1 + 20 / 24) / 2, 0.75], iou: [(1 + 10 / 14) / 2, (1 + 1 / 3) / 2], hd95: [0.5, 0.5] });
    const r3 = cli('evaluate', '--pred', join(dir, 'pred3'), '--masks', join(dir, 'masks3'), '--classes', '3', '--json');
    expect(JSON.parse(r3.stdout).images[0]).toEqual({ name: 'c', pixelError: 0.5, dice: [12 / 15, 6 / 15, 0], iou: [6 / 9, 3 / 12, 0], hd95: [1, 2, null] });
  });

  test('the table: the foreground first, a mean row', () => {
    const r = cli('evaluate', '--pred', join(dir, 'pred'), '--masks', join(dir, 'masks'));
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^image\s+pixel error\s+dice 1\s+iou 1\s+hd95 1\s+dice 0\s+iou 0\s+hd95 0$/);
    expect(lines[1]).toMatch(/^a\s+0\.2500\s+0\.5000\s+0\.3333\s+1\.00\s+0\.8333\s+0\.7143\s+1\.00$/);
    expect(lines.find((l) => l.startsWith('mean (2)'))).toMatch(/0\.1250\s+0\.7500/);
  });

  test('--help, unknown flags, bad values and missing predictions', () => {
    const h = cli('evaluate', '--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('usage: unet-webgpu evaluate --pred DIR --masks DIR');
    for (const [args, message] of [
      [['--pred', 'x', '--masks', 'y', '--classes', '1'], "unet-webgpu evaluate: --classes must be an integer >= 2, got '1'"],
      [['--pred', 'x', '--masks', 'y', '--classes', 'two'], "unet-webgpu evaluate: --classes must be an integer >= 2, got 'two'"],
      [['--pred', 'x', '--masks', 'y', '--thresh', '3'], "Unknown option '--thresh'"],
      [['--masks', 'y'], 'unet-webgpu evaluate: --pred DIR and --masks DIR are required'],
      [['--pred', join(dir, 'nope'), '--masks', join(dir, 'masks')], 'nope: no such directory'],
      [['--pred', join(dir, 'pred3'), '--masks', join(dir, 'masks')], 'has no prediction for 2 of 2 masks: a, b'],
    ] as const) {
      const r = cli('evaluate', ...args);
      expect(r.stderr).toContain(message);
      expect(r.status).toBe(2);
    }
    // A mask that is no label map: exit 1 with the file and its values.
    write('badmasks', 'a.png', 4, 1, [0, 1, 2, 3], 60);
    write('badpred', 'a.png', 4, 1, [0, 1, 1, 0]);
    const r = cli('evaluate', '--pred', join(dir, 'badpred'), '--masks', join(dir, 'badmasks'));
    expect(r.stderr).toContain(`${join(dir, 'badmasks', 'a.png')} has values 0, 60, 120, 180 (4 distinct); expected 0 and 255 (binary) or the labels 0, 1`);
    expect(r.status).toBe(1);
  });
});
