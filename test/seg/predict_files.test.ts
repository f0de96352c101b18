// predictFiles (the predict command's core): reads a folder of images (8- and 16-bit PNG, a 2-class and a 1-class
// model), writes masks, 16-bit probability maps and overlays that decode to what predictTiled gives for the
// normalised image.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { encodePng, manualSeed, withDevice, ArgumentError } from '../../src/index.js';
import { readImage } from '../../src/node.js';
import { normalizePage, predictFiles } from '../../src/cli/predict.js';
import { argmaxClasses, predictTiled } from '../../src/seg/predict.js';
import { evaluateDirs } from '../../src/cli/evaluate.js';
import { UNet } from '../../src/unet/unet.js';
import { cpu32 } from '../helpers/gpu.js';
import { rng } from '../helpers/random.js';

describe('predictFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-predict-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const r = rng(21);
  mkdirSync(join(dir, 'in'));
  const a = { width: 37, height: 29, channels: 1, data: Float32Array.from({ length: 37 * 29 }, () => Math.floor(r.uniform() * 256)) };
  const b = { width: 20, height: 41, channels: 1, data: Float32Array.from({ length: 20 * 41 }, () => Math.floor(r.uniform() * 65536)) };
  writeFileSync(join(dir, 'in', 'a.png'), encodePng(a));
  writeFileSync(join(dir, 'in', 'b.png'), encodePng(b, 16));
  writeFileSync(join(dir, 'in', 'notes.txt'), 'not an image');
  const norm = { mean: [0.5], std: [0.25] };

  test.each([1, 2])('%i-class model: masks 0/255, probabilities 16-bit, overlays, as predictTiled', async (classes) => {
    manualSeed(3);
    const net = withDevice(cpu32, () => new UNet({ inChannels: 1, classes, width: 4, depth: 2, padding: 'same' }));
    const out = join(dir, `out${classes}`);
    const lines: string[] = [];
    const opts = { tile: 32, margin: 4 };
    const pages = await predictFiles(net, norm, join(dir, 'in'), out, { ...opts, overlay: true, log: (l) => lines.push(l) });
    expect(pages.map((p) => p.name)).toEqual(['a', 'b']);
    expect(lines).toHaveLength(2);
    for (const name of ['masks', 'probabilities', 'overlays']) expect(readdirSync(join(out, name)).sort()).toEqual(['a.png', 'b.png']);
    for (const [name, img, max] of [['a', a, 255], ['b', b, 65535]] as const) {
      const probs = await predictTiled(net, normalizePage({ ...img, maxValue: max, bitDepth: max === 255 ? 8 : 16 }, norm, 1), opts);
      const labels = argmaxClasses(probs, classes);
      const [mask] = await readImage(join(out, 'masks', `${name}.png`));
      expect([...mask!.data]).toEqual([...labels].map((v) => v * 255));
      const [prob] = await readImage(join(out, 'probabilities', `${name}.png`));
      expect(prob!.bitDepth).toBe(16);
      const fg = probs.subarray((classes - 1) * img.width * img.height);
      expect(Math.max(...prob!.data.map((v, i) => Math.abs(v / 65535 - fg[i]!)))).toBeLessThanOrEqual(0.5 / 65535 + 1e-7);
      const [ov] = await readImage(join(out, 'overlays', `${name}.png`));
      expect(ov!.channels).toBe(3);
    }
    // The masks read back as labels: evaluated against themselves they are perfect.
    const scores = await evaluateDirs(join(out, 'masks'), join(out, 'masks'), 2);
    expect(scores.map((s) => s.classes.map((c) => c.dice))).toEqual([[1, 1], [1, 1]]);
    net.dispose();
  });

  test('normalisation: (v / max - mean) / std, a function, or an error naming the mismatch', () => {
    const img = { width: 2, height: 1, channels: 2, data: Float32Array.from([0, 255, 255, 255]), maxValue: 255, bitDepth: 8 };
    // Grey + alpha for a 1-channel model: the alpha is dropped.
    expect(Array.from(normalizePage(img, { mean: [0.5], std: [0.5] }, 1).data)).toEqual([-1, 1]);
    expect(Array.from(normalizePage(img, () => Float32Array.from([7, 8]), 1).data)).toEqual([7, 8]);
    expect(() => normalizePage(img, { mean: [0.5], std: [0.5] }, 3, 'x.png')).toThrow(ArgumentError);
    expect(() => normalizePage(img, { mean: [0.5, 0.5, 0.5], std: [1] }, 1, 'x.png')).toThrow('predictFiles: normalisation mean has 3 entries, the model takes 1 channels');
  });
});
