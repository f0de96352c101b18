// torch.nn-like layer: modules with PyTorch's state-dict names, layers, initialisers, optimizers,
// learning-rate schedulers, gradient clipping and safetensors (browser-safe; files live in 'unet-webgpu/node').
export { Parameter } from './parameter.js';
export { Module, stripKeyPrefixes, TORCH_WRAPPER_PREFIXES } from './module.js';
export type { StateDict, LoadStateDictOptions, IncompatibleKeys } from './module.js';
export { Sequential, ModuleList } from './container.js';
export { Conv2d, ConvTranspose2d } from './conv.js';
export type { Conv2dOptions, ConvTranspose2dOptions } from './conv.js';
export { BatchNorm2d } from './batch_norm.js';
export type { BatchNorm2dOptions } from './batch_norm.js';
export { GroupNorm, InstanceNorm2d, LayerNorm } from './norm.js';
export type { GroupNormOptions, InstanceNorm2dOptions, LayerNormOptions } from './norm.js';
export { Linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { MultiheadAttention } from './attention.js';
export type { MultiheadAttentionOptions, AttentionCallOptions } from './attention.js';
export { TransformerEncoderLayer, TransformerEncoder } from './transformer.js';
export type { TransformerEncoderLayerOptions, TransformerEncoderOptions } from './transformer.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Identity, MaxPool2d, AvgPool2d, Upsample, Dropout, Dropout2d } from './layers.js';
export type { AvgPool2dOptions, MaxPool2dOptions, UpsampleOptions } from './layers.js';
export * as init from './init.js';
export { Optimizer, SGD, Adam, AdamW } from './optim.js';
export type { SGDOptions, AdamOptions, ParamGroup, ParamGroupInput, ParamState, OptimizerStateDict } from './optim.js';
export { LRScheduler, StepLR, CosineAnnealingLR, ReduceLROnPlateau } from './lr_scheduler.js';
export type { StepLROptions, CosineAnnealingLROptions, ReduceLROnPlateauOptions } from './lr_scheduler.js';
export { clipGradNorm_ } from './clip_grad.js';
export { parseSafetensors, deserializeSafetensors, serializeSafetensors } from './safetensors.js';
export type { SafetensorsDType, HostTensor, ParsedSafetensors, SafetensorsFile, SerializeOptions } from './safetensors.js';
