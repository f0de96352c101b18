// The WebGPU device for GPU tests. Without an adapter the suite FAILS (CI must really run on lavapipe);
// set UNET_ALLOW_NO_GPU=1 to skip GPU tests on a machine that cannot have one.
import { openNodeDevice } from '../../src/node.js';
import type { WebGpuDevice } from '../../src/index.js';
import { cpuDevice, setDefaultDevice } from '../../src/index.js';

let dev: WebGpuDevice | null = null;

export const allowNoGpu = process.env.UNET_ALLOW_NO_GPU === '1';

/** Opens (once per test file) the WebGPU device; throws with the setup hint when there is none. */
export async function gpu(): Promise<WebGpuDevice> {
  if (dev && !dev.destroyed) return dev;
  dev = await openNodeDevice({ setDefault: false });
  return dev;
}

/** True when GPU tests should be skipped (only with UNET_ALLOW_NO_GPU=1 and no adapter). */
export async function skipGpu(): Promise<boolean> {
  if (!allowNoGpu) return false;
  try {
    await gpu();
    return false;
  } catch {
    return true;
  }
}

export const cpu32 = cpuDevice();
export const cpu64 = cpuDevice({ f64: true });
setDefaultDevice(null);
