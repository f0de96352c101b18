// The measured autotuner: tuning tables per device ('auto' takes a bucket's measured choice, a forced family ignores
// it), their validation, the cache file, `kernels tune` end to end on lavapipe (measure, print, used by bench, reset),
// and tuneStep, the library's tuner for any model (its browser store is exercised in test/browser/demo.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { adapterFingerprint, ArgumentError, clearTuningInIndexedDB, convFwdBucket, convWgradBucket, F, loadTuningFromIndexedDB, matmulBucket, saveTuningToIndexedDB, setKernelPolicy, setTuning, tuneStep, tuningOf, type TuningTable } from '../../src/index.js';
import { readTuningFile } from '../../src/node.js';
import { RecordingMetaBackend } from '../../src/bench/recorder.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { withDevice } from '../../src/tensor/context.js';
import { gpuSuite, skipGpu } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(os.tmpdir(), 'unet-webgpu-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const table = (entries: TuningTable['entries']): TuningTable => ({ fingerprint: 'test', measuredAt: '2026-12-02T00:00:00Z', entries });

/** The kernels a linear [rows, inF] x [out, inF]ᵀ forward launches on `dev`. */
function linearKernels(dev: RecordingMetaBackend, rows: number, inF: number, out: number): string[] {
  const before = dev.launches.length;
  withDevice(dev, () => F.linear(Tensor.empty([rows, inF], 'f32', dev), Tensor.empty([out, inF], 'f32', dev)));
  return dev.launches.slice(before).map((l) => l.kernel);
}

/** The kernels of a conv2d forward + backward (x [2, cin, 9, 11], 3x3 'same', weight grad only) on `dev`. */
function convKernels(dev: RecordingMetaBackend, cin: number, cout: number): string[] {
  const before = dev.launches.length;
  withDevice(dev, () => {
    const x = Tensor.empty([2, cin, 9, 11], 'f32', dev);
    const w = Tensor.empty([cout, cin, 3, 3], 'f32', dev).requiresGrad_();
    F.conv2d(x, w, null, { padding: 1 }).sum().backward();
  });
  return dev.launches.slice(before).map((l) => l.kernel).filter((k) => k.startsWith('conv2d_fwd') || k.startsWith('conv2d_bwd_weight'));
}

describe('tuning tables', () => {
  test('buckets: transposes, power-of-two size classes (at least 4), vec4 fit; conv taps, strides, channel and pixel classes', () => {
    expect(matmulBucket({ m: 64, n: 256, k: 256, ta: 0, tb: 1 }, true)).toBe('matmul NT m64 n256 k256 v4');
    expect(matmulBucket({ m: 65, n: 3, k: 1, ta: 1, tb: 0 }, false)).toBe('matmul TN m128 n4 k4');
    expect(convFwdBucket({ n: 2, cin: 3, cout: 64, oh: 9, ow: 11, kh: 3, kw: 3, sh: 1, sw: 1 }, false)).toBe('conv_fwd D k3x3 s1x1 ci4 co64 px256');
    expect(convFwdBucket({ n: 1, cin: 65, cout: 9, oh: 16, ow: 16, kh: 2, kw: 2, sh: 2, sw: 2 }, true)).toBe('conv_fwd T k2x2 s2x2 ci128 co16 px256');
    expect(convWgradBucket({ a: 64, b: 3, kh: 3, kw: 3, sh: 1, sw: 1, rows: 10, gw: 100 })).toBe('conv_wgrad k3x3 s1x1 a64 b4 px1024');
  });

  test("'auto' takes the measured conv family of a launch's bucket (forward and weight gradient); forced families do not", () => {
    const dev = new RecordingMetaBackend();
    // No adapter facts: the rules give the portable kernels.
    expect(convKernels(dev, 5, 6)).toEqual(['conv2d_fwd', 'conv2d_bwd_weight']);
    const fwd = convFwdBucket({ n: 2, cin: 5, cout: 6, oh: 9, ow: 11, kh: 3, kw: 3, sh: 1, sw: 1 }, false);
    const wgrad = convWgradBucket({ a: 6, b: 5, kh: 3, kw: 3, sh: 1, sw: 1, rows: 18, gw: 11 });
    setTuning(dev, table({ [fwd]: { choice: 'tiled', ms: { portable: 2, tiled: 1 }, launch: '' }, [wgrad]: { choice: 'tiled', ms: { portable: 2, tiled: 1 }, launch: '' } }));
    expect(convKernels(dev, 5, 6)).toEqual(['conv2d_fwd_tiled', 'conv2d_bwd_weight_tiled']);
    expect(convKernels(dev, 5, 20)).toEqual(['conv2d_fwd', 'conv2d_bwd_weight']); // other buckets: the rules
    setKernelPolicy(dev, { convForward: 'portable', convWeightGrad: 'portable' });
    expect(convKernels(dev, 5, 6)).toEqual(['conv2d_fwd', 'conv2d_bwd_weight']);
    setKernelPolicy(dev, { convForward: 'auto', convWeightGrad: 'auto' });
    setTuning(dev, null);
    expect(convKernels(dev, 5, 6)).toEqual(['conv2d_fwd', 'conv2d_bwd_weight']);
  });

  test("'auto' takes the measured choice of the launch's bucket; other buckets and forced families do not", () => {
    const dev = new RecordingMetaBackend();
    expect(linearKernels(dev, 64, 256, 768)).toEqual(['matmul_vec4']);
    const key = matmulBucket({ m: 64, n: 768, k: 256, ta: 0, tb: 1 }, true);
    setTuning(dev, table({ [key]: { choice: 'portable', ms: { portable: 1, vec4: 2 }, launch: '' } }));
    expect(tuningOf(dev)!.entries[key]!.choice).toBe('portable');
    expect(linearKernels(dev, 64, 256, 768)).toEqual(['matmul']);
    expect(linearKernels(dev, 64, 256, 100)).toEqual(['matmul_vec4']); // n = 100: another bucket, not measured: the rule
    setKernelPolicy(dev, { matmul: 'tiled' });
    expect(linearKernels(dev, 64, 256, 768)).toEqual(['matmul_tiled']);
    setKernelPolicy(dev, { matmul: 'auto' });
    setTuning(dev, null);
    expect(linearKernels(dev, 64, 256, 768)).toEqual(['matmul_vec4']);
  });

  test('an entry with an unknown op or choice is an ArgumentError naming it', () => {
    const dev = new RecordingMetaBackend();
    expect(() => setTuning(dev, table({ 'matmul NN m4 n4 k4': { choice: 'fast', ms: {}, launch: '' } }))).toThrow(ArgumentError);
    expect(() => setTuning(dev, table({ 'matmul NN m4 n4 k4': { choice: 'fast', ms: {}, launch: '' } }))).toThrow(/choice 'fast' is not one of portable, reg, vec4, tiled/);
    expect(() => setTuning(dev, table({ 'conv NN': { choice: 'reg', ms: {}, launch: '' } }))).toThrow(/no tuned op 'conv'/);
    // Winograd spans several kernels: not a choice of one direct launch.
    expect(() => setTuning(dev, table({ 'conv_fwd D k3x3 s1x1 ci4 co4 px4': { choice: 'winograd', ms: {}, launch: '' } }))).toThrow(/choice 'winograd' is not one of portable, subgroup, tiled/);
    expect(() => setTuning(dev, table({ 'toString x': { choice: 'reg', ms: {}, launch: '' } }))).toThrow(/no tuned op 'toString'/);
    expect(tuningOf(dev)).toBeNull();
  });

  test('the cache file: missing is empty; a file that is not one is an ArgumentError naming it', () => {
    expect(readTuningFile(join(dir, 'none.json'))).toEqual({ version: 1, adapters: {} });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 2}');
    expect(() => readTuningFile(bad)).toThrow(/bad\.json is not a tuning file/);
    writeFileSync(bad, 'nope');
    expect(() => readTuningFile(bad)).toThrow(/bad\.json is not JSON/);
  });
});

