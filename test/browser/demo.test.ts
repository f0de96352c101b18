// The demo page in real Chromium (Debian's /usr/bin/chromium, headless, --enable-unsafe-webgpu: SwiftShader's
// WebGPU, 4-lane subgroups), driven by playwright-core: it loads, segments the ISBI example, its probabilities equal
// the Node engine's (Dawn) on the same weights and image, five fine-tuning steps lower the loss and the saved
// safetensors load in Node, a forced kernel family the adapter cannot run is refused while 'auto' matches the CPU
// reference, the kernel tuner measures this adapter and keeps its table in IndexedDB for the next page, and a
// screenshot is saved to test-artifacts/. Without the browser this file FAILS: run `npm run setup`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CheckResult, TuningReport } from '../../demo/protocol.js';
import { buildDemo, bundleReport, ROOT, serveDemo } from '../../scripts/demo.js';
import { decodeImage, encodePng, normalizePage, parseCheckpoint, predictTiled, nn, cpuDevice, segModelFromCheckpoint, disposeCheckpoint } from '../../src/index.js';
import { loadSegModel } from '../../src/node.js';
import { gpuSuite } from '../helpers/gpu.js';

export const CHROMIUM = process.env.UNET_CHROMIUM ?? '/usr/bin/chromium';
/** Flags: WebGPU on (SwiftShader where there is no GPU), and none of Chromium's background traffic. */
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-default-apps', '--disable-extensions'];
const CKPT = join(ROOT, 'demo/models/isbi-w8.safetensors');
const ARTIFACTS = join(ROOT, 'test-artifacts');

if (!existsSync(CHROMIUM)) throw new Error(`browser tests: no Chromium at ${CHROMIUM}. Run \`npm run setup\` (installs Debian's chromium), or set UNET_CHROMIUM to a Chromium binary.`);
const { dev } = await gpuSuite();

interface DemoState {
  phase: string;
  busy: string | null;
  adapter: { architecture: string; software: boolean; subgroupMinSize: number | null } | null;
  error: string | null;
  segments: number;
  segment: { name: string; width: number; height: number; tile: number; tiles: number; probs: number[]; timings: Record<string, number> } | null;
  fineTune: { losses: number[]; done: boolean; error: string | null } | null;
  check: { result: CheckResult | null; error: string | null } | null;
  tuning: TuningReport | null;
  messages: string[];
}

let server: Server;
let url: string;
let ctx: BrowserContext;
let page: Page;
let userDir: string;
const work = mkdtempSync(join(tmpdir(), 'unet-browser-'));
const pageErrors: string[] = [];

const demoState = () => page.evaluate(() => {
  const s = (window as unknown as { __demo: Record<string, unknown> }).__demo;
  const seg = s.segment as { probs: Float32Array } | null;
  return { ...s, segment: seg ? { ...seg, probs: Array.from(seg.probs) } : null } as unknown;
}) as Promise<DemoState>;
const waitFor = (fn: string, timeout = 60_000) => page.waitForFunction(`(() => { const s = window.__demo; return ${fn}; })()`, null, { timeout, polling: 100 });
const waitIdle = () => waitFor('s.busy === null');

/** A crop of an example section as a PNG file (bytes as decoded, 8-bit grey). */
function cropPng(file: string, y0: number, x0: number, size: number, out: string): string {
  const img = decodeImage(readFileSync(join(ROOT, file)))[0]!;
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = img.data[(y0 + y) * img.width + x0 + x]!;
  const path = join(work, out);
  writeFileSync(path, encodePng({ width: size, height: size, channels: 1, data }));
  return path;
}

