// Devices that record the kernel launches of ops: the kernel lab's source of realistic launches. On the CPU device
// the launch's inputs are snapshotted (valid data: packed weights, argmax indices, class targets); on the meta device
// only the geometry is kept (shapes of a whole U-Net step, instantly).
import type { AdapterFacts, Binding, Bindings, DeviceLimits, RunOptions } from '../kernels/backend.js';
import { bindingParts, orderedBindings } from '../kernels/backend.js';
import type { Constants, KernelSpec } from '../kernels/define_kernel.js';
import { CpuBackend } from '../kernels/runtime/cpu_backend.js';
import { MetaBackend } from '../kernels/runtime/meta_backend.js';
import type { NumArray } from '../core/dtype.js';

/** One recorded launch: the kernel, its params, the constants the op passed, and its bindings' sizes. */
export interface Launch {
  kernel: string;
  params: Record<string, number>;
  /** The op's constants only (the spec's defaults apply under them). */
  constants: Constants;
  /** Elements of each read / write binding, in the spec's order. */
  reads: number[];
  writes: number[];
  /** CPU recorder: the read bindings' contents and the writes' contents before the launch. */
  readData?: NumArray[];
  writeData?: NumArray[];
}

/** The launch's geometry; its bindings in the spec's order. */
function geometry(spec: KernelSpec, named: { reads: Bindings; writes: Bindings }, params: Readonly<Record<string, number>>, opts?: RunOptions) {
  const all = orderedBindings(spec, named.reads, named.writes, params);
  const nr = Object.keys(spec.reads).length;
  const reads = all.slice(0, nr);
  const writes = all.slice(nr);
  return { reads, writes, launch: {
    kernel: spec.name,
    params: { ...params },
    constants: { ...opts?.constants },
    reads: reads.map((b) => bindingParts(b).numel),
    writes: writes.map((b) => bindingParts(b).numel),
  } satisfies Launch };
}

/** A float32 CPU device that runs every launch (reference loops) and keeps a copy of its inputs. */
export class RecordingCpuBackend extends CpuBackend {
  override readonly limits: DeviceLimits;
  readonly launches: Launch[] = [];

  /** `limits`: binding limits to plan under (tiny ones force the ops' split paths); default none, as the CPU device. */
  constructor(limits?: DeviceLimits) {
    super(false);
    this.limits = limits ?? new CpuBackend().limits;
  }

  override run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>, opts?: RunOptions): void {
    const snap = (b: Binding) => {
      const { storage, offset, numel } = bindingParts(b);
      return this.view(storage).slice(offset, offset + numel);
    };
    const g = geometry(spec, { reads, writes }, params, opts);
    this.launches.push({ ...g.launch, readData: g.reads.map(snap), writeData: g.writes.map(snap) });
    super.run(spec, reads, writes, params, opts);
  }
}

/** A meta device (shapes only) with a real device's binding limits, so ops split their launches as they would there. */
export class RecordingMetaBackend extends MetaBackend {
  override readonly limits: DeviceLimits;
  readonly launches: Launch[] = [];

  /**
   * `adapter`: the facts of the device the launches are for, so that the ops choose the kernel variants they would
   * choose there (subgroup kernels, Winograd); without it they take the portable kernels.
   */
  constructor(limits?: DeviceLimits, override readonly adapter: AdapterFacts | null = null) {
    super();
    this.limits = limits ?? { maxBindingBytes: 128 * 1024 ** 2, maxBufferBytes: 2 ** 32 - 1, bindingOffsetAlignment: 256 };
  }

  override run(spec: KernelSpec, reads: Bindings, writes: Bindings, params: Readonly<Record<string, number>>, opts?: RunOptions): void {
    this.launches.push(geometry(spec, { reads, writes }, params, opts).launch);
    super.run(spec, reads, writes, params);
  }
}

/** A stable key of a launch's geometry (params + constants): launches with equal keys time the same. */
export function launchKey(l: Launch): string {
  const c = Object.keys(l.constants).sort().map((k) => `${k}=${l.constants[k]}`).join(',');
  return `${l.kernel}|${JSON.stringify(l.params)}|${c}`;
}
