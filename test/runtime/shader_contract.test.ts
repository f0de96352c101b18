// The binding contract between each kernel spec and its WGSL (after include expansion and slots): @binding 0.. are
// the spec's `reads` keys then its `writes` keys, in key order, with the same variable names, bound
// var<storage, read> for reads and var<storage, read_write> for writes; then (when the spec has params) one
// var<uniform> of struct Params whose fields are the spec's params keys and ParamTypes, in order. The runtime binds
// by position (pipelines.ts), so a mismatch here is a kernel reading the wrong buffer or the wrong uniform field.
import { describe, expect, test } from 'vitest';
import { KERNELS, type KernelSpec } from '../../src/index.js';
import { applySlots, shaderSource } from '../../src/kernels/shader_source.js';

interface Binding {
  readonly index: number;
  readonly space: string;
  readonly name: string;
  readonly type: string;
}

/** WGSL with comments removed (line comments only: the shaders use no block comments). */
const stripComments = (src: string) => src.replace(/\/\/[^\n]*/g, '');

function bindings(src: string): Binding[] {
  const re = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*([^>]*?)\s*>\s*(\w+)\s*:\s*([^;]+?)\s*;/g;
  return [...stripComments(src).matchAll(re)].map((m) => ({ index: +m[1]!, space: m[2]!.replace(/\s+/g, ''), name: m[3]!, type: m[4]! }));
}

function structFields(src: string, name: string): [string, string][] | null {
  const m = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(stripComments(src));
  if (!m) return null;
  return m[1]!
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => {
      const [n, t] = f.split(':').map((s) => s.trim());
      return [n!, t!];
    });
}

/** Every way the WGSL `src` breaks `spec`'s binding contract (empty when it keeps it). */
export function contractProblems(spec: KernelSpec, src: string): string[] {
  const problems: string[] = [];
  const bs = bindings(src).sort((a, b) => a.index - b.index);
  const want = [
    ...Object.keys(spec.reads).map((name) => ({ name, space: 'storage,read' })),
    ...Object.keys(spec.writes).map((name) => ({ name, space: 'storage,read_write' })),
  ];
  const hasParams = Object.keys(spec.params).length > 0;
  const total = want.length + (hasParams ? 1 : 0);
  bs.forEach((b, i) => {
    if (b.index !== i) problems.push(`@binding(${b.index}) ${b.name}: bindings must be numbered 0.. without gaps or repeats`);
  });
  if (bs.length !== total) problems.push(`${bs.length} bindings, the spec has ${want.length} buffers${hasParams ? ' + Params' : ''}: [${bs.map((b) => b.name).join(', ')}]`);
  want.forEach((w, i) => {
    const b = bs[i];
    if (!b) return;
    if (b.name !== w.name) problems.push(`@binding(${i}) is '${b.name}', the spec's ${i < Object.keys(spec.reads).length ? 'reads' : 'writes'} key is '${w.name}'`);
    if (b.space !== w.space) problems.push(`@binding(${i}) ${b.name} is var<${b.space}>, want var<${w.space}>`);
  });
  if (hasParams) {
    const u = bs[want.length];
    if (u && (u.space !== 'uniform' || u.type !== 'Params')) problems.push(`@binding(${want.length}) ${u.name} is var<${u.space}> ${u.type}, want var<uniform> of Params`);
    const fields = structFields(src, 'Params');
    const wantFields = Object.entries(spec.params);
    if (!fields) problems.push('no struct Params');
    else if (JSON.stringify(fields) !== JSON.stringify(wantFields))
      problems.push(`struct Params { ${fields.map(([n, t]) => `${n}: ${t}`).join(', ')} }, the spec's params are { ${wantFields.map(([n, t]) => `${n}: ${t}`).join(', ')} }`);
  }
  return problems;
}

const kernels = Object.values(KERNELS as Record<string, KernelSpec>);
const sourceOf = (spec: KernelSpec) => applySlots(spec.name, shaderSource(spec.shader), spec.slots);

describe('every kernel keeps its binding contract (reads, writes, Params)', () => {
  test.each(kernels.map((k) => [k.name, k] as const))('%s', (_name, spec) => {
    expect(contractProblems(spec, sourceOf(spec))).toEqual([]);
  });
});

describe('the contract check reports a broken contract', () => {
  const spec = KERNELS.batchnorm2d_fwd as KernelSpec;
  const src = sourceOf(spec);
  test('swapped reads keys', () => {
    const [a, b, ...rest] = Object.entries(spec.reads);
    const wrong = { ...spec, reads: Object.fromEntries([b!, a!, ...rest]) } as KernelSpec;
    expect(contractProblems(wrong, src).join('\n')).toMatch(/@binding\(0\) is 'x', the spec's reads key is 'mean'/);
  });
  test('a write bound read-only, a missing buffer', () => {
    const wrong = { ...spec, reads: { ...spec.reads, extra: 'f32' } } as KernelSpec;
    expect(contractProblems(wrong, src).join('\n')).toMatch(/7 bindings, the spec has 7 buffers \+ Params/);
    expect(contractProblems(wrong, src).join('\n')).toMatch(/@binding\(5\) y is var<storage,read_write>, want var<storage,read>/);
  });
  test('params in another order, or of another type', () => {
    const [a, b, ...rest] = Object.entries(spec.params);
    expect(contractProblems({ ...spec, params: Object.fromEntries([b!, a!, ...rest]) } as KernelSpec, src).join('\n')).toMatch(/struct Params/);
    expect(contractProblems({ ...spec, params: { ...spec.params, n: 'i32' } } as KernelSpec, src).join('\n')).toMatch(/struct Params/);
  });
});
