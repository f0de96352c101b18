// Image decoding and encoding for the segmentation job, with well-kept pure-JS libraries (browser-safe: no Node
// built-ins): PNG with fast-png (1/2/4/8/16-bit, grey, grey+alpha, RGB, RGBA, palette), JPEG with jpeg-js, TIFF with
// UTIF (multi-page stacks as the ISBI challenge ships them, 8/16/32-bit, uint / int / float samples, both byte
// orders). A decoded page is a RasterImage: `channels` planes of height x width values as stored (0..maxValue).
import { decode as decodePngBytes, encode as encodePngBytes, convertIndexedToRgb } from 'fast-png';
import jpeg from 'jpeg-js';
import * as UTIF from 'utif2';
import { ArgumentError, FormatError } from '../core/errors.js';

/** A decoded image page: planes [channels][height][width] (row-major), values as stored, in 0..maxValue. */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
  /** The largest value the format can store (255, 65535, or 1 for float samples). */
  readonly maxValue: number;
  /** Bits per sample in the file (8, 16, 32, ...). */
  readonly bitDepth: number;
}

export type ImageFormat = 'png' | 'jpeg' | 'tiff';

/** The format of an encoded image by its signature, or null. */
export function detectFormat(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42))) return 'tiff';
  return null;
}

/** Interleaved samples (HWC) to planes (CHW) as float32. */
function planar(src: ArrayLike<number>, width: number, height: number, channels: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[c * n + i] = src[i * channels + c]!;
  return out;
}

function decodePng(bytes: Uint8Array, name: string): RasterImage {
  let png;
  try {
    png = decodePngBytes(bytes);
  } catch (e) {
    throw new FormatError(`decodeImage: ${name} is not a readable PNG (${(e as Error).message})`);
  }
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const channels = png.palette[0]?.length ?? 3;
    return { width: png.width, height: png.height, channels, data: planar(rgb, png.width, png.height, channels), maxValue: 255, bitDepth: 8 };
  }
  const depth = png.depth;
  // 1/2/4-bit grey is unpacked by fast-png into one sample per pixel with values 0..2^depth - 1.
  return { width: png.width, height: png.height, channels: png.channels, data: planar(png.data, png.width, png.height, png.channels), maxValue: 2 ** depth - 1, bitDepth: depth };
}

function decodeJpeg(bytes: Uint8Array, name: string): RasterImage {
  let img;
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new FormatError(`decodeImage: ${name} is not a readable JPEG (${(e as Error).message})`);
  }
  const { width, height, data } = img;
  // jpeg-js always gives RGBA: a greyscale JPEG has equal R, G, B; keep one channel then.
  let grey = true;
  for (let i = 0; i < width * height && grey; i++) grey = data[4 * i] === data[4 * i + 1] && data[4 * i] === data[4 * i + 2];
  if (grey) {
    const out = new Float32Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = data[4 * i]!;
    return { width, height, channels: 1, data: out, maxValue: 255, bitDepth: 8 };
  }
  const rgb = new Float32Array(width * height * 3);
  const n = width * height;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[c * n + i] = data[4 * i + c]!;
  return { width, height, channels: 3, data: rgb, maxValue: 255, bitDepth: 8 };
}

const tag = (ifd: UTIF.IFD, t: number): number[] | undefined => ifd[`t${t}`] as number[] | undefined;

