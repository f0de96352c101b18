// The safetensors format (https://github.com/huggingface/safetensors), browser-safe: bytes in, bytes out.
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets:
// [begin, end]}, "__metadata__": {string: string}}, then the raw little-endian data; offsets are relative to
// the end of the header and the tensors tile the data exactly (no gaps, no overlap), as the reference
// implementation checks.
import type { Backend } from '../kernels/backend.js';
import { getDefaultDevice } from '../tensor/context.js';
import { tensor } from '../tensor/creation.js';
import type { DType, NumArray } from '../core/dtype.js';
import { FormatError } from '../core/errors.js';
import { checkOneOf, checkOptions } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { noteScalar } from './assign.js';
import type { StateDict } from './module.js';

/** Element types of the format that this library reads. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U32' | 'BOOL';

const ITEM: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U32: 4, BOOL: 1 };
/** What each file dtype becomes here: floats -> f32, signed and small integers -> i32, U32 -> u32. */
const LOADS_AS: Record<SafetensorsDType, DType> = { F64: 'f32', F32: 'f32', F16: 'f32', BF16: 'f32', I64: 'i32', I32: 'i32', I16: 'i32', I8: 'i32', U8: 'i32', U32: 'u32', BOOL: 'i32' };
const MAX_HEADER = 100_000_000;

/** A tensor parsed from a file, still on the host. */
export interface HostTensor {
  /** The dtype in the file. */
  fileDType: SafetensorsDType;
  /** The dtype it loads as. */
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array | Uint32Array;
}

export interface ParsedSafetensors {
  /** In header order. */
  tensors: Map<string, HostTensor>;
  /** A null-prototype object: any key, `__proto__` included, is a plain key. */
  metadata: Record<string, string>;
}

export interface SafetensorsFile {
  /** A null-prototype object in header order: an entry named `__proto__` is a plain key, not the prototype. */
  tensors: StateDict;
  /** A null-prototype object. */
  metadata: Record<string, string>;
}

export interface SerializeOptions {
  /** File dtype of i32 tensors: 'I64' (default, PyTorch's integer type: num_batches_tracked, indices) or 'I32'. */
  i32As?: 'I64' | 'I32';
}

const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function bytesOf(src: ArrayBuffer | ArrayBufferView): Uint8Array {
  // A plain Uint8Array view even for a Node Buffer (whose slice() is a view, not a copy).
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  return new Uint8Array(src);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const fail = (msg: string): never => {
  throw new FormatError(`safetensors: ${msg}`);
};

/** An object without a prototype, so that a key from a file (`__proto__`, `constructor`) is just a key. */
const dict = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

/**
 * The first key that occurs twice in one object of valid JSON `text` (JSON.parse silently keeps the last),
 * with the key of the object that holds it (null at the top level); null when there is none.
 */
function duplicateKey(text: string): [key: string, parent: string | null] | null {
  // One frame per open object (its keys so far) or array (null); `last` is the latest key at each level.
  const frames: (Set<string> | null)[] = [];
  const last: (string | null)[] = [];
  let wantKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const keys = frames[frames.length - 1];
      if (keys && wantKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return [key, frames.length > 1 ? last[last.length - 2]! : null];
        keys.add(key);
        last[last.length - 1] = key;
        wantKey = false;
      }
      i = j;
    } else if (c === 0x7b) {
      frames.push(new Set());
      last.push(null);
      wantKey = true;
    } else if (c === 0x5b) {
      frames.push(null);
      last.push(null);
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
      last.pop();
    } else if (c === 0x2c) {
      wantKey = frames[frames.length - 1] !== null;
    }
  }
  return null;
}

