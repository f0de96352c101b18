// The measured autotuner: tuning tables per device ('auto' takes a bucket's measured choice, a forced family ignores
// it), their validation, the cache file, and `kernels tune` end to end on lavapipe (measure, print, used by bench, reset).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ArgumentError, F, matmulBucket, setKernelPolicy, setTuning, tuningOf, type TuningTable } from '../../src/index.js';
import { readTuningFile } from '../../src/node.js';
import { RecordingMetaBackend } from '../../src/bench/recorder.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { withDevice } from '../../src/tensor/context.js';
import { skipGpu } from '../helpers/gpu.js';

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

describe('tuning tables', () => {
  test('buckets: transposes, power-of-two size classes (at least 4), vec4 fit', () => {
    expect(matmulBucket({ m: 64, n: 256, k: 256, ta: 0, tb: 1 }, true)).toBe('matmul NT m64 n256 k256 v4');
    expect(matmulBucket({ m: 65, n: 3, k: 1, ta: 1, tb: 0 }, false)).toBe('matmul TN m128 n4 k4');
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

  test('measures the buckets of a TransUNet step, prints them, bench uses them, --reset removes them', () => {
    const out = JSON.parse(cli('kernels', 'tune', '--model', 'trans-unet', '--config', 'a', '--reps', '1', '--json')) as {
      path: string; fingerprint: string; entries: Record<string, { choice: string; ms: Record<string, number>; calls: number }>;
    };
    const entries = Object.entries(out.entries);
    expect(entries.length).toBeGreaterThan(3);
    for (const [key, e] of entries) {
      expect(key).toMatch(/^matmul [NT]{2} m\d+ n\d+ k\d+( v4)?$/);
      // Every candidate timed (vec4 where it fits), the choice the fastest of them.
      expect(Object.keys(e.ms).sort()).toEqual(key.endsWith(' v4') ? ['portable', 'reg', 'tiled', 'vec4'] : ['portable', 'reg', 'tiled']);
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
