// The U-Net family by name: what `--model` picks in the CLI and what a checkpoint or a check-torch dump records.
import { ArgumentError } from '../../core/errors.js';
import { add, mul } from '../../tensor/ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkOneOf } from '../../core/options.js';
import { UNet, type UNetOptions } from '../unet.js';
import { AttentionUNet, type AttentionUNetOptions } from './attention_unet.js';
import { NestedUNet, type NestedUNetOptions } from './nested_unet.js';
import { ResUNet, type ResUNetOptions } from './res_unet.js';
import { PlainConvUNet, type PlainConvUNetOptions } from './plain_conv_unet.js';
import { TransUNet, type TransUNetOptions } from './trans_unet.js';

export { AttentionUNet, AttentionBlock, ConvBlock, UpConv } from './attention_unet.js';
export type { AttentionUNetOptions } from './attention_unet.js';
export { NestedUNet, VGGBlock } from './nested_unet.js';
export type { NestedUNetOptions } from './nested_unet.js';
export { ResUNet } from './res_unet.js';
export type { ResUNetOptions } from './res_unet.js';
export { PlainConvUNet, ConvDropoutNormReLU, StackedConvBlocks, PlainConvEncoder, UNetDecoder } from './plain_conv_unet.js';
export type { PlainConvUNetOptions } from './plain_conv_unet.js';
export { TransUNet, Embeddings } from './trans_unet.js';
export type { TransUNetOptions } from './trans_unet.js';

/** The model names `--model` accepts, in the order the help lists them. */
export const MODEL_NAMES = ['unet', 'attention-unet', 'res-unet', 'trans-unet', 'unet++', 'plain-conv-unet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Each name's options. */
export interface ModelOptionsOf {
  unet: UNetOptions;
  'attention-unet': AttentionUNetOptions;
  'res-unet': ResUNetOptions;
  'trans-unet': TransUNetOptions;
  'unet++': NestedUNetOptions;
  'plain-conv-unet': PlainConvUNetOptions;
}

/** A model of the family: x [N, inChannels, H, W] -> logits [N, classes, H', W']. */
export type FamilyModel = UNet | AttentionUNet | NestedUNet | PlainConvUNet;

/** What each name builds and the PyTorch implementation it mirrors (state dicts load from it). */
export const MODELS: { [K in ModelName]: { build: (o: ModelOptionsOf[K]) => FamilyModel; mirrors: string } } = {
  unet: { build: (o) => new UNet(o), mirrors: 'milesial/Pytorch-UNet UNet (Ronneberger et al. 2015)' },
  'attention-unet': { build: (o) => new AttentionUNet(o), mirrors: 'LeeJunHyun/Image_Segmentation AttU_Net (Oktay et al. 2018)' },
  'res-unet': { build: (o) => new ResUNet(o), mirrors: 'milesial/Pytorch-UNet with torchvision BasicBlock in place of DoubleConv' },
  'trans-unet': { build: (o) => new TransUNet(o), mirrors: 'TransUNet (Chen et al. 2021): Beckschen/TransUNet embeddings, torch.nn.TransformerEncoder and conv_more on milesial/Pytorch-UNet' },
  'unet++': { build: (o) => new NestedUNet(o), mirrors: '4uiiurz1/pytorch-nested-unet NestedUNet (Zhou et al. 2018)' },
  'plain-conv-unet': { build: (o) => new PlainConvUNet(o), mirrors: "MIC-DKFZ/dynamic-network-architectures PlainConvUNet (nnU-Net v2's 2-D default)" },
};

/** Checks a model name: ArgumentError listing the choices otherwise. */
export function checkModelName(op: string, name: unknown): ModelName {
  return checkOneOf(op, 'model', name, MODEL_NAMES);
}

/** Builds the model `name` with its options (an option that model has not is an ArgumentError). */
export function createModel<K extends ModelName>(name: K, opts: ModelOptionsOf[K]): FamilyModel {
  checkModelName('createModel', name);
  return MODELS[name].build(opts);
}

/** The name of a family model (ResUNet and TransUNet before UNet: they are ones). */
export function modelNameOf(m: FamilyModel): ModelName {
  if (m instanceof ResUNet) return 'res-unet';
  if (m instanceof TransUNet) return 'trans-unet';
  if (m instanceof UNet) return m.config.block === 'residual' ? 'res-unet' : 'unet';
  if (m instanceof AttentionUNet) return 'attention-unet';
  if (m instanceof NestedUNet) return 'unet++';
  if (m instanceof PlainConvUNet) return 'plain-conv-unet';
  throw new ArgumentError('modelNameOf', `not a model of the U-Net family: ${(m as object).constructor.name}`);
}

/** Output H (or W) of `m` for an input of `size` (ArgumentError when that model cannot run on it). */
export function outputSizeOf(m: FamilyModel, size: number): number {
  return m instanceof UNet ? UNet.outputSize(size, m.config) : m.outputSize(size);
}

/** What rebuilds a model: its name and the options createModel takes (what a checkpoint records). */
export interface ModelSpec {
  name: ModelName;
  options: Record<string, unknown>;
}

/** The name and options of `m`: createModel(spec.name, spec.options) builds the same modules (same state-dict keys). */
export function modelSpecOf(m: FamilyModel): ModelSpec {
  const name = modelNameOf(m);
  if (name === 'res-unet') {
    const { inChannels, classes, width, depth, bias } = (m as UNet).config;
    return { name, options: { inChannels, classes, width, depth, bias } };
  }
  if (name === 'trans-unet') {
    const { inChannels, classes, width, depth, bilinear, bias } = (m as TransUNet).config;
    return { name, options: { inChannels, classes, width, depth, bilinear, bias, ...(m as TransUNet).transformer } };
  }
  return { name, options: { ...m.config } };
}

/** The facts tiling and cropping depend on; AttentionUNet and UNet++ are 'same'-padded and keep the size. */
export interface FamilyGeometry {
  inChannels: number;
  classes: number;
  width: number;
  depth: number;
  padding: 'same' | 'valid';
  merge: 'pad' | 'crop';
}

export function geometryOf(m: FamilyModel): FamilyGeometry {
  if (m instanceof UNet) return m.config;
  const { inChannels, classes, width, depth } = m.config;
  return { inChannels, classes, width, depth, padding: 'same', merge: 'pad' };
}

/**
 * One training forward: the logits of every head (UNet++ with deep supervision has several) and the loss, the mean of
 * `lossOf` over the heads (4uiiurz1's train.py); y is the last head (the others are disposed).
 */
export function forwardWithLoss(m: FamilyModel, x: Tensor, lossOf: (y: Tensor) => Tensor): { y: Tensor; loss: Tensor } {
  const heads = m instanceof NestedUNet ? m.forwardHeads(x) : [m.forward(x)];
  let sum = lossOf(heads[0]!);
  for (const h of heads.slice(1)) {
    const l = lossOf(h);
    const next = add(sum, l);
    sum.dispose();
    l.dispose();
    sum = next;
  }
  for (const h of heads.slice(0, -1)) h.dispose();
  if (heads.length === 1) return { y: heads[0]!, loss: sum };
  const loss = mul(sum, 1 / heads.length);
  sum.dispose();
  return { y: heads.at(-1)!, loss };
}