const skip = await skipGpu();

describe.skipIf(skip)('kernels tune on lavapipe', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync('node', [join(root, 'bin/unet-webgpu.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, UNET_WEBGPU_CACHE_DIR: join(dir, 'cache'), UNET_WEBGPU_TUNING: 'on' },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  test('measures the matmul and conv buckets of a TransUNet step, prints them, bench uses them, --reset removes them', () => {
    const out = JSON.parse(cli('kernels', 'tune', '--model', 'trans-unet', '--config', 'a', '--reps', '1', '--json')) as {
      path: string; fingerprint: string; entries: Record<string, { choice: string; ms: Record<string, number>; calls: number }>;
    };
    const entries = Object.entries(out.entries);
    expect(entries.length).toBeGreaterThan(3);
    for (const op of ['matmul', 'conv_fwd', 'conv_wgrad']) expect(entries.some(([key]) => key.startsWith(`${op} `)), op).toBe(true);
    for (const [key, e] of entries) {
      expect(key).toMatch(/^(matmul [NT]{2} m\d+ n\d+ k\d+( v4)?|conv_fwd [DT] k\d+x\d+ s\d+x\d+ ci\d+ co\d+ px\d+|conv_wgrad k\d+x\d+ s\d+x\d+ a\d+ b\d+ px\d+)$/);
      // Every candidate timed (vec4 where it fits; the subgroup kernels on lavapipe's 8-lane subgroups), the choice the fastest of them.
      const want = key.startsWith('conv') ? ['portable', 'subgroup', 'tiled'] : key.endsWith(' v4') ? ['portable', 'reg', 'tiled', 'vec4'] : ['portable', 'reg', 'tiled'];
      expect(Object.keys(e.ms).sort()).toEqual(want);
      expect(Object.values(e.ms).every((ms) => ms > 0)).toBe(true);
      expect(e.ms[e.choice]).toBe(Math.min(...Object.values(e.ms)));
      expect(e.calls).toBeGreaterThan(0);
    }
    const file = JSON.parse(readFileSync(out.path, 'utf8'));
    expect(Object.keys(file.adapters)).toEqual([out.fingerprint]);
    expect(cli('kernels', 'tune', '--print')).toContain(entries[0]![0]);
    const bench = JSON.parse(cli('bench', '--model', 'trans-unet', '--config', 'a', '--modes', 'fwd', '--reps', '1', '--warmup', '1').trim().split('\n').at(-1)!);
    expect(bench.tuning.buckets).toBe(entries.length);
    expect(cli('kernels', 'tune', '--reset')).toContain('removed');
    expect(cli('kernels', 'tune', '--print')).toContain('no tuning table');
  }, 300_000);
});

