import { ShaderCompileError } from '../../core/errors.js';
import type { Constants, KernelSpec } from '../define_kernel.js';
import { applySlots, shaderOverridesVersion, shaderSource } from '../shader_source.js';

export interface PipelineEntry {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** WebGPU takes override values as numbers: booleans become 1 / 0. */
function numeric(c: Constants): Record<string, number> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === 'boolean' ? +v : v]));
}

/** Storage reads, then writes, then one uniform Params struct (when the spec has params). */
function layoutEntries(spec: KernelSpec): GPUBindGroupLayoutEntry[] {
  const entries: GPUBindGroupLayoutEntry[] = [];
  let i = 0;
  for (const _ of Object.keys(spec.reads)) entries.push({ binding: i++, visibility: 4, buffer: { type: 'read-only-storage' } });
  for (const _ of Object.keys(spec.writes)) entries.push({ binding: i++, visibility: 4, buffer: { type: 'storage' } });
  if (Object.keys(spec.params).length) entries.push({ binding: i++, visibility: 4, buffer: { type: 'uniform' } });
  return entries;
}

/** Shader modules keyed by source text, pipelines keyed by kernel + constants (shapes never recompile). */
export class PipelineCache {
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly #pipelines = new Map<string, PipelineEntry>();
  readonly #layouts = new Map<string, GPUBindGroupLayout>();
  compiled = 0;

  constructor(private readonly device: GPUDevice, private readonly onError: (e: Error) => void) {}

  static key(spec: KernelSpec, constants: Constants): string {
    const c = Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`).join(',');
    return `${spec.shader}|${spec.slots ? JSON.stringify(spec.slots) : ''}|${c}|v${shaderOverridesVersion()}`;
  }

  source(spec: KernelSpec): string {
    return applySlots(spec.name, shaderSource(spec.shader), spec.slots);
  }

  get(spec: KernelSpec, constants: Constants): PipelineEntry {
    const key = PipelineCache.key(spec, constants);
    const hit = this.#pipelines.get(key);
    if (hit) return hit;
    const code = this.source(spec);
    let module = this.#modules.get(code);
    if (!module) {
      module = this.device.createShaderModule({ code, label: spec.shader });
      this.#modules.set(code, module);
      // Compilation messages arrive asynchronously; errors are rethrown at the next sync point.
      void module.getCompilationInfo().then((info) => {
        const errs = info.messages.filter((m) => m.type === 'error');
        if (errs.length) this.onError(new ShaderCompileError(spec.name, errs.map((m) => ({ line: m.lineNum, col: m.linePos, text: m.message }))));
      });
    }
    const entries = layoutEntries(spec);
    const lkey = JSON.stringify(entries);
    let layout = this.#layouts.get(lkey);
    if (!layout) this.#layouts.set(lkey, (layout = this.device.createBindGroupLayout({ entries })));
    const pipeline = this.device.createComputePipeline({
      label: spec.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main', constants: numeric(constants) },
    });
    this.compiled++;
    const entry = { pipeline, layout };
    this.#pipelines.set(key, entry);
    return entry;
  }

  /** Builds a pipeline and waits for the verdict: ShaderCompileError on any compile or validation error. */
  async check(spec: KernelSpec, constants: Constants): Promise<void> {
    const code = this.source(spec);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: spec.shader });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === 'error');
    const layout = this.device.createBindGroupLayout({ entries: layoutEntries(spec) });
    this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main', constants: numeric(constants) },
    });
    const err = await this.device.popErrorScope();
    if (errs.length) throw new ShaderCompileError(spec.name, errs.map((m) => ({ line: m.lineNum, col: m.linePos, text: m.message })));
    if (err) throw new ShaderCompileError(spec.name, [{ line: 0, col: 0, text: err.message }]);
  }
}