beforeAll(async () => {
  const t0 = performance.now();
  const bundle = await buildDemo();
  console.log(`demo bundle: ${bundleReport(bundle)}`);
  ({ server, url } = await serveDemo(bundle, { port: 0 }));
  userDir = mkdtempSync(join(tmpdir(), 'unet-chromium-'));
  ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1200, height: 1400 }, acceptDownloads: true });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(url);
  await waitFor("s.phase !== 'init'", 90_000);
  console.log(`page ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 180_000);

afterAll(async () => {
  await ctx?.close();
  server?.close();
  rmSync(userDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('the demo page in Chromium', () => {
  test('loads: WebGPU opens, the adapter is named (a software fallback says so), the default checkpoint is in', async () => {
    const s = await demoState();
    expect(s.error).toBeNull();
    expect(s.phase).toBe('ready');
    const status = await page.textContent('#status');
    expect(status).toMatch(/WebGPU adapter: .+GFLOP\/s/);
    if (s.adapter!.software) expect(status).toMatch(/software \(CPU\) fallback/);
    expect(await page.textContent('#model-info')).toMatch(/isbi-w8\.safetensors: U-Net width 8/);
    expect(pageErrors).toEqual([]);
  });

  test('without WebGPU the page says so and what to use', async () => {
    const p2 = await ctx.newPage();
    await p2.addInitScript(() => delete (Navigator.prototype as { gpu?: unknown }).gpu);
    await p2.goto(url);
    await p2.waitForFunction(() => (window as unknown as { __demo: { phase: string } }).__demo.phase === 'error', null, { timeout: 30_000 });
    expect(await p2.textContent('#status')).toMatch(/no WebGPU \(navigator\.gpu is missing\)\. Use Chrome or Edge 113\+/);
    expect(await p2.isDisabled('#segment')).toBe(true);
    await p2.close();
  });

  test("a 128 x 128 crop's probabilities equal the Node engine's on the same weights (max abs diff <= 1e-3)", async () => {
    const file = cropPng('examples/isbi2012/images/22.png', 190, 140, 128, 'crop22.png');
    await page.setInputFiles('#image-file', file);
    await page.click('#segment');
    await waitFor('s.segments >= 1 && s.busy === null', 120_000);
    const s = await demoState();
    expect(s.messages).toEqual([]);
    const seg = s.segment!;
    expect([seg.width, seg.height]).toEqual([128, 128]);
    const { model, meta } = await loadSegModel(CKPT, { device: dev });
    const img = decodeImage(readFileSync(file))[0]!;
    const want = await predictTiled(model, normalizePage(img, meta.data.normalization, 1), { tile: seg.tile });
    model.dispose();
    expect(seg.probs.length).toBe(want.length);
    let worst = 0, lo = 1, hi = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(seg.probs[i]! - want[i]!));
      lo = Math.min(lo, want[i]!);
      hi = Math.max(hi, want[i]!);
    }
    console.log(`page vs Node (Dawn) probabilities: max abs diff ${worst.toExponential(2)} over ${want.length} pixels (range ${lo.toFixed(3)}..${hi.toFixed(3)}); page predict ${seg.timings.predictMs!.toFixed(0)} ms`);
    // Not a constant map: the comparison can fail.
    expect(hi - lo).toBeGreaterThan(0.5);
    expect(worst).toBeLessThanOrEqual(1e-3);

    // A tile smaller than the image: overlapping tiles (said on the page), still the Node engine's numbers.
    await page.selectOption('#tile', '64');
    await page.click('#segment');
    await waitFor('s.segments >= 2 && s.busy === null', 120_000);
    const tiled = (await demoState()).segment!;
    await page.selectOption('#tile', '');
    expect(tiled.tiles).toBeGreaterThan(1);
    expect(await page.textContent('#seg-notes')).toMatch(/larger than one 64 x 64 tile: \d+ overlapping tiles/);
    const m2 = await loadSegModel(CKPT, { device: dev });
    const want2 = await predictTiled(m2.model, normalizePage(img, m2.meta.data.normalization, 1), { tile: 64 });
    m2.model.dispose();
    let worst2 = 0;
    for (let i = 0; i < want2.length; i++) worst2 = Math.max(worst2, Math.abs(tiled.probs[i]! - want2[i]!));
    console.log(`tile 64: ${tiled.tiles} tiles, page vs Node max abs diff ${worst2.toExponential(2)}`);
    expect(worst2).toBeLessThanOrEqual(1e-3);
  });

  test('a colour image for the one-channel model is segmented as its luminance, and the page says so', async () => {
    const grey = decodeImage(readFileSync(cropPng('examples/isbi2012/images/7.png', 0, 0, 64, 'grey7.png')))[0]!;
    const n = 64 * 64;
    const rgb = new Float32Array(3 * n);
    // A tinted copy: r, g and b differ, so the page must really convert.
    for (let i = 0; i < n; i++) [rgb[i], rgb[n + i], rgb[2 * n + i]] = [grey.data[i]!, 0.8 * grey.data[i]!, Math.min(255, 1.2 * grey.data[i]!)];
    const file = join(work, 'colour7.png');
    writeFileSync(file, encodePng({ width: 64, height: 64, channels: 3, data: rgb }));
    const before = (await demoState()).segments;
    await page.setInputFiles('#image-file', file);
    await page.click('#segment');
    await waitFor(`s.segments > ${before} && s.busy === null`, 60_000);
    const s = await demoState();
    expect(s.messages).toEqual([]);
    expect([s.segment!.width, s.segment!.height]).toEqual([64, 64]);
    expect(await page.textContent('#seg-notes')).toMatch(/colour image for a one-channel model: segmenting its luminance/);
  });

  test("a forced kernel family the adapter cannot run is refused; 'auto', the tiled conv kernels and every matmul family match the CPU reference", async () => {
    const s0 = await demoState();
    const min = s0.adapter!.subgroupMinSize;
    await page.selectOption('#policy', 'subgroup');
    await page.click('#check');
    await waitFor('s.check !== null && s.busy === null', 120_000);
    const forced = (await demoState()).check!;
    if (min === null || min < 8) {
      // SwiftShader: 4-lane subgroups; the subgroup kernels' lane scheme needs 8.
      expect(forced.result).toBeNull();
      expect(forced.error).toMatch(/convForward 'subgroup' cannot run here: .*(subgroups of \d+ lanes|lacks the 'subgroups' feature)/);
      expect(await page.textContent('#check-out')).toMatch(/^refused: /);
      console.log(`forced 'subgroup' on ${min}-lane subgroups: ${forced.error}`);
    } else expect(forced.error).toBeNull();
    // The tiled implicit-GEMM family (workgroup memory, any adapter) forced, then 'auto'; r: the last ('auto').
    let r = forced;
    for (const policy of ['tiled', 'auto']) {
      await page.selectOption('#policy', policy);
      await page.click('#check');
      await waitFor('s.check !== null && s.busy === null', 120_000);
      r = (await demoState()).check!;
      expect(r.error).toBeNull();
      const c = r.result!;
      expect(c.policy.convForward).toBe(policy);
      console.log(`'${policy}' vs the CPU reference: ${(['convForward', 'convInputGrad', 'convWeightGrad', 'unetForward'] as const).map((k) => `${k} ${c[k]!.toExponential(2)} (scale ${c.scale[k]!.toFixed(2)})`).join(', ')}`);
      // float32 rounding of sums of 45 (forward), 63 (input grad) and 874 (weight grad) products of N(0, 1) values:
      // ~1e-6 of the largest value measured here; 1e-4 of it is the bound.
      for (const k of ['convForward', 'convInputGrad', 'convWeightGrad'] as const) {
        expect(c.scale[k]).toBeGreaterThan(1);
        expect(c[k]).toBeLessThanOrEqual(1e-4 * c.scale[k]!);
      }
      expect(c.scale.unetForward).toBeGreaterThan(0.1);
      expect(c.unetForward).toBeLessThanOrEqual(1e-3);
    }
    const c = r.result!;
    // Every matmul family on this adapter (SwiftShader here) against the CPU: linear's output and both gradients.
    console.log(`matmul families vs the CPU reference: ${Object.entries(r.result!.matmul).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')} (scale ${c.scale.matmul.toFixed(2)})`);
    expect(Object.keys(r.result!.matmul).sort()).toEqual(['portable', 'reg', 'tiled', 'vec4']);
    expect(c.scale.matmul).toBeGreaterThan(1);
    for (const [k, v] of Object.entries(r.result!.matmul)) expect(v, k).toBeLessThanOrEqual(1e-4 * c.scale.matmul);
  });

  test('segments the 512 x 512 ISBI example: a membrane map with the Dice of the checkpoint', async () => {
    await page.click('#use-example');
    // While the worker segments, the page keeps drawing: the longest of 10 frame gaps (logged, not asserted).
    await waitFor("s.busy === 'example' || (s.segment && s.segment.width === 512)");
    const gap = await page.evaluate(() => new Promise<number>((done) => {
      let last = performance.now(), worst = 0, n = 0;
      const tick = () => {
        const t = performance.now();
        worst = Math.max(worst, t - last);
        last = t;
        if (++n < 10) requestAnimationFrame(tick);
        else done(worst);
      };
      requestAnimationFrame(tick);
    }));
    const stillBusy = await page.evaluate(() => (window as unknown as { __demo: { busy: string | null } }).__demo.busy);
    console.log(`during segmentation (busy: ${stillBusy}): longest frame gap ${gap.toFixed(0)} ms`);
    await waitFor('s.segment && s.segment.width === 512 && s.busy === null', 120_000);
    const s = await demoState();
    expect(s.messages).toEqual([]);
    const seg = s.segment!;
    const label = decodeImage(readFileSync(join(ROOT, 'examples/isbi2012/labels/0.png')))[0]!;
    // Membrane (mask value 0) is class 1.
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < label.data.length; i++) {
      const p = seg.probs[i]! > 0.5, t = label.data[i] === 0;
      tp += +(p && t);
      fp += +(p && !t);
      fn += +(!p && t);
    }
    const dice = (2 * tp) / (2 * tp + fp + fn);
    console.log(`example 0.png (512 x 512): membrane Dice ${dice.toFixed(4)}; page timings ${JSON.stringify(Object.fromEntries(Object.entries(seg.timings).map(([k, v]) => [k, Math.round(v)])))}, ${seg.tiles} tile(s) of ${seg.tile}`);
    expect(dice).toBeGreaterThan(0.65);
    // Again, warm (pipelines compiled): the README's page timing.
    await page.click('#segment');
    await waitFor('s.segments >= 5 && s.busy === null', 120_000);
    const warm = (await demoState()).segment!;
    console.log(`example 0.png again (warm): page predict ${warm.timings.predictMs!.toFixed(0)} ms, worker total ${warm.timings.totalMs!.toFixed(0)} ms`);
    expect(warm.probs).toEqual(seg.probs);
    expect(await page.isEnabled('#download-mask')).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
    const mask = decodeImage(readFileSync((await download.path())!))[0]!;
    expect([mask.width, mask.height]).toEqual([512, 512]);
    expect(new Set(mask.data)).toEqual(new Set([0, 255]));
  });

  test('five fine-tuning steps on an image + mask lower the loss; the saved safetensors load in Node', async () => {
    const img = cropPng('examples/isbi2012/images/3.png', 96, 200, 64, 'ft.png');
    const mask = cropPng('examples/isbi2012/labels/3.png', 96, 200, 64, 'ft_mask.png');
    await page.setInputFiles('#ft-image', img);
    await page.setInputFiles('#ft-mask', mask);
    await page.fill('#ft-steps', '5');
    await page.selectOption('#ft-crop', '64');
    await page.fill('#ft-batch', '1');
    await page.fill('#ft-lr', '0.003');
    await page.click('#ft-start');
    await waitFor('s.fineTune && (s.fineTune.done || s.fineTune.error) && s.busy === null', 120_000);
    const ft = (await demoState()).fineTune!;
    expect(ft.error).toBeNull();
    console.log(`fine-tune losses in the page: ${ft.losses.map((l) => l.toFixed(4)).join(', ')}`);
    expect(ft.losses).toHaveLength(5);
    // One fixed 64 x 64 crop without augmentation: every step sees the same batch.
    expect(ft.losses[4]!).toBeLessThan(ft.losses[0]!);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ft-save')]);
    const bytes = readFileSync((await download.path())!);
    const ck = parseCheckpoint(nn.deserializeSafetensors(bytes, { device: cpuDevice() }), 'saved');
    const { model } = segModelFromCheckpoint(ck);
    expect(model.config.width).toBe(8);
    disposeCheckpoint(ck);
    model.dispose();
    // The page loads it back as its checkpoint.
    const saved = join(work, 'unet-finetuned.safetensors');
    writeFileSync(saved, bytes);
    await page.setInputFiles('#ckpt-file', saved);
    await page.waitForFunction(() => /^unet-finetuned\.safetensors: U-Net width 8/.test(document.getElementById('model-info')!.textContent ?? ''), null, { timeout: 30_000 });
    await waitIdle();
    expect((await demoState()).messages).toEqual([]);
  });

  test("tunes the conv kernels on this adapter, the next page takes the table from IndexedDB, 'Forget tuning' clears it", async () => {
    await waitIdle();
    expect((await demoState()).tuning).toMatchObject({ source: 'none', entries: [], storeError: null });
    // Small steps, to keep the test short: fine-tuning at 64 x 64 (batch 1, as set above), segmenting at a 64 tile.
    await page.selectOption('#tile', '64');
    await page.click('#tune');
    await waitFor("s.busy === null && s.tuning !== null && s.tuning.source !== 'none' || s.messages.length > 0", 300_000);
    const t = (await demoState()).tuning!;
    expect((await demoState()).messages, JSON.stringify(t)).toEqual([]);
    expect(t).toMatchObject({ source: 'measured', storeError: null });
    console.log(`tuned in the page: ${t.entries.map((e) => `${e.key} -> ${e.choice}`).join('; ')}`);
    // The U-Net's direct convs (first layer, up-convs, head; SwiftShader's 4-lane subgroups: no Winograd, no subgroup
    // family), each bucket's candidates timed and the fastest chosen.
    expect(t.entries.length).toBeGreaterThan(3);
    for (const e of t.entries) {
      expect(e.key).toMatch(/^conv_(fwd [DT]|wgrad) k\d+x\d+ /);
      expect(Object.keys(e.ms).sort()).toEqual(['portable', 'tiled']);
      expect(e.ms[e.choice]).toBe(Math.min(...Object.values(e.ms)));
    }
    expect(await page.textContent('#tune-info')).toMatch(new RegExp(`^${t.entries.length} shape bucket\\(s\\) measured now and kept in this browser`));
    // A new page of the same browser profile: the table is read back and applied at start.
    const p2 = await ctx.newPage();
    await p2.goto(url);
    await p2.waitForFunction(() => (window as unknown as { __demo: { phase: string } }).__demo.phase !== 'init', null, { timeout: 90_000 });
    const cached = await p2.evaluate(() => (window as unknown as { __demo: { tuning: unknown } }).__demo.tuning) as typeof t;
    expect(cached).toEqual({ ...t, source: 'cache' });
    expect(await p2.textContent('#tune-info')).toMatch(/shape bucket\(s\) from this browser's cache/);
    await p2.close();
    await page.click('#untune');
    await waitFor("s.busy === null && s.tuning.source === 'none'", 30_000);
    const p3 = await ctx.newPage();
    await p3.goto(url);
    await p3.waitForFunction(() => (window as unknown as { __demo: { phase: string } }).__demo.phase !== 'init', null, { timeout: 90_000 });
    expect(await p3.evaluate(() => (window as unknown as { __demo: { tuning: { source: string } } }).__demo.tuning.source)).toBe('none');
    await p3.close();
    expect((await demoState()).messages).toEqual([]);
  }, 420_000);

  test('a screenshot of the page is saved as a test artifact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'browser-demo.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
    expect(decodeImage(readFileSync(path))[0]!.width).toBeGreaterThan(600);
    expect(pageErrors).toEqual([]);
  });
});
