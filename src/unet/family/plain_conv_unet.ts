// nnU-Net's PlainConvUNet (Isensee et al. 2021; nnU-Net v2 builds it from MIC-DKFZ/dynamic-network-architectures):
// stages of StackedConvBlocks of ConvDropoutNormReLU (3x3 conv with bias -> InstanceNorm2d(affine) -> LeakyReLU(0.01)),
// downsampling by the first conv of a stage (stride 2), transposed-conv upsampling, 1x1 seg layers. Names as there,
// aliases included: each ConvDropoutNormReLU registers conv / norm / nonlin and again as all_modules.0..2, and the
// decoder holds the encoder, so the state dict has `encoder.stages.0.0.convs.0.conv.weight`,
// `encoder.stages.0.0.convs.0.all_modules.0.weight`, `decoder.encoder.stages...`, `decoder.stages.0.convs.1.norm.bias`,
// `decoder.transpconvs.0.weight`, `decoder.seg_layers.3.weight` (parameters are counted once, as in PyTorch).
// 2-D, without deep supervision or dropout.
import { checkBoolean, checkOptions, type OptionKeys } from '../../core/options.js';
import { ModuleList, Sequential } from '../../nn/container.js';
import { Conv2d, ConvTranspose2d } from '../../nn/conv.js';
import { LeakyReLU } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { InstanceNorm2d } from '../../nn/norm.js';
import { cat } from '../../tensor/ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkCounts, checkMultipleInput, multipleSize } from './sizes.js';

/** conv (k 3, padding 1, bias) -> InstanceNorm2d(eps 1e-5, affine) -> LeakyReLU(0.01), also held as all_modules. */
export class ConvDropoutNormReLU extends Module {
  readonly conv: Conv2d;
  readonly norm: InstanceNorm2d;
  readonly nonlin: LeakyReLU;
  readonly all_modules: Sequential;

  constructor(cin: number, cout: number, stride: number, bias: boolean) {
    super();
    this.conv = new Conv2d(cin, cout, 3, { stride, padding: 1, bias });
    this.norm = new InstanceNorm2d(cout, { eps: 1e-5, affine: true });
    this.nonlin = new LeakyReLU(0.01);
    this.all_modules = new Sequential(this.conv, this.norm, this.nonlin);
  }

  forward(x: Tensor): Tensor {
    return this.all_modules.forward(x);
  }
}

/** n ConvDropoutNormReLU in `convs`, the first with `stride`. */
export class StackedConvBlocks extends Module {
  readonly convs: Sequential;

  constructor(n: number, cin: number, cout: number, stride: number, bias: boolean) {
    super();
    this.convs = new Sequential(...Array.from({ length: n }, (_, i) => new ConvDropoutNormReLU(i ? cout : cin, cout, i ? 1 : stride, bias)));
  }

  forward(x: Tensor): Tensor {
    return this.convs.forward(x);
  }
}

/** `stages`: Sequential of Sequential(StackedConvBlocks); forward returns every stage's output (the skips). */
export class PlainConvEncoder extends Module {
  readonly stages: Sequential;

  constructor(readonly features: readonly number[], inChannels: number, nConv: number, bias: boolean) {
    super();
    this.stages = new Sequential(...features.map((f, s) => new Sequential(new StackedConvBlocks(nConv, s ? features[s - 1]! : inChannels, f, s ? 2 : 1, bias))));
  }

  forward(x: Tensor): Tensor[] {
    const skips: Tensor[] = [];
    for (const s of this.stages) skips.push((s as Sequential).forward(skips.at(-1) ?? x));
    return skips;
  }
}

/** The decoder: `encoder` (the same module), `stages`, `transpconvs`, `seg_layers` (one per level; the last is used). */
export class UNetDecoder extends Module {
  readonly stages: ModuleList;
  readonly transpconvs: ModuleList;
  readonly seg_layers: ModuleList;

