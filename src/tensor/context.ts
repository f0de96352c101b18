import type { Backend, BackendStats } from '../kernels/backend.js';
import { CpuBackend } from '../kernels/runtime/cpu_backend.js';
import { MetaBackend } from '../kernels/runtime/meta_backend.js';

let current: Backend | null = null;
let fallbackCpu: CpuBackend | null = null;

/** The device new tensors go to when none is given: the last one set, else a float32 CPU device. */
export function getDefaultDevice(): Backend {
  if (current && !current.destroyed) return current;
  return (fallbackCpu ??= new CpuBackend(false));
}

/** Makes `device` the default for tensors created without an explicit device (null: back to the CPU). */
export function setDefaultDevice(device: Backend | null): void {
  current = device;
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
export function stats(device: Backend = getDefaultDevice()): Stats {
  return { liveTensors: liveHandles.get(device) ?? 0, ...device.stats() };
}

// ---- grad mode ----
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording autograd nodes (inference, optimizer steps, backward itself). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
