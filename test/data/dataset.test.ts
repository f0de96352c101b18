// Segmentation datasets: the mask checker's messages (RGB masks, 0/1 next to 0/255, JPEG artefacts, more values
// than classes, a single value everywhere, values outside --mask-values), pairing by base name, multi-page TIFF
// stacks and 16-bit PNGs decoded to the right values through the dataset, normalisation and the seeded split.
import { describe, expect, test } from 'vitest';
import jpeg from 'jpeg-js';
import { checkMasks, computeNormalization, encodePng, MaskError, pairFiles, segDataset, segDatasetFromFiles, splitDataset, type NamedRaster, type RasterImage } from '../../src/index.js';
import { tiff } from '../helpers/tiff.js';

const grey = (width: number, height: number, values: number[], maxValue = 255): RasterImage => ({ width, height, channels: 1, data: Float32Array.from(values), maxValue, bitDepth: maxValue === 255 ? 8 : 16 });
const named = (name: string, raster: RasterImage): NamedRaster => ({ name, raster });
const disk = (n: number, fg: number, bg = 0) => Array.from({ length: n * n }, (_, i) => (Math.hypot((i % n) - n / 2, Math.floor(i / n) - n / 2) < n / 3 ? fg : bg));

describe('mask checker', () => {
  test('0/255 and 0/1 masks map to classes 0/1; --mask-values 255,0 makes 0 the foreground', () => {
    expect(checkMasks([named('a.png', grey(4, 4, disk(4, 255)))]).values).toEqual([0, 255]);
    expect(checkMasks([named('a.png', grey(4, 4, disk(4, 1)))]).values).toEqual([0, 1]);
    const ds = segDataset([named('i.png', grey(2, 2, [0, 10, 20, 30]))], [named('m.png', grey(2, 2, [0, 255, 255, 0]))], { values: [255, 0] });
    expect([...ds.samples[0]!.mask]).toEqual([1, 0, 0, 1]);
    expect([...ds.samples[0]!.image]).toEqual([0, 10 / 255, 20 / 255, 30 / 255].map(Math.fround));
  });

  test('an RGB mask with colours names the file and the colours', () => {
    const n = 4;
    const data = new Float32Array(3 * n);
    data.set([255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0]);
    const rgb: RasterImage = { width: 2, height: 2, channels: 3, data, maxValue: 255, bitDepth: 8 };
    expect(() => checkMasks([named('colour.png', rgb)])).toThrow(MaskError);
    expect(() => checkMasks([named('colour.png', rgb)])).toThrow(/mask colour\.png is an RGB mask with colours .*\(255, 0, 0\).*\(0, 255, 0\)/);
    // Grey stored as RGB (equal channels) is fine.
    const g = new Float32Array(12);
    for (let c = 0; c < 3; c++) g.set([0, 255, 255, 0], 4 * c);
    expect(checkMasks([named('grey-rgb.png', { ...rgb, data: g })]).values).toEqual([0, 255]);
  });

  test('0/1 masks next to 0/255 masks: an error naming one of each', () => {
    const masks = [named('a.png', grey(4, 4, disk(4, 255))), named('b.png', grey(4, 4, disk(4, 0))), named('c.png', grey(4, 4, disk(4, 1)))];
    expect(() => checkMasks(masks)).toThrow(/masks mix two encodings: c\.png holds 0\/1 and a\.png holds 0\/255/);
  });

  test('JPEG-compressed masks: artefact values are named, with the advice to save losslessly', () => {
    const n = 32;
    const m = disk(n, 255);
    const rgba = new Uint8Array(4 * n * n);
    m.forEach((v, i) => rgba.set([v, v, v, 255], 4 * i));
    const bytes = jpeg.encode({ data: rgba, width: n, height: n }, 75).data;
    const files = new Map([['x.png', encodePng({ width: n, height: n, channels: 1, data: m })]]);
    const err = (() => {
      try {
        segDatasetFromFiles(files, new Map([['x.jpg', new Uint8Array(bytes)]]));
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(MaskError);
    expect(err.message).toMatch(/mask x\.jpg has \d+ distinct values, mostly near 0 and 255: JPEG compression artefacts\? Save masks losslessly/);
    expect(err.message).toMatch(/values found: 0 \(\d/);
  });

  test('more values than classes, values outside --mask-values, one value everywhere', () => {
    const four = grey(2, 2, [0, 1, 2, 3]);
    expect(() => checkMasks([named('m.png', four)], { classes: 3 })).toThrow(/mask m\.png does not hold class indices 0\.\.2 for 3 classes: it has 4 values, more than the 3 classes; values found: 0 \(25%\), 1 \(25%\), 2 \(25%\), 3 \(25%\)/);
    expect(checkMasks([named('m.png', four)], { classes: 4 }).values).toEqual([0, 1, 2, 3]);
    expect(() => checkMasks([named('m.png', grey(2, 2, [0, 1, 2, 2]))])).toThrow(/mask m\.png is not a binary mask of 0\/1 or 0\/255: more values than the 2 classes: for index masks 0\.\.K-1 give --classes K/);
    expect(() => checkMasks([named('m.png', grey(2, 2, [0, 128, 128, 0]))])).toThrow(/not a binary mask .*--mask-values BACKGROUND,FOREGROUND\); values found: 0 \(50%\), 128 \(50%\)/);
    expect(() => checkMasks([named('m.png', grey(2, 2, [0, 1, 1, 0]))], { values: [0, 255] })).toThrow(/mask m\.png holds values outside the mask values 0, 255 \(1 unexpected\); values found: 0 \(50%\), 1 \(50%\)/);
    expect(() => checkMasks([named('a.png', grey(2, 2, [0, 0, 0, 0])), named('b.png', grey(2, 2, [0, 0, 0, 0]))])).toThrow(/all 2 masks hold only the value 0: nothing to learn/);
  });
});

describe('files', () => {
  test('pairing by base name, a _mask suffix, one stack each, and an image without a mask', () => {
    expect(pairFiles(['d/10.png', 'd/2.png'], ['m/2.png', 'm/10.png'])).toEqual([['d/2.png', 'm/2.png'], ['d/10.png', 'm/10.png']]);
    expect(pairFiles(['a.jpg', 'b.jpg'], ['a_mask.gif.png', 'b_mask.png', 'a_mask.png'].slice(1))).toEqual([['a.jpg', 'a_mask.png'], ['b.jpg', 'b_mask.png']]);
    expect(pairFiles(['train-volume.tif'], ['train-labels.tif'])).toEqual([['train-volume.tif', 'train-labels.tif']]);
    expect(() => pairFiles(['a.png', 'b.png'], ['a.png', 'c.png'])).toThrow(/image b\.png has no mask/);
  });

  test('a multi-page TIFF stack (16-bit images, 8-bit masks) gives one sample per page with the stored values', () => {
    const pages = [[0, 1000, 65535, 30000], [5, 6, 7, 8], [65535, 0, 0, 65535]].map((samples) => ({ width: 2, height: 2, samples }));
    const masks = [[0, 255, 255, 0], [255, 255, 0, 0], [0, 0, 0, 255]].map((samples) => ({ width: 2, height: 2, samples }));
    const ds = segDatasetFromFiles(new Map([['train-volume.tif', tiff(pages, 16, false)]]), new Map([['train-labels.tif', tiff(masks, 8, true)]]));
    expect(ds.samples.map((s) => s.name)).toEqual(['train-volume.tif#0', 'train-volume.tif#1', 'train-volume.tif#2']);
    ds.samples.forEach((s, k) => {
      expect([...s.image]).toEqual(pages[k]!.samples.map((v) => Math.fround(v / 65535)));
      expect([...s.mask]).toEqual(masks[k]!.samples.map((v) => v / 255));
    });
  });

  test('a 16-bit PNG image and a 16-bit 0/65535 mask', () => {
    const img = [0, 1, 256, 65535, 40000, 12345];
    const png = encodePng({ width: 3, height: 2, channels: 1, data: img }, 16);
    const mask = encodePng({ width: 3, height: 2, channels: 1, data: [0, 65535, 0, 65535, 0, 0] }, 16);
    const ds = segDatasetFromFiles(new Map([['a.png', png]]), new Map([['a.png', mask]]));
    expect(ds.mapping.values).toEqual([0, 65535]);
    expect([...ds.samples[0]!.image]).toEqual(img.map((v) => Math.fround(v / 65535)));
    expect([...ds.samples[0]!.mask]).toEqual([0, 1, 0, 1, 0, 0]);
  });

  test('normalisation statistics and a seeded split', () => {
    const ims = Array.from({ length: 10 }, (_, k) => named(`${k}.png`, grey(2, 1, [k * 10, k * 10 + 20])));
    const ms = Array.from({ length: 10 }, (_, k) => named(`${k}.png`, grey(2, 1, [0, 255])));
    const ds = segDataset(ims, ms);
    const { mean, std } = computeNormalization(ds.samples);
    const vals = ims.flatMap((i) => [...i.raster.data].map((v) => Math.fround(v / 255)));
    const m = vals.reduce((a, b) => a + b) / vals.length;
    expect(mean[0]).toBeCloseTo(m, 6);
    expect(std[0]).toBeCloseTo(Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length), 6);
    const a = splitDataset(ds, { fraction: 0.3, seed: 7 });
    const b = splitDataset(ds, { fraction: 0.3, seed: 7 });
    expect(a.val.samples.map((s) => s.name)).toEqual(b.val.samples.map((s) => s.name));
    expect(a.val.samples.length).toBe(3);
    expect(a.train.samples.length + a.val.samples.length).toBe(10);
    expect(splitDataset(ds, { fraction: 0.3, seed: 8 }).val.samples.map((s) => s.name)).not.toEqual(a.val.samples.map((s) => s.name));
  });
});
