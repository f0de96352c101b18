// The shader set: the committed embedded module is fresh, shaders/ and the kernel registry cover each other
// exactly, and every kernel in KERNELS compiles on the device (a kernel with a WGSL error fails here).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GEN_FILE, renderShadersModule, SHADER_DIR } from '../../scripts/embed_shaders.js';
import { KERNELS, SHADERS, type KernelSpec } from '../../src/index.js';
import { gpuSuite } from '../helpers/gpu.js';

const { skip, dev } = await gpuSuite();

const files = readdirSync(SHADER_DIR)
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => f.slice(0, -5))
  .sort();
const kernels = Object.values(KERNELS as Record<string, KernelSpec>);

describe('embedded shaders', () => {
  test('src/kernels/shaders.gen.ts is fresh (run `npm run shaders` when this fails)', () => {
    expect(readFileSync(GEN_FILE, 'utf8') === renderShadersModule(), 'shaders.gen.ts differs from shaders/*.wgsl').toBe(true);
    expect(Object.keys(SHADERS).sort()).toEqual(files);
  });

  test('every shader file is used by at least one kernel', () => {
    const used = new Set(kernels.map((k) => k.shader));
    expect(files.filter((f) => !used.has(f as KernelSpec['shader'])), 'unused shaders').toEqual([]);
  });

  test("every kernel's shader file exists, and the registry key is the kernel's name", () => {
    for (const [key, k] of Object.entries(KERNELS as Record<string, KernelSpec>)) {
      expect(files, `kernel ${key}`).toContain(k.shader);
      expect(k.name).toBe(key);
      expect(k.name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    }
  });

  test('every shader starts with a header comment and has an entry point main', () => {
    for (const f of files) {
      const src = readFileSync(join(SHADER_DIR, `${f}.wgsl`), 'utf8');
      expect(src.startsWith('//'), `${f}.wgsl header`).toBe(true);
      expect(src, `${f}.wgsl`).toMatch(/fn main\s*\(/);
      expect(src, `${f}.wgsl has no \${} templating`).not.toContain('${');
    }
  });
});

describe.skipIf(skip)('every kernel compiles on the device', () => {
  test.each(kernels.map((k) => [k.name, k] as const))('%s', async (_name, spec) => {
    await dev.pipelines.check(spec, spec.constants);
  });
});
