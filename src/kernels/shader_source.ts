import { ArgumentError } from '../core/errors.js';
import type { Slots } from './define_kernel.js';
import { SHADERS, type ShaderName } from './shaders.gen.js';

/** Sources that replace the embedded ones (a researcher's edited kernel, loaded at run time). */
const overrides = new Map<string, string>();
let version = 0;

/** Replaces the WGSL of one shader file for every device opened afterwards (pipelines are keyed by source). */
export function overrideShader(name: ShaderName, code: string): void {
  if (!(name in SHADERS)) throw new ArgumentError('overrideShader', `no shader named '${name}' (known: ${Object.keys(SHADERS).join(', ')})`);
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

/** The WGSL text of a shader file, with any override applied. */
export function shaderSource(name: ShaderName): string {
  return overrides.get(name) ?? SHADERS[name];
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
