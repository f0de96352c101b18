import type { Backend, KernelSpec, NumArray, Storage } from '../../src/index.js';
import type { Constants } from '../../src/kernels/define_kernel.js';

export interface KernelRun {
  reads: Record<string, ArrayLike<number>>;
  /** Sizes of the write bindings; in-place writes take their initial data from `init`. */
  writes: Record<string, number>;
  init?: Record<string, ArrayLike<number>>;
  params: Record<string, number>;
  constants?: Constants;
}

const POISON_F32 = NaN;
const POISON_INT = 0xdeadbeef;

/**
 * Runs one kernel on a device with its writes poisoned first (NaN, or 0xdeadbeef for integers), so an
 * element the kernel forgets to write can never pass as correct. Returns the writes read back.
 */
export async function runKernel(dev: Backend, spec: KernelSpec, run: KernelRun): Promise<Record<string, NumArray>> {
  const reads = Object.entries(spec.reads).map(([k, dt]): [string, Storage] => {
    const data = run.reads[k];
    if (!data) throw new Error(`runKernel(${spec.name}): missing read '${k}'`);
    const s = dev.alloc(data.length, dt);
    dev.upload(s, data);
    return [k, s];
  });
  const writes = Object.entries(spec.writes).map(([k, dt]): [string, Storage] => {
    const n = run.writes[k];
    if (n === undefined) throw new Error(`runKernel(${spec.name}): missing write size '${k}'`);
    const s = dev.alloc(n, dt);
    const init = run.init?.[k];
    dev.upload(s, init ?? new Array<number>(n).fill(dt === 'f32' ? POISON_F32 : POISON_INT));
    return [k, s];
  });
  dev.run(spec, Object.fromEntries(reads), Object.fromEntries(writes), run.params, { constants: run.constants });
  const out: Record<string, NumArray> = {};
  for (const [k, s] of writes) out[k] = await dev.download(s);
  for (const [, s] of [...reads, ...writes]) dev.free(s);
  return out;
}

const absOf = (m: Readonly<Record<string, ArrayLike<number>>>) => Object.fromEntries(Object.entries(m).map(([k, a]) => [k, Float64Array.from(a, Math.abs)]));

/**
 * Each write's sum of |terms|: the float64 reference of `run` on the magnitudes of its inputs (and initial writes), for
 * the tolerance term sumBound. Only for kernels whose writes are sums of products of their inputs with no signed
 * constants (convolutions, channel contractions, matmul, sums): a transform with signed coefficients would cancel here.
 */
export async function termMagnitudes(ref: Backend, spec: KernelSpec, run: KernelRun): Promise<Record<string, NumArray>> {
  return runKernel(ref, spec, { ...run, reads: absOf(run.reads), init: run.init && absOf(run.init) });
}
