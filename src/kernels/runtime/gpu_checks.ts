// The WebGPU side of the deferred device checks (../device_checks.ts): the check buffer, and its copy into a staging
// buffer encoded before the submit that a readback or sync makes anyway, so a checked step costs no extra submit.
import { CHECK_SLOTS, type CheckReader, type DeviceChecks } from '../device_checks.js';
import { BufferUsage, MapMode } from './gpu_constants.js';

/** A copy of the check buffer on its way to the host, and the meaning of its slots. */
export interface StagedChecks {
  readonly staging: GPUBuffer;
  readonly read: CheckReader;
}

/** The device's check buffer: 2 * CHECK_SLOTS u32, zero-initialised by WebGPU, bound as storage, copied out, cleared. */
export function createCheckBuffer(device: GPUDevice): GPUBuffer {
  return device.createBuffer({ size: 2 * CHECK_SLOTS * 4, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
}

/**
 * When a checking launch ran since the last read: encodes (after everything pending) the copy of `buffer` into a
 * staging buffer and the buffer's reset, and returns them; null (and nothing encoded) otherwise.
 */
export function stageChecks(device: GPUDevice, encoder: () => GPUCommandEncoder, checks: DeviceChecks, buffer: GPUBuffer): StagedChecks | null {
  const read = checks.take();
  if (!read) return null;
  const staging = device.createBuffer({ size: buffer.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = encoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  enc.clearBuffer(buffer);
  return { staging, read };
}

/** After the submit: reads the staged copy and throws the first failure it records (nothing when `staged` is null). */
export async function raiseChecks(staged: StagedChecks | null): Promise<void> {
  if (!staged) return;
  let err: Error | null;
  try {
    await staged.staging.mapAsync(MapMode.READ);
    err = staged.read(new Uint32Array(staged.staging.getMappedRange().slice(0)));
    staged.staging.unmap();
  } finally {
    staged.staging.destroy();
  }
  if (err) throw err;
}
