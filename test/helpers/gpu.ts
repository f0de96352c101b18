// The WebGPU device for GPU tests. Without an adapter the suite FAILS (CI must really run on lavapipe);
// set UNET_ALLOW_NO_GPU=1 to skip GPU tests on a machine that cannot have one.
import { openNodeDevice } from '../../src/node.js';
import type { Device, WebGpuDevice } from '../../src/index.js';
import { cpuDevice, setDefaultDevice } from '../../src/index.js';

let dev: WebGpuDevice | null = null;

export const allowNoGpu = process.env.UNET_ALLOW_NO_GPU === '1';

/** Opens (once per test file) the WebGPU device; throws with the setup hint when there is none. */
async function gpu(): Promise<WebGpuDevice> {
  if (dev && !dev.destroyed) return dev;
  dev = await openNodeDevice({ setDefault: false });
  return dev;
}

/**
 * True when GPU tests should be skipped (only with UNET_ALLOW_NO_GPU=1 and no adapter). For a file whose GPU work
 * runs in a child process and needs no device here; every other file takes `gpuSuite()`.
 */
export async function skipGpu(): Promise<boolean> {
  if (!allowNoGpu) return false;
  try {
    await gpu();
    return false;
  } catch {
    return true;
  }
}

/** A test file's WebGPU device, from `const { skip, dev, devices } = await gpuSuite();` at its top. */
export interface GpuSuite {
  /** True only with UNET_ALLOW_NO_GPU=1 and no adapter: `describe.skipIf(skip)` / `test.skipIf(skip)` the GPU tests. */
  readonly skip: boolean;
  /** The device (opened once per file); unset when `skip`, so touch it only in tests that skip with it. */
  readonly dev: WebGpuDevice;
  /** `cpus`, then `dev` unless skipped: the devices a check runs on alike. */
  devices(...cpus: Device[]): Device[];
}

/**
 * Opens the file's WebGPU device while the file is collected. Without an adapter it throws the setup hint, so the
 * file FAILS, unless UNET_ALLOW_NO_GPU=1, where `skip` is true instead.
 */
export async function gpuSuite(): Promise<GpuSuite> {
  const skip = await skipGpu();
  const device = skip ? (undefined as unknown as WebGpuDevice) : await gpu();
  return { skip, dev: device, devices: (...cpus) => (skip ? cpus : [...cpus, device]) };
}

export const cpu32 = cpuDevice();
export const cpu64 = cpuDevice({ f64: true });
setDefaultDevice(null);
