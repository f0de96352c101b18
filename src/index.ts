// unet-webgpu: the browser-safe entry (no Node built-ins). Node users open Dawn through 'unet-webgpu/node'.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('Symbol.asyncDispose');

export { Tensor } from './tensor/tensor.js';
export { tensor, full, zeros, ones, zerosLike, onesLike, fullLike, rand, randn, randint, arange } from './tensor/creation.js';
export type { CreateOptions, RandOptions } from './tensor/creation.js';
export { manualSeed } from './tensor/random.js';
export { tidy, keep } from './tensor/scope.js';
export { noGrad, isGradEnabled, stats, getDefaultDevice, setDefaultDevice, withDevice, cpuDevice, metaDevice } from './tensor/context.js';
export type { Stats } from './tensor/context.js';
export * as F from './tensor/ops/index.js';
export * from './tensor/ops/index.js';
export * from './tensor/errors.js';
export * as nn from './nn/index.js';
export { SGD, Adam, AdamW, StepLR, CosineAnnealingLR, ReduceLROnPlateau } from './nn/index.js';
export type { DType, NumArray } from './tensor/dtype.js';
export type { Shape } from './tensor/shape.js';
export { openDevice, closeDevice } from './device.js';
export type { Device, DeviceOptions, WebGpuDevice } from './device.js';
export { KERNELS, kernelsOf, getKernel, SHADERS } from './kernels/index.js';
export type { KernelSpec, KernelName, ShaderName } from './kernels/index.js';
export { overrideShader, clearShaderOverrides } from './kernels/shader_source.js';
export type { Backend, BackendStats, Storage } from './kernels/backend.js';
