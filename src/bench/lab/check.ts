// `kernels check`: a recorded launch replayed on the GPU and on its kernel's CPU reference with the same inputs, compared
// within the spec's tolerance, under each of the spec's extra constant sets.
import { bindByOrder } from '../../kernels/backend.js';
import type { Constants, KernelSpec, Tolerance } from '../../kernels/define_kernel.js';
import type { WebGpuBackend } from '../../kernels/runtime/webgpu_backend.js';
import { arrayFor, type DType, type NumArray } from '../../core/dtype.js';
import { ArgumentError } from '../../core/errors.js';
import { Rng } from '../../tensor/random.js';
import type { Launch } from '../recorder.js';

/** A seeded fill for outputs that the kernel may not write everywhere (the reference starts from the same values). */
function initArray(dtype: DType, n: number, r: Rng): NumArray {
  const a = arrayFor(dtype, Math.max(n, 1));
  for (let i = 0; i < a.length; i++) a[i] = dtype === 'f32' ? 2 * r.uniform() - 1 : (r.nextU32() & 0x7fffffff) % 1000003;
  return a;
}

export interface CaseResult {
  kernel: string;
  constants: Constants;
  params: Record<string, number>;
  write: string;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
  /** The worst element when !ok. */
  detail?: string;
}

/** Compares a GPU write with the reference: worst abs / rel error and whether every element is within tolerance. */
function compare(got: NumArray, want: NumArray, tolerance: Tolerance, intOut: boolean) {
  const tol = intOut ? 'exact' : tolerance;
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  const rtol = tol === 'exact' ? 0 : (tol.loose ? 1e-4 : 2e-6) + 4e-6 * Math.sqrt(tol.k);
  const atol = tol === 'exact' ? 0 : 0.1 * rtol * scale + 1e-7;
  const floor = Math.max(scale * 1e-6, 1e-30);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const d = Math.abs(g - w);
    const excess = Number.isNaN(d) ? Infinity : d - (atol + rtol * Math.abs(w));
    if (Number.isFinite(d)) {
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(w), floor));
    } else {
      maxAbs = maxRel = Infinity;
    }
    if (excess > 0 && !(excess <= worstExcess)) [worst, worstExcess] = [i, excess];
  }
  const ok = worst < 0;
  const tolText = tol === 'exact' ? 'exact' : `rtol ${rtol.toExponential(1)} atol ${atol.toExponential(1)}`;
  return { maxAbs, maxRel, ok, detail: ok ? undefined : `[${worst}] got ${got[worst]} want ${want[worst]} (${tolText})` };
}

/** Runs one recorded launch on the GPU and on the CPU reference with the same inputs; one result per write. */
export async function checkLaunch(dev: WebGpuBackend, spec: KernelSpec, l: Launch, constants: Constants, seed: number): Promise<CaseResult[]> {
  const c = { ...spec.constants, ...l.constants, ...constants };
  const readNames = Object.keys(spec.reads);
  const writeNames = Object.keys(spec.writes);
  const rdt = Object.values(spec.reads) as DType[];
  const wdt = Object.values(spec.writes) as DType[];
  if (readNames.length !== l.reads.length || writeNames.length !== l.writes.length) {
    throw new ArgumentError('kernels check', `${spec.name} has ${readNames.length} reads / ${writeNames.length} writes, the recorded ${l.kernel} launch ${l.reads.length} / ${l.writes.length}`);
  }
  const r = new Rng(seed);
  const inPlace = new Set<string>(spec.inPlace ?? []);
  const readData = l.readData!.map((a, i) => (a.length ? a : arrayFor(rdt[i]!, 1)));
  const init = writeNames.map((name, i) => (inPlace.has(name) && l.writeData?.[i]?.length ? l.writeData[i]!.slice() : initArray(wdt[i]!, l.writes[i]!, r)));
  // Reference (float32 arrays, like the recorder ran it).
  const wantW: Record<string, NumArray> = {};
  const refR: Record<string, NumArray> = {};
  readNames.forEach((k, i) => (refR[k] = readData[i]!.slice()));
  writeNames.forEach((k, i) => (wantW[k] = init[i]!.slice()));
  spec.ref(refR, wantW, l.params, c);
  // GPU.
  const stor = (dt: DType, data: NumArray) => {
    const s = dev.alloc(data.length, dt);
    dev.upload(s, data);
    return s;
  };
  const reads = readData.map((a, i) => stor(rdt[i]!, a));
  const writes = init.map((a, i) => stor(wdt[i]!, a));
  try {
    const b = bindByOrder(spec, reads, writes);
    dev.run(spec, b.reads, b.writes, l.params, { constants: c });
    const out: CaseResult[] = [];
    for (let i = 0; i < writes.length; i++) {
      const got = await dev.download(writes[i]!);
      const cmp = compare(got, wantW[writeNames[i]!]!, spec.tolerance(l.params, c), wdt[i] !== 'f32');
      out.push({ kernel: spec.name, constants: { ...l.constants, ...constants }, params: l.params, write: writeNames[i]!, ...cmp });
    }
    return out;
  } finally {
    for (const s of [...reads, ...writes]) dev.free(s);
  }
}

export interface KernelCheck {
  kernel: string;
  cases: number;
  variants: string[];
  maxAbs: number;
  maxRel: number;
  ok: boolean;
  /** No recorded launch covers this kernel. */
  noCases: boolean;
  failures: CaseResult[];
  error?: string;
}

const fmtConstants = (c: Constants) => Object.entries(c).map(([k, v]) => `${k}=${v}`).join(',');

/**
 * Checks `spec` on every recorded launch (of itself, or of `caseKernel` when it is a variant timed on another
 * kernel's launches), with the launch's constants, then each of the spec's labConstants, all under `constants`.
 */
export async function checkKernel(dev: WebGpuBackend, spec: KernelSpec, launches: readonly Launch[], constants: Constants = {}, seed = 1): Promise<KernelCheck> {
  const res: KernelCheck = { kernel: spec.name, cases: 0, variants: [], maxAbs: 0, maxRel: 0, ok: true, noCases: !launches.length, failures: [] };
  const sets: Constants[] = [{}, ...(spec.labConstants ?? [])];
  res.variants = sets.map((s) => fmtConstants({ ...s, ...constants }) || 'default');
  try {
    for (const l of launches) {
      for (const s of sets) {
        res.cases++;
        for (const c of await checkLaunch(dev, spec, l, { ...s, ...constants }, seed + res.cases)) {
          res.maxAbs = Math.max(res.maxAbs, c.maxAbs);
          res.maxRel = Math.max(res.maxRel, c.maxRel);
          if (!c.ok) {
            res.ok = false;
            res.failures.push(c);
          }
        }
      }
    }
  } catch (e) {
    res.ok = false;
    res.error = (e as Error).message;
  }
  return res;
}
