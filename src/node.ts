/// <reference types="node" />
// unet-webgpu/node: WebGPU in Node through Dawn (the `webgpu` package), and loading edited shaders from disk.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { DeviceOptions } from './device.js';
import { SHADERS, type ShaderName } from './kernels/shaders.gen.js';
import { overrideShader } from './kernels/shader_source.js';
import { openWebGpu } from './kernels/runtime/open.js';
import type { WebGpuBackend } from './kernels/runtime/webgpu_backend.js';
import { setDefaultDevice } from './tensor/context.js';
import { GpuUnavailableError } from './tensor/errors.js';

export * from './index.js';

const FIX =
  'In Node, run `npm run setup` (installs Mesa >= 25 lavapipe on Debian/Ubuntu), or install a Vulkan driver that Dawn accepts; ' +
  'Debian bookworm needs mesa-vulkan-drivers from bookworm-backports (Mesa 22 is refused by Dawn).';

export interface NodeDeviceOptions extends DeviceOptions {
  /** Dawn toggles passed to create(), e.g. ['enable-dawn-features=skip_validation']. */
  dawnFlags?: string[];
  /** Renice the JS main thread after the device exists (Dawn spin-waits while GPU work is pending). */
  niceMain?: number;
}

/** Opens a WebGPU device through Dawn's node binding; `device.destroy()` lets Node exit. */
export async function openNodeDevice(opts: NodeDeviceOptions = {}): Promise<WebGpuBackend> {
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  let create: (flags: string[]) => GPU;
  try {
    ({ create } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU });
  } catch (e) {
    throw new GpuUnavailableError(`openNodeDevice: cannot load Dawn's node binding (npm package 'webgpu'): ${(e as Error).message}. Run \`npm install webgpu@0.6.2\`.`);
  }
  let gpu: GPU | null = create(opts.dawnFlags ?? []);
  const dev = await openWebGpu(gpu, FIX, opts);
  // Dawn keeps Node's event loop alive while its instance is referenced: drop ours when the device goes.
  const destroy = dev.destroy.bind(dev);
  dev.destroy = async () => {
    await destroy();
    gpu = null;
  };
  if (opts.niceMain) os.setPriority(0, opts.niceMain);
  if (opts.setDefault ?? true) setDefaultDevice(dev);
  return dev;
}

/** Loads every `NAME.wgsl` in `dir` over the embedded shader of that name (kernel edits without a rebuild). */
export function loadShaderDir(dir: string): ShaderName[] {
  const loaded: ShaderName[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.wgsl')) continue;
    const name = f.slice(0, -5);
    if (!(name in SHADERS)) throw new GpuUnavailableError(`loadShaderDir: ${join(dir, f)} matches no kernel shader (known: ${Object.keys(SHADERS).join(', ')})`);
    overrideShader(name as ShaderName, readFileSync(join(dir, f), 'utf8'));
    loaded.push(name as ShaderName);
  }
  return loaded;
}
