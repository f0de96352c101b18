/** Base class of every error this library throws on purpose; `message` starts with the op or kernel name. */
export class TensorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Shapes that do not fit an op: `conv2d: x [1, 1, 572, 572] has 1 channel, weight [64, 3, 3, 3] expects 3`. */
export class ShapeError extends TensorError {
  constructor(readonly op: string, detail: string, readonly shapes: readonly (readonly number[])[] = []) {
    super(`${op}: ${detail}`);
  }
  static fmt = fmt;
}

/** A dtype an op does not accept. */
export class DTypeError extends TensorError {
  constructor(readonly op: string, detail: string) {
    super(`${op}: ${detail}`);
  }
}

/** An argument out of its domain (negative size, unknown option, ...). */
export class ArgumentError extends TensorError {
  constructor(readonly op: string, detail: string) {
    super(`${op}: ${detail}`);
  }
}

/** A tensor (or module, or device) used after `dispose()`. */
export class DisposedTensorError extends TensorError {
  constructor(readonly op: string, detail = 'tensor was used after dispose()') {
    super(`${op}: ${detail}`);
  }
}

/** The data of a meta-device tensor was asked for (toArray, item, saving): the meta device holds shapes only. */
export class MetaTensorError extends TensorError {
  constructor(readonly op: string, detail: string) {
    super(`${op}: ${detail}`);
  }
}

/** Tensors of two different devices (backends) met in one op. */
export class DeviceMismatchError extends TensorError {
  constructor(readonly op: string, detail: string) {
    super(`${op}: ${detail}`);
  }
}

/** A size over a device limit (binding, buffer, workgroup count) that the op could not split. */
export class LimitError extends TensorError {
  constructor(readonly kernel: string, readonly limit: string, readonly requested: number, readonly allowed: number, hint = '') {
    super(`${kernel}: ${limit} is ${allowed} bytes on this device, the op needs ${requested}${hint ? `; ${hint}` : ''}`);
  }
}

/** No WebGPU adapter, or no device could be created; the message says how to get one. */
export class GpuUnavailableError extends TensorError {}

/** A WGSL shader failed to compile or a pipeline failed to build. */
export class ShaderCompileError extends TensorError {
  constructor(readonly kernel: string, readonly messages: readonly { line: number; col: number; text: string }[]) {
    super(`${kernel}: shader failed to compile:\n${messages.map((m) => `  ${m.line}:${m.col} ${m.text}`).join('\n')}`);
  }
}

/** A validation, out-of-memory or internal error reported by WebGPU. */
export class GpuError extends TensorError {}

/**
 * The WebGPU device was lost (driver reset, GPUDevice.destroy() behind the backend, ...): raised by the next call on
 * it. Its tensors are gone; open a new device and reload from a checkpoint. `reason` is WebGPU's ('destroyed' | 'unknown').
 */
export class DeviceLostError extends GpuError {
  constructor(readonly op: string, readonly reason: string, detail: string) {
    super(`${op}: WebGPU device lost (${reason}): ${detail}; open a new device (its tensors are gone) and reload from a checkpoint`);
  }
}

/**
 * Anomaly mode (detectAnomaly) found NaN or Inf: `op` is the first op whose output held one ('backward of <op>' for a
 * gradient), `module` the module path where it ran (`UNet.inc.double_conv.0 (Conv2d)`), or null outside modules.
 */
export class AnomalyError extends TensorError {
  constructor(readonly op: string, readonly what: string, readonly shape: readonly number[], readonly module: string | null) {
    super(`${op}: the ${what} ${fmt(shape)} holds NaN or Inf (anomaly mode: the first op that made one)${module ? `, in module ${module}` : ''}`);
  }
}

/** backward() on a graph that was already freed, or on a tensor without a graph. */
export class AutogradError extends TensorError {}

/** loadStateDict found missing keys, unexpected keys (strict mode), shape mismatches or values that are not tensors. */
export class StateDictError extends TensorError {
  constructor(
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly shapeMismatch: readonly (readonly [key: string, want: readonly number[], got: readonly number[]])[],
    /** Keys whose value is not a Tensor, with the value as shown in the message. */
    readonly notTensors: readonly (readonly [key: string, got: string])[] = [],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (shapeMismatch.length) parts.push(`shape mismatches: ${shapeMismatch.map(([k, w, g]) => `${k} wants ${fmt(w)}, got ${fmt(g)}`).join('; ')}`);
    if (notTensors.length) parts.push(`not tensors: ${notTensors.map(([k, g]) => `${k} is ${g}`).join(', ')}`);
    super(`loadStateDict: ${parts.join('; ')}`);
  }
}

/** A file (safetensors, checkpoint) that is truncated, corrupt or of an unsupported format. */
export class FormatError extends TensorError {}
