// safetensors: round trips through bytes and files (atomic save), a file written to the format by the fixture
// script (F32, F16, I64, I32, U8, an empty tensor, metadata), and every kind of corrupt file.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FormatError, manualSeed, nn, setDefaultDevice, tensor, type Tensor } from '../../src/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/node.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { fixture, smallNet } from './fixtures.js';

const { skip, dev } = await gpuSuite();

const ST = fixture('safetensors');
const TORCH_FILE = Buffer.from(ST.file_b64, 'base64');
const dir = mkdtempSync(join(tmpdir(), 'nn-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sameValues(a: nn.StateDict, b: nn.StateDict): Promise<void> {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const [k, t] of Object.entries(a)) {
    expect(b[k]!.shape, k).toEqual(t.shape);
    expect(b[k]!.dtype, k).toBe(t.dtype);
    expect([...(await b[k]!.toArray())], k).toEqual([...(await t.toArray())]);
  }
}

describe('round trips', () => {
  test('bytes: a net state dict with metadata, keys in order, i32 as I64', async () => {
    manualSeed(7);
    const net = smallNet();
    const sd = net.stateDict();
    const bytes = await nn.serializeSafetensors(sd, { epoch: '12', note: 'ünïcode ok' });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(header['1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data_offsets: expect.any(Array) });
    expect(header['0.weight'].dtype).toBe('F32');
    const back = nn.deserializeSafetensors(bytes, { device: cpu32 });
    expect(back.metadata).toEqual({ epoch: '12', note: 'ünïcode ok' });
    await sameValues(sd, back.tensors);
    // The header length is padded to 8 bytes (as the reference writer does).
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    // Loading the file into a fresh net restores it.
    manualSeed(8);
    const net2 = smallNet();
    net2.loadStateDict(back.tensors);
    await sameValues(sd, net2.stateDict());
    for (const t of Object.values(back.tensors)) t.dispose();
    net.dispose();
    net2.dispose();
  });

  test('I32 option, u32 tensors, keys given as a Map keep their order', async () => {
    const m = new Map<string, Tensor>([
      ['z', tensor(Int32Array.from([-5, 7]), [2], { device: cpu32 })],
      ['a', tensor(Uint32Array.from([4000000000]), [1], { device: cpu32 })],
      ['m', tensor([1.5, -2.25, 3], [3, 1], { device: cpu32 })],
    ]);
    const bytes = await nn.serializeSafetensors(m, undefined, { i32As: 'I32' });
    const parsed = nn.parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(['z', 'a', 'm']);
    expect(parsed.tensors.get('z')!.fileDType).toBe('I32');
    expect(parsed.tensors.get('a')!.fileDType).toBe('U32');
    expect(parsed.metadata).toEqual({});
    const back = nn.deserializeSafetensors(bytes.buffer.slice(0) as ArrayBuffer, { device: cpu32 });
    await sameValues(Object.fromEntries(m), back.tensors);
  });

  test('file: saveSafetensors is atomic (no temp file left, old file kept when saving fails), loadSafetensors reads it', async () => {
    const path = join(dir, 'net.safetensors');
    const net = smallNet();
    await saveSafetensors(path, net.stateDict(), { step: '1' });
    const first = readFileSync(path);
    const loaded = await loadSafetensors(path, { device: cpu32 });
    expect(loaded.metadata).toEqual({ step: '1' });
    await sameValues(net.stateDict(), loaded.tensors);
    // A failing save (a disposed tensor cannot be read) must leave the previous file untouched.
    const bad = { ...net.stateDict(), broken: tensor([1], [1], { device: cpu32 }) };
    bad.broken!.dispose();
    await expect(saveSafetensors(path, bad)).rejects.toThrow();
    expect(readFileSync(path).equals(first)).toBe(true);
    // Overwrite works and leaves no temporary files behind.
    await saveSafetensors(path, { only: tensor([1, 2], [2], { device: cpu32 }) });
    expect(readdirSync(dir)).toEqual(['net.safetensors']);
    expect(Object.keys((await loadSafetensors(path, { device: cpu32 })).tensors)).toEqual(['only']);
    net.dispose();
  });

  test.skipIf(skip)('GPU: save from the device and load onto it', async () => {
    setDefaultDevice(dev);
    const net = smallNet();
    setDefaultDevice(null);
    const path = join(dir, 'gpu.safetensors');
    await saveSafetensors(path, net.stateDict());
    const loaded = await loadSafetensors(path, { device: dev });
    expect(loaded.tensors['0.weight']!.device).toBe(dev);
    await sameValues(net.stateDict(), loaded.tensors);
    net.loadStateDict(loaded.tensors);
    for (const t of Object.values(loaded.tensors)) t.dispose();
    net.dispose();
    rmSync(path);
  });
});

describe('hostile names and killed saves', () => {
  const raw = (header: unknown, data: Uint8Array) => {
    const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

  test("an entry or a metadata key named '__proto__' is a plain key: the result's prototype stays", async () => {
    const bytes = raw(
      '{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "__metadata__": {"__proto__": "x", "constructor": "y"}}',
      f32(1.5, 2.5),
    );
    expect([...nn.parseSafetensors(bytes).tensors.keys()]).toEqual(['__proto__', 'a']);
    const { tensors, metadata } = nn.deserializeSafetensors(bytes, { device: cpu32 });
    expect(Object.getPrototypeOf(tensors) === null || Object.getPrototypeOf(tensors) === Object.prototype).toBe(true);
    expect(Object.keys(tensors)).toEqual(['__proto__', 'a']);
    expect(Object.hasOwn(tensors, '__proto__')).toBe(true);
    expect([...(await tensors['__proto__']!.toArray())]).toEqual([1.5]);
    expect(Object.keys(metadata)).toEqual(['__proto__', 'constructor']);
    expect(metadata['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(metadata) === null || Object.getPrototypeOf(metadata) === Object.prototype).toBe(true);
    // Written back, the key survives (a plain header object would have swallowed it as its prototype).
    const again = nn.parseSafetensors(await nn.serializeSafetensors(tensors, metadata));
    expect([...again.tensors.keys()]).toEqual(['__proto__', 'a']);
    expect(again.metadata['__proto__']).toBe('x');
    for (const t of Object.values(tensors)) t.dispose();
  });

  test('a duplicate header key is reported as a duplicate', () => {
    const e1 = '{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}';
    const e2 = '{"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}';
    expect(() => nn.parseSafetensors(raw(`{"a": ${e1}, "a": ${e2}}`, f32(1, 2)))).toThrow("safetensors: duplicate key 'a' in the header (JSON keeps only the last one)");
    expect(() => nn.parseSafetensors(raw(`{"a": ${e1}, "\u0061": ${e2}}`, f32(1, 2)))).toThrow(/duplicate key 'a' in the header/);
    expect(() => nn.parseSafetensors(raw('{"a": {"dtype": "F32", "dtype": "F16", "shape": [1], "data_offsets": [0, 4]}}', f32(1)))).toThrow(
      "safetensors: duplicate key 'dtype' in header entry 'a' (JSON keeps only the last one)",
    );
    expect(() => nn.parseSafetensors(raw('{"__metadata__": {"k": "1", "k": "2"}}', new Uint8Array(0)))).toThrow(/duplicate key 'k' in header entry '__metadata__'/);
    // Keys that only look alike, and strings holding braces, quotes and commas, are fine.
    const entry = (a: number) => ({ dtype: 'F32', shape: [1], data_offsets: [a, a + 4] });
    const ok = nn.parseSafetensors(raw({ a: entry(0), b: entry(4), __metadata__: { x: '{"a": 1, "a": 2}', y: '[,]', 'a\\"': 'z' } }, f32(1, 2)));
    expect([...ok.tensors.keys()]).toEqual(['a', 'b']);
    expect(ok.metadata.x).toBe('{"a": 1, "a": 2}');
  });

  test('stale temporary files of killed saves of the same target are removed on the next save', async () => {
    const sub = join(dir, 'stale');
    mkdirSync(sub);
    const path = join(sub, 'm.safetensors');
    const hourAgo = new Date(Date.now() - 3600_000);
    const make = (name: string, old = false) => {
      writeFileSync(join(sub, name), 'half a file');
      if (old) utimesSync(join(sub, name), hourAgo, hourAgo);
    };
    make('.m.safetensors.999999999.k1ll3d.tmp'); // its writer is gone (no such pid)
    make(`.m.safetensors.${process.pid}.0ld.tmp`, true); // ours, an hour old, not in flight
    make(`.m.safetensors.${process.ppid}.fr3sh.tmp`); // a live process, just now: may still be writing
    make('.other.safetensors.999999999.k1ll3d.tmp'); // another target's
    make('.m.safetensors.bak'); // not a temp
    make('m.safetensors.999999999.k1ll3d.tmp'); // not hidden: not ours to remove
    await saveSafetensors(path, { w: tensor([1, 2], [2], { device: cpu32 }) });
    expect(readdirSync(sub).sort()).toEqual(
      [`.m.safetensors.${process.ppid}.fr3sh.tmp`, '.m.safetensors.bak', '.other.safetensors.999999999.k1ll3d.tmp', 'm.safetensors', 'm.safetensors.999999999.k1ll3d.tmp'].sort(),
    );
    // The live writer's temp goes too once it is old.
    utimesSync(join(sub, `.m.safetensors.${process.ppid}.fr3sh.tmp`), hourAgo, hourAgo);
    await saveSafetensors(path, { w: tensor([3], [1], { device: cpu32 }) });
    expect(readdirSync(sub).filter((f) => f.startsWith('.m.safetensors.') && f.endsWith('.tmp'))).toEqual([]);
    rmSync(sub, { recursive: true });
  });

  test('errors name the final path, not the temporary file, and leave no temp behind', async () => {
    const sd = { w: tensor([1], [1], { device: cpu32 }) };
    const nowhere = join(dir, 'no-such-folder', 'x.safetensors');
    const e1 = await saveSafetensors(nowhere, sd).then(() => null, (e: Error) => e);
    expect(e1).toBeInstanceOf(Error);
    expect(e1!.message).toContain(nowhere);
    expect(e1!.message).not.toMatch(/\.tmp/);
    expect((e1 as NodeJS.ErrnoException).code).toBe('ENOENT');
    // The target is a folder: the rename fails.
    const folder = join(dir, 'a-folder.safetensors');
    mkdirSync(folder);
    writeFileSync(join(folder, 'inside'), 'x');
    const e2 = await saveSafetensors(folder, sd).then(() => null, (e: Error) => e);
    expect(e2).toBeInstanceOf(Error);
    expect(e2!.message).toMatch(/^saveSafetensors: cannot write /);
    expect(e2!.message).toContain(folder);
    expect(e2!.message).not.toMatch(/\.tmp/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    rmSync(folder, { recursive: true });
  });
});

describe('a file written to the format by the fixture script (torch-like layout)', () => {
  test('every tensor, dtype conversion and the metadata', async () => {
    const { tensors, metadata } = nn.deserializeSafetensors(TORCH_FILE, { device: cpu32 });
    expect(metadata).toEqual(ST.metadata);
    expect(Object.keys(tensors)).toEqual(ST.order);
    for (const [k, want] of Object.entries(ST.tensors) as [string, { shape: number[]; data: number[]; dtype?: string }][]) {
      const t = tensors[k]!;
      expect(t.shape, k).toEqual(want.shape);
      expect(t.dtype, k).toBe(want.dtype === 'i32' || want.dtype === 'u8' ? 'i32' : 'f32');
      // Bit-exact: the decimals in the fixture are the float32 values written to the file.
      expect(await t.toArray(), k).toBeAllClose(t.dtype === 'f32' ? Float32Array.from(want.data) : want.data, { rtol: 0, atol: 0 });
    }
    // F16 decodes exactly (every half is a float32).
    expect(nn.parseSafetensors(TORCH_FILE).tensors.get('extra.half')!.fileDType).toBe('F16');
    // The net's entries load into our net (num_batches_tracked from I64).
    const net = smallNet();
    const sub = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('extra.')));
    net.loadStateDict(sub);
    expect([...(await net.stateDict()['1.num_batches_tracked']!.toArray())]).toEqual([7]);
    net.dispose();
  });
});

describe('corrupt files: FormatError saying what is wrong', () => {
  function file(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: number): Uint8Array {
    const h = typeof header === 'string' ? new TextEncoder().encode(header) : new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(lengthOverride ?? h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  }
  const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(1.5).buffer);
  const entry = (dtype: string, shape: number[], a: number, b: number) => ({ dtype, shape, data_offsets: [a, b] });

  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /truncated: 0 bytes/],
    ['shorter than the length field', new Uint8Array(5), /truncated: 5 bytes/],
    ['header length past the end', file({ a: entry('F32', [2], 0, 8) }, f32(2), 4096), /header length 4096 runs past the end/],
    ['absurd header length', file({}, new Uint8Array(0), 2 ** 40), /over the format's limit/],
    ['header not JSON', file('{"a": [1, 2'), /not valid JSON/],
    ['header not an object', file('[1, 2, 3]'), /not a JSON object/],
    ['header not UTF-8', file('{"": 1}').map((b, i) => (i === 10 ? 0xff : b)), /not valid UTF-8/],
    ['unknown dtype', file({ a: entry('C64', [1], 0, 8) }, new Uint8Array(8)), /dtype C64.*does not read/],
    ['missing dtype', file({ a: { shape: [1], data_offsets: [0, 4] } }, f32(1)), /has no dtype/],
    ['bad shape', file({ a: entry('F32', [-1], 0, 4) }, f32(1)), /invalid shape/],
    ['bad offsets', file({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), /invalid data_offsets/],
    ['begin after end', file({ a: entry('F32', [0], 4, 0) }, f32(1)), /begin after end/],
    ['offsets out of range (truncated data)', file({ a: entry('F32', [4], 0, 16) }, f32(3)), /out of range: the data is 12 bytes/],
    ['shape and size disagree', file({ a: entry('F32', [3], 0, 8) }, f32(2)), /shape \[3\] of F32 needs 12 bytes, data_offsets \[0, 8\] give 8/],
    ['overlapping tensors', file({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 4, 12) }, f32(3)), /'a' and 'b' overlap/],
    ['a gap between tensors', file({ a: entry('F32', [1], 0, 4), b: entry('F32', [1], 8, 12) }, f32(3)), /gap in the data before 'b'/],
    ['trailing bytes', file({ a: entry('F32', [1], 0, 4) }, f32(2)), /cover 4 bytes of data, the file holds 8/],
    ['metadata not strings', file({ __metadata__: { a: 1 } }), /__metadata__.a is not a string/],
    ['I64 outside i32', file({ a: entry('I64', [1], 0, 8) }, new Uint8Array(new BigInt64Array([2n ** 40n]).buffer)), /outside the i32 range/],
  ];
  for (const [name, bytes, msg] of cases) {
    test(name, () => {
      let err: unknown;
      try {
        nn.parseSafetensors(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(/^safetensors: /);
      expect((err as Error).message).toMatch(msg);
    });
  }

  test('a truncated copy of a real file', () => {
    expect(() => nn.parseSafetensors(TORCH_FILE.subarray(0, TORCH_FILE.length - 3))).toThrow(/out of range|cover/);
    expect(() => nn.parseSafetensors(TORCH_FILE.subarray(0, 20))).toThrow(/runs past the end/);
  });

  test('loadSafetensors on a corrupt file rejects with FormatError', async () => {
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, new Uint8Array([1, 2, 3]));
    await expect(loadSafetensors(path)).rejects.toBeInstanceOf(FormatError);
    rmSync(path);
  });
});
