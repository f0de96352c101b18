// The built package (dist/, from `npm run build`): plain Node ESM resolves 'unet-webgpu' and 'unet-webgpu/node'
// through the exports map (package self-reference) and computes; the browser entry's import graph reaches
// no Node built-in and not Dawn's 'webgpu'.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { allowNoGpu } from '../helpers/gpu.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');

/** Newest modification time of the .ts files under dir. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` builds here when dist/ is missing or older than src/.
  const built = join(DIST, 'index.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (!existsSync(built)) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}, 120_000);

/** Runs an ES module (source text) with plain node from inside the package, so the exports map applies. */
function runModule(code: string): string {
  const file = join(ROOT, `.pkg-test-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, code);
  try {
    return execFileSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(file, { force: true });
  }
}

describe('the built package', () => {
  test("import 'unet-webgpu' by self-reference: CPU device, tensors, an op, a gradient", () => {
    const out = runModule(`
      import { cpuDevice, tensor, F, ShapeError, KERNELS } from 'unet-webgpu';
      const dev = cpuDevice();
      const a = tensor([1, 2, 3], [3], { device: dev, requiresGrad: true });
      const b = tensor([10, 20, 30], [3], { device: dev });
      const c = F.add(a, b);
      F.sum(F.mul(c, c)).backward();
      console.log(JSON.stringify({ c: [...(await c.toArray())], g: [...(await a.grad.toArray())], shapeError: typeof ShapeError, kernels: 'matmul' in KERNELS }));
    `);
    expect(JSON.parse(out.trim())).toEqual({ c: [11, 22, 33], g: [22, 44, 66], shapeError: 'function', kernels: true });
  });

  test("import 'unet-webgpu/node': re-exports the main entry, opens Dawn, computes on the GPU", () => {
    const out = runModule(`
      import { openNodeDevice, loadShaderDir, tensor, F } from 'unet-webgpu/node';
      import * as main from 'unet-webgpu';
      const same = main.tensor === tensor;
      let gpu = 'skipped';
      try {
        const dev = await openNodeDevice({ setDefault: false });
        const x = tensor([1, -2, 3, -4], [4], { device: dev });
        gpu = [...(await F.relu(F.mul(x, 2)).toArray())];
        await dev.destroy();
      } catch (e) {
        if (!${allowNoGpu}) throw e;
      }
      console.log(JSON.stringify({ same, loadShaderDir: typeof loadShaderDir, gpu }));
    `);
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.same).toBe(true);
    expect(r.loadShaderDir).toBe('function');
    if (!allowNoGpu) expect(r.gpu).toEqual([2, 0, 6, 0]);
  });

  test("dist/index.js's import graph reaches no 'node:' module, Node built-in or 'webgpu'", () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      const specs = [
        ...src.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g),
        ...src.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g),
        ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]!);
      for (const s of specs) {
        if (s.startsWith('.')) walk(resolve(dirname(file), s));
        else external.add(s);
      }
    };
    walk(join(DIST, 'index.js'));
    expect(seen.size).toBeGreaterThan(10); // the walk really followed the graph
    const bad = [...external].filter((s) => s.startsWith('node:') || s === 'webgpu' || s.startsWith('webgpu/') || builtinModules.includes(s));
    expect(bad, `reached from ${[...seen].length} modules`).toEqual([]);
    // And the node entry does reach Dawn (the walk would see it): a check on the check.
    seen.clear();
    external.clear();
    walk(join(DIST, 'node.js'));
    expect([...external]).toContain('webgpu');
    expect([...external]).toContain('node:fs');
  });
  test("esbuild bundles 'unet-webgpu' for browsers from the exports map (the README's recipe)", async () => {
    const file = join(ROOT, `.pkg-bundle-${process.pid}.mjs`);
    writeFileSync(file, "import { openDevice, UNet, predictTiled } from 'unet-webgpu';\nexport const run = async () => predictTiled(new UNet({ width: 8 }), { width: 1, height: 1, channels: 1, data: [0] }, { tile: 16 }).then(() => openDevice());\n");
    try {
      // platform 'browser': a Node built-in anywhere in the graph fails the build.
      const r = await build({ entryPoints: [file], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, metafile: true, logLevel: 'silent', tsconfigRaw: '{}' });
      const js = r.outputFiles[0]!.contents;
      const inputs = Object.keys(r.metafile.inputs);
      expect(inputs.some((i) => i.startsWith('dist/'))).toBe(true); // resolved through the exports map, to dist/
      expect(inputs.filter((i) => i.includes('webgpu/') && i.includes('node_modules'))).toEqual([]);
      console.log(`browser bundle of openDevice + UNet + predictTiled: ${(js.byteLength / 1024).toFixed(0)} KB, ${(gzipSync(js, { level: 9 }).length / 1024).toFixed(0)} KB gzipped`);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

