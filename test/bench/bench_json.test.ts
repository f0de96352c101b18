import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { skipGpu } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '../..');
const skip = await skipGpu();

// Format only: timings are measured by `npm run bench`, never asserted in tests.
test.skipIf(skip)("bench prints one JSON line in the peers' format, and the peers' summarizer tables it", () => {
  const out = execFileSync('node', [join(root, 'bin/unet-webgpu.mjs'), 'bench', '--config', 'a', '--modes', 'fwd,train', '--reps', '1', '--warmup', '1', '--profile'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
  });
  const lines = out.trim().split('\n');
  expect(lines).toHaveLength(1);
  const r = JSON.parse(lines[0]!);
  expect(r).toMatchObject({ peer: 'unet-webgpu', backend: 'webgpu', config: 'a', width: 16, batch: 1, size: 128, padding: 'same', params: 1_943_761, out_shape: [1, 1, 128, 128] });
  // The peers' MAC count for config a (../shared/peers/README.md: 0.753 G).
  expect(r.conv_gmacs_fwd).toBeCloseTo(0.753, 3);
  for (const mode of ['fwd', 'train']) {
    const m = r.modes[mode];
    for (const k of ['first_ms', 'median_ms', 'min_ms', 'max_ms', 'mean_ms', 'sd_ms', 'spread_pct', 'n', 'samples_ms', 'finite', 'dispatches_per_step', 'submits_per_step']) expect(m).toHaveProperty(k);
    expect(m.finite).toBe(true);
  }
  expect(r.modes.train.loss_first).toBeGreaterThan(0);
  expect(r.conv_variants).toEqual({ fwd: 'auto', wgrad: 'auto' });
  // The profiled step: top kernels, and every kernel's time summed by group (shares add up to ~100%).
  expect(r.profile.kernels.length).toBeGreaterThan(5);
  const groups = r.profile.groups as { group: string; gpu_ms: number; share_pct: number }[];
  expect(groups.map((g) => g.group)).toEqual(expect.arrayContaining(['batch_norm', 'optim', 'pool']));
  expect(groups.some((g) => g.group.startsWith('conv ('))).toBe(true);
  expect(groups.reduce((a, g) => a + g.share_pct, 0)).toBeCloseTo(100, 0);
  expect(groups.reduce((a, g) => a + g.gpu_ms, 0)).toBeCloseTo(r.profile.total_gpu_ms, 0);
  const table = execFileSync('node', [join(root, 'bench/peers/summarize.mjs')], { input: out, encoding: 'utf8' });
  expect(table).toMatch(/\| unet-webgpu webgpu \| a \| fwd \| [\d.]+ ms \|/);
  expect(table).toMatch(/\| unet-webgpu webgpu \| a \| train \| [\d.]+ ms \|.* \| ok \|/);
});