function decodeTiff(bytes: Uint8Array, name: string): RasterImage[] {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let ifds: UTIF.IFD[];
  try {
    ifds = UTIF.decode(buf);
  } catch (e) {
    throw new FormatError(`decodeImage: ${name} is not a readable TIFF (${(e as Error).message})`);
  }
  const little = bytes[0] === 0x49;
  const pages: RasterImage[] = [];
  for (const [k, ifd] of ifds.entries()) {
    if (!tag(ifd, 256) || !tag(ifd, 257)) continue; // a directory without an image (EXIF, thumbnails' parents)
    UTIF.decodeImage(buf, ifd);
    const width = tag(ifd, 256)![0]!;
    const height = tag(ifd, 257)![0]!;
    const bits = tag(ifd, 258)?.[0] ?? 1;
    const spp = tag(ifd, 277)?.[0] ?? 1;
    const format = tag(ifd, 339)?.[0] ?? 1; // 1 uint, 2 int, 3 float
    const photometric = tag(ifd, 262)?.[0] ?? 1;
    const n = width * height;
    const raw = ifd.data;
    if (photometric === 3 || bits === 1 || ![8, 16, 32].includes(bits)) {
      // Palette and bilevel pages: UTIF's RGBA rendering.
      const rgba = UTIF.toRGBA8(ifd);
      const ch = photometric === 3 ? 3 : 1;
      const out = new Float32Array(n * ch);
      for (let i = 0; i < n; i++) for (let c = 0; c < ch; c++) out[c * n + i] = rgba[4 * i + c]!;
      pages.push({ width, height, channels: ch, data: out, maxValue: 255, bitDepth: 8 });
      continue;
    }
    const bytesPer = bits / 8;
    if (raw.length < n * spp * bytesPer) throw new FormatError(`decodeImage: ${name} page ${k}: ${raw.length} bytes of pixel data for ${width} x ${height} x ${spp} samples of ${bits} bits (compressed in a way UTIF cannot read?)`);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    // UTIF turns 16-bit samples little-endian as it decodes (other widths stay in the file's byte order).
    const read = (i: number): number => {
      const o = i * bytesPer;
      if (bits === 8) return format === 2 ? dv.getInt8(o) : dv.getUint8(o);
      if (bits === 16) return format === 2 ? dv.getInt16(o, true) : dv.getUint16(o, true);
      return format === 3 ? dv.getFloat32(o, little) : format === 2 ? dv.getInt32(o, little) : dv.getUint32(o, little);
    };
    const samples = new Float32Array(n * spp);
    for (let i = 0; i < n * spp; i++) samples[i] = read(i);
    const maxValue = format === 3 ? 1 : format === 2 ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    const data = planar(samples, width, height, spp);
    // WhiteIsZero greys are inverted to the usual black-is-zero.
    if (photometric === 0 && format !== 3) for (let i = 0; i < data.length; i++) data[i] = maxValue - data[i]!;
    pages.push({ width, height, channels: spp, data, maxValue, bitDepth: bits });
  }
  if (!pages.length) throw new FormatError(`decodeImage: ${name} is a TIFF without an image`);
  return pages;
}

/**
 * Decodes a PNG, JPEG or TIFF file's bytes into its pages (one for PNG and JPEG; every page of a TIFF stack).
 * FormatError for unknown or corrupt data, naming `name`.
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): RasterImage[] {
  const f = detectFormat(bytes);
  if (f === 'png') return [decodePng(bytes, name)];
  if (f === 'jpeg') return [decodeJpeg(bytes, name)];
  if (f === 'tiff') return decodeTiff(bytes, name);
  throw new FormatError(`decodeImage: ${name} is not a PNG, JPEG or TIFF file (unknown signature ${[...bytes.slice(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
}

/**
 * Encodes planes [channels][height][width] (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) as an 8- or 16-bit PNG; values are
 * rounded and clamped to 0..2^depth - 1.
 */
export function encodePng(img: { width: number; height: number; channels: number; data: ArrayLike<number> }, depth: 8 | 16 = 8): Uint8Array {
  const { width, height, channels } = img;
  if (![1, 2, 3, 4].includes(channels)) throw new ArgumentError('encodePng', `channels must be 1, 2, 3 or 4, got ${channels}`);
  const n = width * height;
  if (img.data.length !== n * channels) throw new ArgumentError('encodePng', `data has ${img.data.length} values, ${channels} x ${height} x ${width} needs ${n * channels}`);
  const max = 2 ** depth - 1;
  const out = depth === 8 ? new Uint8Array(n * channels) : new Uint16Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) out[i * channels + c] = Math.min(max, Math.max(0, Math.round(img.data[c * n + i]!)));
  }
  return encodePngBytes({ width, height, data: out, depth, channels });
}
