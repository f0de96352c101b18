// The shader set: the committed embedded module is fresh, shaders/ and the kernel registry cover each other
// exactly (a lib file counts as used when some kernel's shader includes it), every kernel in KERNELS compiles on
// the device (a kernel with a WGSL error fails here), and so does every lib file alone.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GEN_FILE, renderShadersModule, SHADER_DIR, SHADER_LIB_DIR } from '../../scripts/embed_shaders.js';
import { KERNELS, SHADERS, type KernelSpec } from '../../src/index.js';
import { resolveIncludes } from '../../src/kernels/shader_source.js';
import { SHADER_LIB } from '../../src/kernels/shaders.gen.js';
import { gpuSuite } from '../helpers/gpu.js';

const { skip, dev } = await gpuSuite();

const files = readdirSync(SHADER_DIR)
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => f.slice(0, -5))
  .sort();
const libFiles = readdirSync(SHADER_LIB_DIR)
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => `lib/${f.slice(0, -5)}`)
  .sort();
const kernels = Object.values(KERNELS as Record<string, KernelSpec>);

describe('embedded shaders', () => {
  test('src/kernels/shaders.gen.ts is fresh (run `npm run shaders` when this fails)', () => {
    expect(readFileSync(GEN_FILE, 'utf8') === renderShadersModule(), 'shaders.gen.ts differs from shaders/*.wgsl').toBe(true);
    expect(Object.keys(SHADERS).sort()).toEqual(files);
    expect(Object.keys(SHADER_LIB).sort()).toEqual(libFiles);
  });

  test('every shader file is used by at least one kernel (a lib file by being included)', () => {
    const used = new Set<string>(kernels.map((k) => k.shader));
    for (const k of kernels) for (const inc of resolveIncludes(k.shader).includes) used.add(inc);
    expect([...files, ...libFiles].filter((f) => !used.has(f)), 'unused shaders').toEqual([]);
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

  test('every lib file starts with a header comment and declares no entry point', () => {
    for (const f of libFiles) {
      const src = readFileSync(join(SHADER_DIR, `${f}.wgsl`), 'utf8');
      expect(src.startsWith('//'), `${f}.wgsl header`).toBe(true);
      expect(src, `${f}.wgsl`).not.toMatch(/@compute/);
      expect(src, `${f}.wgsl has no \${} templating`).not.toContain('${');
    }
  });
});

describe.skipIf(skip)('every lib file compiles alone on the device', () => {
  test.each(libFiles)('%s', async (name) => {
    const module = dev.device.createShaderModule({ code: resolveIncludes(name).code, label: name });
    const errs = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    expect(errs.map((m) => `${name}.wgsl ${m.lineNum}:${m.linePos} ${m.message}`)).toEqual([]);
  });
});

describe.skipIf(skip)('every kernel compiles on the device', () => {
  test.each(kernels.map((k) => [k.name, k] as const))('%s', async (_name, spec) => {
    await dev.pipelines.check(spec, spec.constants);
  });
});