  constructor(readonly encoder: PlainConvEncoder, classes: number, nConv: number, bias: boolean) {
    super();
    const f = encoder.features;
    const levels = Array.from({ length: f.length - 1 }, (_, i) => i + 1);
    this.stages = new ModuleList(levels.map((s) => new StackedConvBlocks(nConv, 2 * f[f.length - s - 1]!, f[f.length - s - 1]!, 1, bias)));
    this.transpconvs = new ModuleList(levels.map((s) => new ConvTranspose2d(f[f.length - s]!, f[f.length - s - 1]!, 2, { stride: 2, bias })));
    this.seg_layers = new ModuleList(levels.map((s) => new Conv2d(f[f.length - s - 1]!, classes, 1)));
  }

  /** skips from the encoder (consumed: each is disposed once used) -> the full-resolution logits. */
  forward(skips: Tensor[]): Tensor {
    let low = skips.pop()!;
    for (let s = 0; s < this.stages.length; s++) {
      const up = (this.transpconvs.at(s) as ConvTranspose2d).forward(low);
      low.dispose();
      const skip = skips.pop()!;
      const merged = cat([up, skip], 1);
      up.dispose();
      skip.dispose();
      low = (this.stages.at(s) as StackedConvBlocks).forward(merged);
      merged.dispose();
    }
    const y = (this.seg_layers.at(-1) as Conv2d).forward(low);
    low.dispose();
    return y;
  }
}

export interface PlainConvUNetOptions {
  inChannels: number;
  classes: number;
  /** Features of the first stage (nnU-Net: 32); stage i has min(width * 2^i, maxWidth). */
  width?: number;
  /** Downsampling stages (n_stages - 1; nnU-Net picks it from the patch size). Default 4. */
  depth?: number;
  /** Feature cap (nnU-Net 2-D: 512). */
  maxWidth?: number;
  /** Convs per stage, encoder and decoder (nnU-Net: 2). */
  convsPerStage?: number;
  /** Conv and transposed-conv biases (nnU-Net: true). */
  convBias?: boolean;
}

const KEYS: OptionKeys<PlainConvUNetOptions> = { inChannels: true, classes: true, width: true, depth: true, maxWidth: true, convsPerStage: true, convBias: true };

/**
 * PlainConvUNet(input_channels, n_stages = depth + 1, features_per_stage, nn.Conv2d, kernel_sizes 3, strides [1, 2, ...],
 * n_conv_per_stage, num_classes, n_conv_per_stage_decoder, conv_bias, nn.InstanceNorm2d {eps 1e-5, affine}, None, None,
 * nn.LeakyReLU {negative_slope 1e-2}): x [N, inChannels, H, W] -> [N, classes, H, W], H and W multiples of 2^depth.
 */
export class PlainConvUNet extends Module {
  readonly encoder: PlainConvEncoder;
  readonly decoder: UNetDecoder;
  readonly config: Required<PlainConvUNetOptions>;

  constructor(opts: PlainConvUNetOptions) {
    super();
    const op = 'PlainConvUNet';
    const { inChannels, classes, width = 32, depth = 4, maxWidth = 512, convsPerStage = 2, convBias = true } = checkOptions(op, opts, KEYS);
    checkCounts(op, { inChannels, classes, width, depth, maxWidth, convsPerStage });
    checkBoolean(op, 'convBias', convBias);
    this.config = { inChannels, classes, width, depth, maxWidth, convsPerStage, convBias };
    const features = Array.from({ length: depth + 1 }, (_, i) => Math.min(width * 2 ** i, maxWidth));
    this.encoder = new PlainConvEncoder(features, inChannels, convsPerStage, convBias);
    this.decoder = new UNetDecoder(this.encoder, classes, convsPerStage, convBias);
  }

  outputSize(size: number): number {
    return multipleSize('PlainConvUNet', this.config.depth, size);
  }

  forward(x: Tensor): Tensor {
    checkMultipleInput('PlainConvUNet', this.config.depth, x);
    return this.decoder.forward(this.encoder.forward(x));
  }
}
