// The kernel lab and the profiler: per-kernel aggregates match what was launched (timestamp queries and the CPU-clock
// fallback), the lab's case tables cover every kernel, and `kernels list | check | bench` through the real CLI.
// No timing is asserted (only that times are positive where GPU work ran).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { getKernel, KERNELS, type KernelSpec } from '../../src/index.js';
import { kernelGroup } from '../../src/kernels/index.js';
import { bindByOrder } from '../../src/kernels/backend.js';
import { parseConstants } from '../../src/cli/kernels.js';
import { groupOf } from '../../src/bench/lab/cases.js';
import { benchSpec } from '../../src/bench/lab/time.js';
import { adapterFingerprint } from '../../src/bench/lab/peak.js';
import { distinctLaunches, recordCases, recordModel, recordShape, selectKernels } from '../../src/bench/lab/record.js';
import { gpuSuite } from '../helpers/gpu.js';
import type { AdapterFacts } from '../../src/kernels/runtime/webgpu_backend.js';

const { skip, dev } = await gpuSuite();

const root = join(import.meta.dirname, '../..');
const cacheDir = mkdtempSync(join(os.tmpdir(), 'unet-webgpu-lab-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Runs the CLI (`node bin/unet-webgpu.mjs kernels ...`) with the lab's cache in a temporary folder. */
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [join(root, 'bin/unet-webgpu.mjs'), 'kernels', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, UNET_WEBGPU_CACHE_DIR: cacheDir },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Launches `spec` `times` times on fresh buffers of n elements (valid params for the simple flat kernels used here). */
function launchFlat(spec: KernelSpec, n: number, times: number, params: Record<string, number>) {
  const reads = Object.values(spec.reads).map((dt) => {
    const s = dev.alloc(n, dt);
    dev.upload(s, Float32Array.from({ length: n }, (_, i) => Math.sin(i) + 2));
    return s;
  });
  const writes = Object.values(spec.writes).map((dt) => dev.alloc(n, dt));
  const b = bindByOrder(spec, reads, writes);
  for (let i = 0; i < times; i++) dev.run(spec, b.reads, b.writes, params);
  return () => [...reads, ...writes].forEach((s) => dev.free(s));
}

const LAUNCHED = [
  ['relu', 3],
  ['fill', 2],
  ['lab_peak_copy', 1],
  ['lab_peak_fma', 4],
] as const;

function launchAll(): (() => void)[] {
  const n = 4096;
  return LAUNCHED.map(([name, times]) => {
    const params: Record<string, number> = { relu: { n, a: 0 }, fill: { n, value: 1.5 }, lab_peak_copy: { n4: n / 4 }, lab_peak_fma: { n, iters: 8, m: 0.99, c: 0.01 } }[name];
    return launchFlat(getKernel(name), n, times, params);
  });
}

describe.skipIf(skip)('profiler', () => {
  for (const source of ['timestamp-query', 'cpu-clock'] as const) {
    test(`${source}: one entry per launched kernel, dispatch counts, gpu_ms > 0, cost totals`, async () => {
      const has = dev.device.features.has('timestamp-query');
      dev.startProfiling({ source });
      const frees = launchAll();
      const prof = await dev.stopProfiling();
      frees.forEach((f) => f());
      expect(prof.source).toBe(source === 'timestamp-query' && !has ? 'cpu-clock' : source);
      expect(prof.kernels.map((k) => k.kernel).sort()).toEqual(LAUNCHED.map(([k]) => k).sort());
      for (const [name, times] of LAUNCHED) {
        const k = prof.kernels.find((e) => e.kernel === name)!;
        expect(k.dispatches, name).toBe(times);
        expect(k.gpu_ms, name).toBeGreaterThan(0);
        expect(k.bytes, name).toBeGreaterThan(0);
      }
      // lab_peak_fma: 2 flops x 4 steps x 24 lanes per iteration and invocation (vec4 chains).
      expect(prof.kernels.find((e) => e.kernel === 'lab_peak_fma')!.flops).toBe(4 * 2 * 4096 * 8 * 96);
      expect(prof.samples).toHaveLength(10);
      expect(prof.dispatches).toBe(10);
      expect(prof.total_gpu_ms).toBeCloseTo(prof.kernels.reduce((a, k) => a + k.gpu_ms, 0), 9);
      // Sorted by time, slowest first.
      for (let i = 1; i < prof.kernels.length; i++) expect(prof.kernels[i - 1]!.gpu_ms).toBeGreaterThanOrEqual(prof.kernels[i]!.gpu_ms);
    });
  }

  test('more dispatches than one query set holds (flushes in between), and plain runs afterwards', async () => {
    dev.startProfiling();
    const free = launchFlat(getKernel('fill'), 64, 2100, { n: 64, value: 2 });
    const prof = await dev.stopProfiling();
    expect(prof.kernels).toHaveLength(1);
    expect(prof.kernels[0]!.dispatches).toBe(2100);
    expect(prof.samples.every((s) => s.gpu_ms >= 0)).toBe(true);
    expect(dev.profiling).toBe(false);
    // Profiling is off again: one pass, results still right.
    const s = dev.alloc(64, 'f32');
    dev.run(getKernel('fill'), {}, { y: s }, { n: 64, value: 3 });
    expect([...(await dev.download(s))].every((v) => v === 3)).toBe(true);
    dev.free(s);
    free();
    await expect(dev.stopProfiling()).rejects.toThrow(/not profiling/);
  });
});

test('kernelGroup names the source group of every kernel', () => {
  expect(kernelGroup('winograd_gemm')).toBe('conv');
  expect(kernelGroup('batchnorm2d_fwd_vec4')).toBe('batch_norm');
  expect(kernelGroup('relu')).toBe('elementwise');
  expect(kernelGroup('sgd_update')).toBe('optim');
  expect(kernelGroup('no_such_kernel')).toBe('other');
  for (const name of Object.keys(KERNELS)) expect(kernelGroup(name), name).not.toBe('other');
});

describe('kernel lab tables (CPU)', () => {
  test('the case tables record launches of every kernel in KERNELS, with finite costs', () => {
    const specs = Object.values(KERNELS as Record<string, KernelSpec>);
    const cases = recordCases(specs, 3, 1, 2);
    const missing = specs.filter((k) => !cases.get(k.name)?.length).map((k) => k.name);
    expect(missing, 'kernels without a lab case: add their ops to src/bench/lab/cases.ts').toEqual([]);
    for (const k of specs) {
      expect(groupOf(k.name), k.name).toBeDefined();
      expect(k.cost, `${k.name} has no cost model`).toBeDefined();
      for (const l of cases.get(k.name)!) {
        const c = k.cost!(l.params, { ...k.constants, ...l.constants });
        expect(Number.isFinite(c.flops) && c.flops >= 0, `${k.name} flops ${c.flops}`).toBe(true);
        expect(Number.isFinite(c.bytes) && c.bytes > 0, `${k.name} bytes ${c.bytes}`).toBe(true);
      }
    }
  });

  test('--variant: any kernel of the family (the first one too) or of the shader, with the same params and bindings', () => {
    expect(benchSpec('winograd_grad_vec4', 'winograd_grad').name).toBe('winograd_grad');
    expect(benchSpec('winograd_grad', 'winograd_grad_vec4').name).toBe('winograd_grad_vec4');
    expect(benchSpec('winograd_input_vec4', 'winograd_input').name).toBe('winograd_input');
    expect(benchSpec('sgd_update', 'sgd_update_vec4').name).toBe('sgd_update_vec4');
    expect(benchSpec('winograd_grad').name).toBe('winograd_grad');
    expect(() => benchSpec('winograd_grad', 'winograd_gemm')).toThrow('kernels bench: winograd_gemm is not a variant of winograd_grad (family winograd_grad, shader winograd_grad)');
  });

  test('a U-Net step on the meta device gives the conv shapes; --shape runs one op; selection and constants parse', () => {
    const a = recordModel('a');
    const conv = distinctLaunches(a, 'conv2d_fwd');
    // Config a: 18 3x3 convs forward (two per DoubleConv, 9 of them) minus repeats, the 1x1 outc, and dX of 4 up-convs.
    expect(conv.length).toBeGreaterThan(10);
    expect(conv[0]!.launch.params).toMatchObject({ n: 1, cin: 1, h: 128, w: 128, cout: 16, oh: 128, ow: 128, kh: 3 });
    // Every launch of a training step has a cost model.
    for (const l of a) expect(getKernel(l.kernel).cost, l.kernel).toBeDefined();
    const s = distinctLaunches(recordShape('conv2d_fwd', '2x8x33x35:cout=16,k=3,t=0'), 'conv2d_fwd');
    expect(s).toHaveLength(1);
    expect(s[0]!.launch.params).toMatchObject({ n: 2, cin: 8, h: 33, w: 35, cout: 16, oh: 31, ow: 33 });
    expect(selectKernels(['lab']).map((k) => k.name).sort()).toEqual(['lab_peak_copy', 'lab_peak_fma']);
    // With the device's adapter facts the recorder makes the device's kernel choices (lavapipe: subgroup kernels and
    // Winograd, its transforms on vec4: every layer of b is a multiple of 4 wide; the 32-channel input gradients in one
    // fused pass); without them, the portable kernels.
    const lavapipe: AdapterFacts = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe', features: ['subgroups'], subgroupMinSize: 8, subgroupMaxSize: 8 };
    const names = (ls: readonly { kernel: string }[]) => new Set(ls.map((l) => l.kernel));
    const b = names(recordModel('b', undefined, lavapipe));
    expect([...b].filter((k) => k.startsWith('winograd_')).sort()).toEqual(
      ['winograd_fused', 'winograd_gemm', 'winograd_grad_vec4', 'winograd_input_vec4', 'winograd_output_vec4', 'winograd_weight', 'winograd_wgrad_gemm', 'winograd_wgrad_output'],
    );
    // The up-convs, their input and weight gradients (rows a multiple of 4 wide): the subgroup family's 2x2 stride-2
    // kernels (and the pools' forward and backward).
    expect([...b].filter((k) => k.includes('k2s2')).sort()).toEqual(['conv2d_bwd_weight_k2s2', 'conv2d_fwd_k2s2', 'conv_transpose2d_fwd_k2s2', 'maxpool2d_bwd_k2s2', 'maxpool2d_fwd_k2s2']);
    expect([...names(a)].some((k) => k.startsWith('winograd_') || k.endsWith('_sg'))).toBe(false);
    // Config c ('valid'): rows 570, 282, ... wide take the vec2 data and output transforms (the gradient transform the
    // scalar one), the others vec4.
    const c = [...names(recordModel('c', undefined, lavapipe))].filter((k) => /^winograd_(input|output|grad)/.test(k)).sort();
    expect(c).toEqual(['winograd_grad', 'winograd_grad_vec4', 'winograd_input_vec2', 'winograd_input_vec4', 'winograd_output_vec2', 'winograd_output_vec4']);
    expect(parseConstants('WG=32,VEC4=false')).toEqual({ WG: 32, VEC4: false });
  });
});

describe.skipIf(skip)('kernels CLI', () => {
  test('list names every key of KERNELS', () => {
    const r = cli('list', '--json');
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kernel: string; shader: string; constants: object });
    expect(rows.map((x) => x.kernel).sort()).toEqual(Object.keys(KERNELS).sort());
    expect(rows.find((x) => x.kernel === 'conv2d_fwd')).toMatchObject({ shader: 'shaders/conv2d_fwd.wgsl', constants: { CO8: true } });
    const text = cli('list', 'lab_peak_fma');
    expect(text.stdout).toMatch(/^lab_peak_fma {2}family lab \(2 variants: lab_peak_fma, lab_peak_copy\) {2}shaders\/lab_peak_fma\.wgsl/);
    expect(text.stdout).toMatch(/constants {2}WG=64 VEC4=true/);
  });

  test('check passes two small kernels, and FAILS (exit 1) a deliberately broken shader loaded with --shaders', () => {
    const ok = cli('check', 'lab_peak_copy', 'relu');
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^lab_peak_copy +\d+ +0 +0 +PASS/m);
    expect(ok.stdout).toMatch(/^relu +\d+ +0 +0 +PASS/m);
    expect(ok.stdout).toMatch(/summary: 2 PASS, 0 FAIL, 0 NOCASE/);
    const dir = join(cacheDir, 'broken');
    mkdirSync(dir, { recursive: true });
    const src = readFileSync(join(root, 'shaders/lab_peak_copy.wgsl'), 'utf8');
    expect(src).toContain('y[i] = x[i];');
    writeFileSync(join(dir, 'lab_peak_copy.wgsl'), src.replace('y[i] = x[i];', 'y[i] = x[i] * 1.0001;'));
    const bad = cli('check', 'lab_peak_copy', 'relu', '--shaders', dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^lab_peak_copy .* FAIL/m);
    expect(bad.stdout).toMatch(/^relu .* PASS/m);
    expect(bad.stdout).toMatch(/summary: 1 PASS, 1 FAIL, 0 NOCASE/);
  });

  test('bench --json on an explicit shape, with the peak taken from the cache', () => {
    // A cached peak for this adapter, so the test does not spend seconds measuring one.
    const fingerprint = adapterFingerprint(dev, process.env);
    mkdirSync(cacheDir, { recursive: true });
    const peak = { gflops: 100, gbps: 10, fma: { vec4: 100 }, copy_mb: 64, source: 'timestamp-query', reps: 5, measured_at: '2026-01-01T00:00:00.000Z', adapter: dev.description };
    writeFileSync(join(cacheDir, 'peaks.json'), JSON.stringify({ version: 1, adapters: { [fingerprint]: peak } }));
    const r = cli('bench', 'relu', '--shape', '1x4x33x33', '--reps', '2', '--nice-main', '19', '--json');
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(row).toMatchObject({ kernel: 'relu', reps: 2, peak_gflops: 100, peak_gbps: 10 });
      expect(row.samples_ms).toHaveLength(2);
      for (const k of ['shape', 'calls', 'median_ms', 'gflops', 'gbps', 'pct_peak_flops', 'pct_peak_bw', 'params', 'constants', 'source']) expect(row).toHaveProperty(k);
      expect(row.pct_peak_bw).toBeCloseTo((100 * row.gbps) / 10, 6);
    }
    expect(r.stderr).not.toMatch(/measuring this adapter's peak/);
    // Another variant of the family on those launches: the recorded CO (which conv_transpose2d_fwd_sg lacks) is dropped.
    const sg8 = dev.adapter.features.includes('subgroups') && dev.adapter.subgroupMinSize === 8 && dev.adapter.subgroupMaxSize === 8;
    if (!sg8) return;
    const v = cli('bench', 'conv_transpose2d_fwd_k2s2', '--variant', 'conv_transpose2d_fwd_sg', '--shape', '1x16x8x8:cout=12,k=2,t=1', '--reps', '2', '--json');
    expect(v.status, v.stderr).toBe(0);
    const row = JSON.parse(v.stdout.trim().split('\n')[0]!);
    expect(row).toMatchObject({ kernel: 'conv_transpose2d_fwd_sg', recorded_kernel: 'conv_transpose2d_fwd_k2s2' });
    expect(row.constants).not.toHaveProperty('CO');
    expect(row.not_applied).toEqual(['CO']);
    const t = cli('bench', 'conv_transpose2d_fwd_k2s2', '--variant', 'conv_transpose2d_fwd_sg', '--shape', '1x16x8x8:cout=12,k=2,t=1', '--reps', '1');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^not applied: the recorded launches' CO \(conv_transpose2d_fwd_sg declares none of them\)$/m);
  });

  test('--constants that a kernel does not declare are refused by name, before any device work', () => {
    const b = cli('bench', 'relu', '--shape', '1x4x33x33', '--constants', 'WG=64,BOGUS=1');
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/kernels bench: --constants BOGUS: not a constant of relu \(WG\)/);
    const c = cli('check', 'relu', 'add', '--constants', 'BROADCAST=false');
    expect(c.status).not.toBe(0);
    expect(c.stderr).toMatch(/kernels check: --constants BROADCAST: not a constant of relu \(WG\)/);
  });
});
