// What is known of each kernel lives on its spec: every kernel says what it computes, how close its GPU output must
// be to its reference, and which source group it belongs to; a variant keeps its family's facts unless it says
// otherwise. No GPU.
import { expect, test } from 'vitest';
import { getKernel, KERNELS, type KernelSpec } from '../../src/index.js';
import { kernelGroup } from '../../src/kernels/index.js';

const SPECS = Object.values(KERNELS as Record<string, KernelSpec>);

/** Params of `spec` all set to `v` (enough to evaluate a tolerance, which reads sizes only). */
const paramsOf = (spec: KernelSpec, v = 7) => Object.fromEntries(Object.keys(spec.params).map((k) => [k, v]));

test('every kernel has a one-line description, a tolerance and a source group', () => {
  for (const k of SPECS) {
    expect(typeof k.description === 'string' && k.description.length > 10 && !k.description.includes('\n'), `${k.name} description`).toBe(true);
    expect(typeof k.tolerance, `${k.name} tolerance`).toBe('function');
    const t = k.tolerance(paramsOf(k), k.constants);
    if (t !== 'exact') expect(Number.isFinite(t.k) && t.k >= 1, `${k.name} tolerance k = ${t.k}`).toBe(true);
    expect(kernelGroup(k.name), k.name).toBe(k.group);
    expect(k.group, `${k.name} has no group`).toBeTruthy();
  }
});

test('a variant has the tolerance of its family (the drift of the old central table stays fixed)', () => {
  expect(getKernel('maxpool2d_bwd_k2s2').tolerance(paramsOf(getKernel('maxpool2d_bwd_k2s2')), {})).toBe('exact');
  for (const name of ['batchnorm2d_stats', 'batchnorm2d_fwd', 'batchnorm2d_bwd_reduce', 'batchnorm2d_bwd_dx']) {
    const [base, vec4] = [getKernel(name), getKernel(`${name}_vec4`)];
    expect(vec4.family).toBe(name);
    expect(vec4.tolerance(paramsOf(vec4), vec4.constants), vec4.name).toEqual(base.tolerance(paramsOf(base), base.constants));
  }
  expect(getKernel('batchnorm2d_stats_vec4').tolerance({ chunk: 100 }, {})).toEqual({ k: 200, loose: false });
  // Every family with a kernel of its name: each member checks to that kernel's tolerance and in its group.
  for (const k of SPECS) {
    const base = k.family && k.family !== k.name ? (KERNELS as Record<string, KernelSpec>)[k.family] : undefined;
    if (!base) continue;
    expect(k.tolerance(paramsOf(k), k.constants), `${k.name} vs ${base.name}`).toEqual(base.tolerance(paramsOf(base), base.constants));
    expect(k.group, k.name).toBe(base.group);
  }
});

test('the source groups are the files the kernels are defined in (Winograd counts as conv)', () => {
  const groups = [...new Set(SPECS.map((k) => k.group))].sort();
  expect(groups).toEqual(['batch_norm', 'conv', 'elementwise', 'lab', 'loss', 'matmul', 'movement', 'optim', 'pool', 'reduce', 'softmax']);
  expect(kernelGroup('winograd_gemm')).toBe('conv');
  expect(kernelGroup('no_such_kernel')).toBe('other');
});
