import { GpuUnavailableError } from '../../core/errors.js';
import { checkOptions, type OptionKeys } from '../../core/options.js';
import type { BufferPoolOptions } from './pool.js';
import { WebGpuBackend, type AdapterFacts, type WebGpuOptions } from './webgpu_backend.js';

export interface OpenOptions extends WebGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Features to request when the adapter offers them (default: timestamp-query, shader-f16, subgroups). */
  features?: GPUFeatureName[];
}

const WANTED: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups' as GPUFeatureName];

const OPEN_KEYS: OptionKeys<OpenOptions> = { powerPreference: true, features: true, maxDispatchesPerSubmit: true, maxPendingReleaseBytes: true, pool: true, kernels: true };
const POOL_KEYS: OptionKeys<BufferPoolOptions> = { maxPooledBytes: true, fit: true, evictIdleSubmits: true, keepPooledBytes: true };

/**
 * Checks a device-opening call's options: `op` names the call, `extra` the keys its own layer adds (setDefault,
 * Node's dawnFlags ...). An unknown key (or pool key) is an ArgumentError naming it; the kernel policy's keys are
 * checked where it is resolved.
 */
export function checkOpenOptions(op: string, opts: object | undefined, extra: readonly string[]): void {
  checkOptions(op, opts, [...Object.keys(OPEN_KEYS), ...extra]);
  checkOptions(op, (opts as OpenOptions | undefined)?.pool, POOL_KEYS, 'pool option');
}

/**
 * Opens a device on `gpu` (navigator.gpu, or Dawn's create() in Node) with the adapter's real limits
 * (lavapipe: 128 MiB bindings) and, when offered, timestamp-query, shader-f16 and subgroups.
 */
export async function openWebGpu(gpu: GPU | undefined, fixHint: string, opts: OpenOptions = {}): Promise<WebGpuBackend> {
  if (!gpu) throw new GpuUnavailableError(`openDevice: WebGPU is not available here. ${fixHint}`);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new GpuUnavailableError(`openDevice: no WebGPU adapter was found. ${fixHint}`);
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[key];
    // Dynamic-offset limits are unused here, and asking for them makes Dawn print warnings.
    if (typeof v === 'number' && !key.startsWith('maxDynamic')) requiredLimits[key] = v;
  }
  const requiredFeatures = (opts.features ?? WANTED).filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch {
    // An implementation may refuse a limit it lists (experimental ones): fall back to the ones we rely on.
    const core = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage'];
    device = await adapter.requestDevice({
      requiredLimits: Object.fromEntries(core.filter((k) => k in requiredLimits).map((k) => [k, requiredLimits[k]!])),
      requiredFeatures,
    });
  }
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const facts: AdapterFacts = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    features: [...device.features].sort() as string[],
    subgroupMinSize: info.subgroupMinSize,
    subgroupMaxSize: info.subgroupMaxSize,
  };
  return new WebGpuBackend(device, facts, opts);
}
