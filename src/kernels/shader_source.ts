import { ArgumentError, ShaderCompileError } from '../core/errors.js';
import type { Slots } from './define_kernel.js';
import { SHADER_LIB, SHADERS, type ShaderLibName, type ShaderName } from './shaders.gen.js';

/** A shader file as named below shaders/ without .wgsl: a kernel's (`conv2d_fwd`) or an included one (`lib/batchnorm`). */
export type ShaderFile = ShaderName | ShaderLibName;

/** Sources that replace the embedded ones (a researcher's edited kernel or lib file, loaded at run time). */
const overrides = new Map<string, string>();
let version = 0;

const embedded = (name: string): string | undefined =>
  Object.hasOwn(SHADERS, name) ? SHADERS[name as ShaderName] : Object.hasOwn(SHADER_LIB, name) ? SHADER_LIB[name as ShaderLibName] : undefined;

/**
 * Replaces the WGSL of one shader file for every pipeline built afterwards (pipelines are keyed by source): a kernel
 * file, or a lib file (`lib/NAME`), which then changes every kernel that includes it.
 */
export function overrideShader(name: ShaderFile, code: string): void {
  if (embedded(name) === undefined) {
    const known = [...Object.keys(SHADERS), ...Object.keys(SHADER_LIB)].join(', ');
    throw new ArgumentError('overrideShader', `no shader named '${name}' (known: ${known})`);
  }
  overrides.set(name, code);
  version++;
}

/** Drops every override: the embedded sources are used again. */
export function clearShaderOverrides(): void {
  overrides.clear();
  version++;
}

export function shaderOverridesVersion(): number {
  return version;
}

/** The text of one shader file as written (includes not expanded), with any override applied. */
export function shaderFileText(name: string): string | undefined {
  return overrides.get(name) ?? embedded(name);
}

/** `// #include "lib/NAME.wgsl"` on a line of its own; the path is relative to shaders/. */
const INCLUDE = /^[ \t]*\/\/[ \t]*#include[ \t]+"([^"]*)"[ \t]*$/;

/** A shader's source with its includes expanded, and the lib files it pulled in (transitively, in include order). */
export interface ResolvedShader {
  readonly code: string;
  readonly includes: readonly string[];
}

/**
 * Expands every `// #include "lib/NAME.wgsl"` line of shader file `name` (recursively) into the included file's
 * text between `// >>> lib/NAME.wgsl` and `// <<< lib/NAME.wgsl` marker lines. A file is pulled in once: a later
 * include of it is dropped (two lib files may include a third). A missing file or an include cycle is a
 * ShaderCompileError naming the including file, its line, and the cycle. `read` gives a file's text (tests pass
 * their own); paths are relative to shaders/.
 */
export function resolveIncludes(name: string, read: (file: string) => string | undefined = shaderFileText): ResolvedShader {
  const includes: string[] = [];
  const done = new Set<string>();
  const expand = (file: string, stack: readonly string[]): string => {
    const text = read(file);
    if (text === undefined) throw new ShaderCompileError(`${file}.wgsl`, [{ line: 0, col: 0, text: 'no such shader file' }]);
    return text
      .split('\n')
      .map((line, i) => {
        const m = INCLUDE.exec(line);
        if (!m) return line;
        const where = (text: string) => new ShaderCompileError(`${file}.wgsl`, [{ line: i + 1, col: 1, text }]);
        const path = m[1]!;
        if (!/^lib\/[\w/-]+\.wgsl$/.test(path)) throw where(`#include "${path}": only files of shaders/lib/ are included, as "lib/NAME.wgsl"`);
        const inc = path.slice(0, -5);
        if (stack.includes(inc)) throw where(`#include "${path}" makes a cycle: ${[...stack, inc].map((f) => `${f}.wgsl`).join(' -> ')}`);
        if (read(inc) === undefined) {
          const known = Object.keys(SHADER_LIB).map((f) => `${f}.wgsl`).join(', ') || 'none';
          throw where(`#include "${path}": no such file (shaders/lib has: ${known})`);
        }
        if (done.has(inc)) return `// (${path} already included above)`;
        done.add(inc);
        includes.push(inc);
        return `// >>> ${path}\n${expand(inc, [...stack, inc]).replace(/\n$/, '')}\n// <<< ${path}`;
      })
      .join('\n');
  };
  return { code: expand(name, [name]), includes };
}

/** The WGSL text of a shader file, with any overrides applied (its own and its includes') and includes expanded. */
export function shaderSource(name: ShaderFile): string {
  return resolveIncludes(name).code;
}

/**
 * Replaces the one-line body of each `// @slot NAME`-marked function: the line after the marker must read
 * `fn NAME(...) -> T { return EXPR; }`, and EXPR becomes the slot's expression.
 */
export function applySlots(kernel: string, src: string, slots: Slots | undefined): string {
  if (!slots) return src;
  let out = src;
  for (const [name, expr] of Object.entries(slots)) {
    const re = new RegExp(`(// @slot ${name}\\s*\\n\\s*fn ${name}\\([^)]*\\)\\s*->\\s*\\w+\\s*\\{\\s*return\\s+)[^;]*(;\\s*\\})`);
    if (!re.test(out)) throw new ArgumentError(kernel, `shader has no '// @slot ${name}' one-line function to fill`);
    out = out.replace(re, (_m, a: string, b: string) => `${a}${expr}${b}`);
  }
  return out;
}