describe('tuneStep: the tuner for any model (library API, Node and browsers)', async () => {
  const { skip, dev } = await gpuSuite();

  test.skipIf(skip)("records the step's launches with the device's facts, times each bucket's candidates, returns the device's table", async () => {
    const lines: string[] = [];
    // A user's own small net: a 3x3 conv (forward and weight gradient; too narrow for Winograd, and its rows, 14 and 42
    // wide, not the multiple of 4 its one-pass few-channel kernel needs) and a linear head.
    const step = (side: number) => () => {
      const x = Tensor.empty([2, 3, side, side], 'f32');
      const w = Tensor.empty([5, 3, 3, 3], 'f32').requiresGrad_();
      const lw = Tensor.empty([4, 5 * side * side], 'f32').requiresGrad_();
      const h = F.relu(F.conv2d(x, w, null, { padding: 1 }));
      F.linear(h.reshape([2, 5 * side * side]), lw).sum().backward();
    };
    const t = await tuneStep(dev, step(14), { reps: 1, log: (l) => lines.push(l) });
    expect(t.fingerprint).toBe(adapterFingerprint(dev));
    expect(Number.isFinite(Date.parse(t.measuredAt))).toBe(true);
    const keys = Object.keys(t.entries);
    for (const op of ['matmul', 'conv_fwd', 'conv_wgrad']) expect(keys.some((k) => k.startsWith(`${op} `)), op).toBe(true);
    for (const [key, e] of Object.entries(t.entries)) {
      expect(Object.values(e.ms).every((ms) => ms > 0), key).toBe(true);
      expect(e.ms[e.choice], key).toBe(Math.min(...Object.values(e.ms)));
    }
    expect(lines).toHaveLength(keys.length);
    // First-use tuning: with the table known, the same step times nothing (the table itself comes back); a bigger
    // one times only the buckets it adds and keeps the known ones as they were.
    expect(await tuneStep(dev, step(14), { reps: 1, known: t, log: (l) => lines.push(l) })).toBe(t);
    expect(lines).toHaveLength(keys.length);
    const t2 = await tuneStep(dev, step(42), { reps: 1, known: t });
    for (const k of keys) expect(t2.entries[k]).toEqual(t.entries[k]);
    expect(Object.keys(t2.entries).length).toBeGreaterThan(keys.length);
    // A table of another adapter is not this one's: everything is timed.
    expect(Object.keys((await tuneStep(dev, step(14), { reps: 1, known: { ...t, fingerprint: 'another' } })).entries).sort()).toEqual([...keys].sort());
    // What it returns is a table the device takes; the step's tensors never touched the GPU device.
    setTuning(dev, t);
    expect(tuningOf(dev)).toBe(t);
    setTuning(dev, null);
  }, 120_000);

  test.skipIf(skip)('bad input: unknown options, reps, a step that is not a function or tunes nothing', async () => {
    const step = () => void F.relu(Tensor.empty([4], 'f32'));
    await expect(tuneStep(dev, step, { Reps: 2 } as never)).rejects.toThrow("tuneStep: unknown option 'Reps' (did you mean 'reps'?); accepted: reps, log, env, known");
    await expect(tuneStep(dev, step, { reps: 0 })).rejects.toThrow('tuneStep: reps must be a positive integer, got 0');
    await expect(tuneStep(dev, null as never)).rejects.toThrow('tuneStep: step must be a function');
    await expect(tuneStep(dev, step)).rejects.toThrow(/tuneStep: the step launched 1 kernel\(s\), none a matmul or direct conv: nothing to tune/);
  });

  test('the IndexedDB store is for browsers: in Node each function says where the table lives instead', async () => {
    for (const f of [() => saveTuningToIndexedDB(table({})), () => loadTuningFromIndexedDB('x'), () => clearTuningInIndexedDB()]) {
      await expect(f()).rejects.toThrow(/IndexedDB is not available here \(in Node the tuning table is a file: unet-webgpu kernels tune, writeTuningTable\)/);
      await expect(f()).rejects.toBeInstanceOf(ArgumentError);
    }
  });
});