/** Parses safetensors bytes to host arrays (F16/BF16/F64 -> f32; I64 must fit i32). Throws FormatError naming what is wrong. */
export function parseSafetensors(src: ArrayBuffer | ArrayBufferView): ParsedSafetensors {
  const bytes = bytesOf(src);
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, the file starts with an 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER) fail(`header length ${n} is over the format's limit of ${MAX_HEADER} bytes`);
  if (n > bytes.length - 8) fail(`header length ${n} runs past the end of the file (${bytes.length} bytes): truncated or not a safetensors file`);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) return fail('header is not a JSON object');
  const dup = duplicateKey(text);
  if (dup) fail(`duplicate key '${dup[0]}' in ${dup[1] === null ? 'the header' : `header entry '${dup[1]}'`} (JSON keeps only the last one)`);
  const dataLen = bytes.length - 8 - n;
  const data = bytes.subarray(8 + n);
  const metadata = dict<string>();
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail('__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = s as string;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') fail(`entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string') fail(`entry '${name}' has no dtype`);
    const dtype = e.dtype as SafetensorsDType;
    if (!(dtype in ITEM)) fail(`entry '${name}' has dtype ${e.dtype}, which this library does not read (known: ${Object.keys(ITEM).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`entry '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`entry '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`entry '${name}' has data_offsets [${begin}, ${end}] with begin after end`);
    if (end > dataLen) fail(`entry '${name}' has data_offsets [${begin}, ${end}] out of range: the data is ${dataLen} bytes (truncated file?)`);
    const shape = e.shape as number[];
    const want = shape.reduce((a, b) => a * b, 1) * ITEM[dtype];
    if (end - begin !== want) fail(`entry '${name}': shape [${shape.join(', ')}] of ${dtype} needs ${want} bytes, data_offsets [${begin}, ${end}] give ${end - begin}`);
    entries.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const e of sorted) {
    if (e.begin < at) fail(`entries '${prev}' and '${e.name}' overlap (offset ${e.begin} < ${at})`);
    if (e.begin > at) fail(`gap in the data before '${e.name}' (bytes ${at} to ${e.begin} belong to no tensor)`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataLen) fail(`the tensors cover ${at} bytes of data, the file holds ${dataLen}`);
  const tensors = new Map<string, HostTensor>();
  for (const e of entries) tensors.set(e.name, { fileDType: e.dtype, dtype: LOADS_AS[e.dtype], shape: e.shape, data: decode(e.name, e.dtype, data, e.begin, e.end) });
  return { tensors, metadata };
}

function decode(name: string, dtype: SafetensorsDType, data: Uint8Array, begin: number, end: number): Float32Array | Int32Array | Uint32Array {
  const n = (end - begin) / ITEM[dtype];
  const dv = new DataView(data.buffer, data.byteOffset + begin, end - begin);
  // An aligned little-endian copy viewed directly is the fast path for the common dtypes.
  const aligned = () => data.slice(begin, end).buffer;
  switch (dtype) {
    case 'F32':
      if (LITTLE) return new Float32Array(aligned());
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
    case 'I32':
      if (LITTLE) return new Int32Array(aligned());
      return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
    case 'U32':
      if (LITTLE) return new Uint32Array(aligned());
      return Uint32Array.from({ length: n }, (_, i) => dv.getUint32(4 * i, true));
    case 'F64':
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    case 'F16':
      return Float32Array.from({ length: n }, (_, i) => halfToFloat(dv.getUint16(2 * i, true)));
    case 'BF16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = dv.getInt32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        if (hi !== (lo < 0 ? -1 : 0)) fail(`entry '${name}' (I64) holds ${dv.getBigInt64(8 * i, true)} at [${i}], outside the i32 range it loads as`);
        out[i] = lo;
      }
      return out;
    }
    case 'I16':
      return Int32Array.from({ length: n }, (_, i) => dv.getInt16(2 * i, true));
    case 'I8':
      return Int32Array.from({ length: n }, (_, i) => dv.getInt8(i));
    case 'U8':
    case 'BOOL':
      return Int32Array.from({ length: n }, (_, i) => dv.getUint8(i));
  }
}

/**
 * Parses safetensors bytes into tensors on `device` (default: the default device), keys in header order,
 * with the header's `__metadata__`. The tensors are the caller's to dispose.
 */
export function deserializeSafetensors(src: ArrayBuffer | ArrayBufferView, opts?: { device?: Backend }): SafetensorsFile {
  const { device = getDefaultDevice() } = checkOptions('deserializeSafetensors', opts, { device: true });
  const parsed = parseSafetensors(src);
  const tensors: StateDict = dict<Tensor>();
  for (const [name, h] of parsed.tensors) {
    const t = tensor(h.data, h.shape, { device, dtype: h.dtype });
    if (h.data.length === 1 && h.dtype !== 'f32') noteScalar(t, h.data[0]!);
    tensors[name] = t;
  }
  return { tensors, metadata: parsed.metadata };
}

/**
 * Serialises tensors (read back from their devices) to safetensors bytes, keys and data in the given order;
 * f32 -> F32, i32 -> I64 (or I32), u32 -> U32. `metadata` goes to the header's `__metadata__`.
 */
export async function serializeSafetensors(
  sd: StateDict | ReadonlyMap<string, Tensor>,
  metadata?: Record<string, string>,
  opts?: SerializeOptions,
): Promise<Uint8Array> {
  const { i32As = 'I64' } = checkOptions('serializeSafetensors', opts, { i32As: true });
  checkOneOf('serializeSafetensors', 'i32As', i32As, ['I64', 'I32'] as const);
  const items = sd instanceof Map ? [...sd.entries()] : Object.entries(sd as StateDict);
  // Null prototypes: a tensor or metadata key named `__proto__` must be written, not become a prototype.
  const header = dict<unknown>();
  if (metadata && Object.keys(metadata).length) {
    const meta = dict<string>();
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new FormatError(`safetensors: metadata ${k} is not a string`);
      meta[k] = v;
    }
    header.__metadata__ = meta;
  }
  if (items.some(([k]) => k === '__metadata__')) throw new FormatError("safetensors: '__metadata__' is reserved and cannot name a tensor");
  const blobs: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of items) {
    const values = await t.toArray();
    const fileDType: SafetensorsDType = t.dtype === 'f32' ? 'F32' : t.dtype === 'u32' ? 'U32' : i32As;
    const blob = encode(values, fileDType);
    header[name] = { dtype: fileDType, shape: [...t.shape], data_offsets: [off, off + blob.length] };
    blobs.push(blob);
    off += blob.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const p = new Uint8Array(json.length + pad).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + off);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function encode(values: NumArray, dtype: SafetensorsDType): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n * ITEM[dtype]);
  const dv = new DataView(out.buffer);
  if (dtype === 'F32') {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    if (LITTLE) out.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
    else for (let i = 0; i < n; i++) dv.setFloat32(4 * i, values[i]!, true);
  } else if (dtype === 'I64') {
    for (let i = 0; i < n; i++) {
      dv.setInt32(8 * i, values[i]!, true);
      dv.setInt32(8 * i + 4, values[i]! < 0 ? -1 : 0, true);
    }
  } else if (dtype === 'I32') {
    for (let i = 0; i < n; i++) dv.setInt32(4 * i, values[i]!, true);
  } else {
    for (let i = 0; i < n; i++) dv.setUint32(4 * i, values[i]!, true);
  }
  return out;
}
