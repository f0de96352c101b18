// `// #include "lib/NAME.wgsl"`: expansion (once per file, recursively), errors that name the file (missing file,
// cycle, a path outside shaders/lib), and run-time overrides of a lib file reaching every kernel that includes it
// through the pipeline cache (keyed by source version, modules by source text).
import { afterEach, describe, expect, test } from 'vitest';
import { KERNELS, ShaderCompileError, type KernelSpec } from '../../src/index.js';
import { PipelineCache } from '../../src/kernels/runtime/pipelines.js';
import { clearShaderOverrides, overrideShader, resolveIncludes, shaderFileText, shaderSource } from '../../src/kernels/shader_source.js';
import { SHADER_LIB } from '../../src/kernels/shaders.gen.js';
import { gpuSuite } from '../helpers/gpu.js';

const files = (m: Record<string, string>) => (f: string) => m[f];

describe('resolveIncludes', () => {
  test('expands includes recursively, each file once, between marker lines', () => {
    const r = resolveIncludes(
      'k',
      files({
        k: '// k\n// #include "lib/a.wgsl"\n  //  #include   "lib/b.wgsl"  \nfn main() {}\n',
        'lib/a': '// a\n// #include "lib/c.wgsl"\nfn a() {}\n',
        'lib/b': '// b\n// #include "lib/c.wgsl"\nfn b() {}\n',
        'lib/c': 'fn c() {}\n',
      }),
    );
    expect(r.includes).toEqual(['lib/a', 'lib/c', 'lib/b']);
    expect(r.code).toBe(
      [
        '// k',
        '// >>> lib/a.wgsl', '// a', '// >>> lib/c.wgsl', 'fn c() {}', '// <<< lib/c.wgsl', 'fn a() {}', '// <<< lib/a.wgsl',
        '// >>> lib/b.wgsl', '// b', '// (lib/c.wgsl already included above)', 'fn b() {}', '// <<< lib/b.wgsl',
        'fn main() {}', '',
      ].join('\n'),
    );
  });

  test('a missing file is an error naming the including file and line', () => {
    const run = () => resolveIncludes('k', files({ k: 'fn f() {}\n// #include "lib/nope.wgsl"\n' }));
    expect(run).toThrow(ShaderCompileError);
    expect(run).toThrow(/k\.wgsl: shader failed to compile:\n {2}2:1 #include "lib\/nope\.wgsl": no such file/);
  });

  test('a cycle is an error that shows it', () => {
    const read = files({ k: '// #include "lib/a.wgsl"\n', 'lib/a': '// #include "lib/b.wgsl"\n', 'lib/b': '\n// #include "lib/a.wgsl"\n' });
    expect(() => resolveIncludes('k', read)).toThrow(/lib\/b\.wgsl: .*\n {2}2:1 #include "lib\/a\.wgsl" makes a cycle: k\.wgsl -> lib\/a\.wgsl -> lib\/b\.wgsl -> lib\/a\.wgsl/);
    expect(() => resolveIncludes('lib/a', files({ 'lib/a': '// #include "lib/a.wgsl"\n' }))).toThrow(/makes a cycle: lib\/a\.wgsl -> lib\/a\.wgsl/);
  });

  test('only shaders/lib files are included', () => {
    expect(() => resolveIncludes('k', files({ k: '// #include "conv2d_fwd.wgsl"\n', conv2d_fwd: '' }))).toThrow(/only files of shaders\/lib\//);
    expect(() => resolveIncludes('k', files({ k: '// #include "lib/../x.wgsl"\n' }))).toThrow(/only files of shaders\/lib\//);
  });
});

const { skip, dev } = await gpuSuite();
afterEach(() => clearShaderOverrides());

describe('overriding a lib file', () => {
  const lib = 'lib/batchnorm_apply' as keyof typeof SHADER_LIB;
  const users = Object.values(KERNELS as Record<string, KernelSpec>).filter((k) => resolveIncludes(k.shader).includes.includes(lib));

  test('reaches every kernel that includes it, and only those', () => {
    expect(users.map((k) => k.name).sort()).toEqual(
      ['batchnorm2d_bwd_dx', 'batchnorm2d_bwd_dx_vec4', 'batchnorm2d_bwd_reduce', 'batchnorm2d_bwd_reduce_vec4', 'batchnorm2d_fwd', 'batchnorm2d_fwd_vec4'],
    );
    overrideShader(lib, `${shaderFileText(lib)}\n// edited in the kernel lab\n`);
    for (const k of users) expect(shaderSource(k.shader), k.name).toContain('// edited in the kernel lab');
    expect(shaderSource('conv2d_fwd')).not.toContain('// edited in the kernel lab');
    clearShaderOverrides();
    for (const k of users) expect(shaderSource(k.shader), k.name).not.toContain('// edited in the kernel lab');
  });

  test('an unknown lib name is refused', () => {
    expect(() => overrideShader('lib/nope' as never, '')).toThrow(/no shader named 'lib\/nope'/);
  });

  test.skipIf(skip)('rebuilds the pipelines that include it (the cache is keyed by source version)', () => {
    const spec = KERNELS.batchnorm2d_fwd as KernelSpec;
    const cache = new PipelineCache(dev.device, (e) => {
      throw e;
    });
    const before = cache.get(spec, spec.constants);
    expect(cache.get(spec, spec.constants)).toBe(before);
    overrideShader(lib, `${shaderFileText(lib)}\n// edited\n`);
    const after = cache.get(spec, spec.constants);
    expect(after).not.toBe(before);
    expect(cache.source(spec)).toContain('// edited');
    expect(cache.compiled).toBe(2);
  });
});
