// Image decoding: PNG (8 and 16 bit, grey and RGB, palette), JPEG (grey and colour), TIFF (multi-page stacks,
// 8/16-bit, both byte orders, float32, WhiteIsZero) give the stored values as planes; encodePng round-trips;
// unknown or corrupt data is a FormatError naming the file. The TIFFs are written here byte by byte (uncompressed
// baseline TIFF), so the expected values are known without the decoder under test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import jpeg from 'jpeg-js';
import { decodeImage, detectFormat, encodePng } from '../../src/data/image.js';
import { FormatError } from '../../src/index.js';
import { tiff } from '../helpers/tiff.js';

describe('decodeImage', () => {
  test('the ISBI example section 0: 512 x 512 8-bit grey, the SOURCE.md statistics', () => {
    const [img] = decodeImage(readFileSync(join(import.meta.dirname, '../../examples/isbi2012/images/0.png')), '0.png');
    expect([img!.width, img!.height, img!.channels, img!.maxValue, img!.bitDepth]).toEqual([512, 512, 1, 255, 8]);
    let min = 255, max = 0, sum = 0;
    for (const v of img!.data) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
    expect([min, max, +(sum / img!.data.length).toFixed(2)]).toEqual([1, 252, 137.22]);
    const [lab] = decodeImage(readFileSync(join(import.meta.dirname, '../../examples/isbi2012/labels/0.png')));
    expect(lab!.data.filter((v) => v === 0).length).toBe(57492);
  });

  test('PNG: 16-bit grey and 8-bit RGB round-trip through encodePng', () => {
    const g16 = { width: 3, height: 2, channels: 1, data: [0, 1, 255, 256, 40000, 65535] };
    const [a] = decodeImage(encodePng(g16, 16));
    expect([a!.maxValue, a!.bitDepth, ...a!.data]).toEqual([65535, 16, ...g16.data]);
    const rgb = { width: 2, height: 1, channels: 3, data: [10, 20, 30, 40, 50, 60] }; // planes: R = 10, 20; G = 30, 40; B = 50, 60
    const [b] = decodeImage(encodePng(rgb));
    expect([b!.channels, ...b!.data]).toEqual([3, ...rgb.data]);
  });

  test('JPEG: grey decodes to one channel, colour to three (lossy: within a few levels)', () => {
    const w = 16, h = 16;
    const grey = new Uint8Array(w * h * 4);
    const col = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      grey.fill(100 + (i % 16), 4 * i, 4 * i + 3);
      grey[4 * i + 3] = 255;
      col.set([200, 50, 20, 255], 4 * i);
    }
    const [g] = decodeImage(new Uint8Array(jpeg.encode({ width: w, height: h, data: grey }, 100).data));
    expect(g!.channels).toBe(1);
    expect(Math.abs(g!.data[5]! - 105)).toBeLessThanOrEqual(3);
    const [c] = decodeImage(new Uint8Array(jpeg.encode({ width: w, height: h, data: col }, 100).data));
    expect(c!.channels).toBe(3);
    expect([c!.data[0]!, c!.data[w * h]!, c!.data[2 * w * h]!].map((v, i) => Math.abs(v - [200, 50, 20][i]!) <= 4)).toEqual([true, true, true]);
  });

  test.each([true, false])('TIFF stack: three 16-bit pages (little-endian %s) decode page by page', (little) => {
    const pages = [0, 1, 2].map((k) => ({ width: 3, height: 2, samples: [0, 1, 2, 300, 65535, 1000 * k] }));
    const out = decodeImage(tiff(pages, 16, little), 'stack.tif');
    expect(out.length).toBe(3);
    out.forEach((p, k) => expect([p.width, p.height, p.channels, p.maxValue, ...p.data]).toEqual([3, 2, 1, 65535, ...pages[k]!.samples]));
  });

  test('TIFF: 8-bit, float32 and WhiteIsZero pages', () => {
    const [a] = decodeImage(tiff([{ width: 2, height: 2, samples: [0, 7, 128, 255] }], 8, true));
    expect([a!.maxValue, ...a!.data]).toEqual([255, 0, 7, 128, 255]);
    const [f] = decodeImage(tiff([{ width: 2, height: 1, samples: [0.25, -1.5] }], 32, false, { float: true }));
    expect([f!.maxValue, ...f!.data]).toEqual([1, 0.25, -1.5]);
    const [w] = decodeImage(tiff([{ width: 2, height: 1, samples: [0, 255] }], 8, true, { whiteIsZero: true }));
    expect([...w!.data]).toEqual([255, 0]);
  });

  test('unknown and corrupt data are FormatErrors naming the file', () => {
    expect(detectFormat(new Uint8Array([1, 2, 3, 4]))).toBe(null);
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'notes.txt')).toThrow(FormatError);
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'notes.txt')).toThrow(/notes.txt is not a PNG, JPEG or TIFF file/);
    const png = encodePng({ width: 4, height: 4, channels: 1, data: new Array(16).fill(9) });
    expect(() => decodeImage(png.slice(0, 30), 'cut.png')).toThrow(/cut.png is not a readable PNG/);
  });
});
