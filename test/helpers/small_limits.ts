// A device with small binding limits, to drive the ops' split planners on small tensors: it forwards every call to
// another device (CPU or GPU, shared or not, which it never changes) and checks each launch against its limits.
import { BYTES_PER_ELEMENT } from '../../src/core/dtype.js';
import { bindingParts, orderedBindings, type Backend, type Binding, type DeviceLimits } from '../../src/kernels/backend.js';

export interface SmallLimits {
  /** Largest range one binding may cover, in bytes. */
  maxBindingBytes: number;
  /** Windowed bindings must start at a multiple of this many bytes (default 256, WebGPU's usual minimum). */
  bindingOffsetAlignment?: number;
}

/** A device from `smallLimits`: `inner` behind tighter limits, counting its kernel launches. */
export interface SmallLimitsBackend extends Backend {
  /** Kernel launches (runs) so far. */
  readonly launches: number;
}

/**
 * Throws unless every binding of a launch of `kernel` is within `limits`: at most maxBindingBytes (a binding of 0
 * elements counts as one, as WebGPU binds it) and starting at a multiple of bindingOffsetAlignment.
 */
export function checkBindings(kernel: string, bindings: Iterable<Binding>, limits: DeviceLimits): void {
  let i = 0;
  for (const b of bindings) {
    const { offset, numel } = bindingParts(b);
    const bytes = Math.max(numel, 1) * BYTES_PER_ELEMENT;
    if (bytes > limits.maxBindingBytes) throw new Error(`${kernel}: binding ${i} covers ${bytes} bytes, over the limit of ${limits.maxBindingBytes}`);
    const off = offset * BYTES_PER_ELEMENT;
    if (off % limits.bindingOffsetAlignment) throw new Error(`${kernel}: binding ${i} starts at byte ${off}, not a multiple of ${limits.bindingOffsetAlignment}`);
    i++;
  }
}

/** The bindings of one `Backend.run` call in binding order (reads then writes), their names checked. */
function bindingsOf([spec, reads, writes, params]: Parameters<Backend['run']>): Binding[] {
  return orderedBindings(spec, reads, writes, params);
}

/**
 * `inner` reporting `maxBindingBytes` and `bindingOffsetAlignment` as its limits, and throwing on a launch whose
 * bindings break them (`checkBindings`): every op over a few KiB must split into aligned windows. Tensors made on it
 * count as its own (stats, device checks) while their storages live on `inner`. It has inner's adapter facts and a
 * kernel policy of its own (starting as inner's), so ops choose the kernel families they would choose on `inner`.
 */
export function smallLimits(inner: Backend, { maxBindingBytes, bindingOffsetAlignment = 256 }: SmallLimits): SmallLimitsBackend {
  const limits: DeviceLimits = { ...inner.limits, maxBindingBytes, bindingOffsetAlignment };
  let launches = 0;
  return {
    kind: inner.kind,
    description: `${inner.description} (bindings limited to ${maxBindingBytes} bytes)`,
    f64: inner.f64,
    limits,
    adapter: inner.adapter,
    policy: inner.policy,
    get launches() {
      return launches;
    },
    alloc: (n, d) => inner.alloc(n, d),
    free: (s) => inner.free(s),
    upload: (s, d) => inner.upload(s, d),
    download: (s) => inner.download(s),
    run: (...args) => {
      checkBindings(args[0].name, bindingsOf(args), limits);
      launches++;
      inner.run(...args);
    },
    copy: (s, so, d, dof, n) => inner.copy(s, so, d, dof, n),
    flush: () => inner.flush(),
    sync: () => inner.sync(),
    stats: () => inner.stats(),
    // inner's deferred checks: its download() and sync() read them.
    checks: inner.checks,
    resetPeak: () => inner.resetPeak(),
    destroy: () => inner.destroy(),
    get destroyed() {
      return inner.destroyed;
    },
  };
}
