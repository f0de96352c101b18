import type { Backend, BackendStats } from '../kernels/backend.js';
import { CpuBackend } from '../kernels/runtime/cpu_backend.js';
import { MetaBackend } from '../kernels/runtime/meta_backend.js';
import { DisposedTensorError } from '../core/errors.js';

let current: Backend | null = null;
let fallbackCpu: CpuBackend | null = null;

/**
 * The device new tensors go to when none is given: the last one set, else a float32 CPU device. Throws
 * DisposedTensorError once the one set was destroyed: work meant for it must not land on the CPU unnoticed.
 */
export function getDefaultDevice(): Backend {
  if (!current) return (fallbackCpu ??= new CpuBackend(false));
  if (current.destroyed) {
    throw new DisposedTensorError(
      'getDefaultDevice',
      `the default device (${current.description}) was destroyed; open a new one (openDevice(), or openNodeDevice() from 'unet-webgpu/node'; it becomes the default), or setDefaultDevice(null) to compute on the CPU`,
    );
  }
  return current;
}

/** Makes `device` the default for tensors created without an explicit device (null: back to the CPU). */
export function setDefaultDevice(device: Backend | null): void {
  current = device;
}

/** Un-sets `device` as the default when it is the default (closeDevice). */
export function unsetDefaultDevice(device: Backend): void {
  if (current === device) current = null;
}

/** Runs `fn` with `device` as the default device (modules and tensors created inside land there). */
export function withDevice<T>(device: Backend, fn: () => T): T {
  const prev = current;
  current = device;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** A CPU device that runs every kernel's reference; `{ f64: true }` holds f32 tensors in float64 (gradcheck). */
export function cpuDevice(opts: { f64?: boolean } = {}): Backend {
  return new CpuBackend(opts.f64 ?? false);
}

/** A device with shapes but no data: every op checks shapes and allocates nothing (summaries, planning). */
export function metaDevice(): Backend {
  return new MetaBackend();
}

// ---- live handle accounting ----
const liveHandles = new Map<Backend, number>();

export function countHandle(b: Backend, delta: number): void {
  liveHandles.set(b, (liveHandles.get(b) ?? 0) + delta);
}

export interface Stats extends BackendStats {
  /** Tensor handles created and not yet disposed (user handles and the ones autograd saved). */
  liveTensors: number;
}

/** Live tensors and bytes, pooled bytes, dispatches and submits of a device (the default one if omitted). */
export function stats(device: Backend = current ?? getDefaultDevice()): Stats {
  return { liveTensors: liveHandles.get(device) ?? 0, ...device.stats() };
}

// ---- grad mode ----
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = on;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with autograd recording on again (activation checkpointing's recompute inside backward). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Runs `fn` without recording autograd nodes (inference, optimizer steps, backward itself). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}
