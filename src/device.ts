import type { Backend } from './kernels/backend.js';
import { checkOpenOptions, openWebGpu, type OpenOptions } from './kernels/runtime/open.js';
import type { OptionKeys } from './core/options.js';
import type { WebGpuBackend } from './kernels/runtime/webgpu_backend.js';
import { setDefaultDevice, unsetDefaultDevice } from './tensor/context.js';

/** A device tensors live on: WebGPU, or the CPU reference. */
export type Device = Backend;
export type { WebGpuBackend as WebGpuDevice };

export interface DeviceOptions extends OpenOptions {
  /** Make it the default device for new tensors (default true). */
  setDefault?: boolean;
}

const DEVICE_KEYS: OptionKeys<Omit<DeviceOptions, keyof OpenOptions>> = { setDefault: true };

/** Opens a WebGPU device from `navigator.gpu` (browsers, workers, Deno). In Node use `openNodeDevice` from 'unet-webgpu/node'. */
export async function openDevice(opts: DeviceOptions = {}): Promise<WebGpuBackend> {
  checkOpenOptions('openDevice', opts, Object.keys(DEVICE_KEYS));
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  const dev = await openWebGpu(gpu, 'Use a browser with WebGPU enabled (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu), or in Node import { openNodeDevice } from "unet-webgpu/node".', opts);
  if (opts.setDefault ?? true) setDefaultDevice(dev);
  return dev;
}

/** Closes a device (flushes, waits for the queue, frees pooled buffers); un-sets it as the default if it is. */
export async function closeDevice(dev: Backend): Promise<void> {
  unsetDefaultDevice(dev);
  await dev.destroy();
}
