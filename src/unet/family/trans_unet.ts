// TransUNet (Chen et al. 2021, "TransUNet: Transformers Make Strong Encoders for Medical Image Segmentation") on the
// U-Net of ../unet.ts: the CNN encoder's deepest map is tokenised (1x1 patch embedding, learned position embeddings),
// passes a pre-norm transformer encoder (torch.nn.TransformerEncoder, GELU, a final LayerNorm), is reshaped back
// and lifted by a 3x3 conv + BN + ReLU (Beckschen/TransUNet's Embeddings, Encoder and `conv_more`), then decoded by
// milesial's Up blocks with the skips. The hybrid's R50 backbone is milesial's encoder here; the PyTorch reference is
// scripts/fixtures/family_ref.py TransUNet. Keys: `inc.double_conv.0.weight`, `down4.maxpool_conv.1...`, `up1.up.weight`,
// `outc.conv.bias`, `embeddings.patch_embeddings.weight`, `embeddings.position_embeddings`,
// `encoder.layers.0.self_attn.in_proj_weight`, `encoder.norm.weight`, `conv_more.0.weight`.
import { ArgumentError } from '../../core/errors.js';
import { checkNumber, checkOptions, type OptionKeys } from '../../core/options.js';
import { BatchNorm2d } from '../../nn/batch_norm.js';
import { Sequential } from '../../nn/container.js';
import { Conv2d, newParameter } from '../../nn/conv.js';
import { normal_ } from '../../nn/init.js';
import { Dropout, ReLU } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import type { Parameter } from '../../nn/parameter.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../../nn/transformer.js';
import { add } from '../../tensor/ops/elementwise.js';
import { interpolate, permute } from '../../tensor/ops/movement.js';
import { reshape } from '../../tensor/ops/shape_ops.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { UNet, type UNetOptions } from '../unet.js';

export interface TransUNetOptions extends Omit<UNetOptions, 'block' | 'padding' | 'merge'> {
  /** The input size the position embeddings are laid out for (TransUNet: 224); others resample them bilinearly. */
  imageSize?: number;
  /** Transformer layers (TransUNet's ViT-B: 12; default 4). */
  layers?: number;
  /** Attention heads (default 8); they split the hidden size. */
  heads?: number;
  /** Token size (default: the bottleneck's channels). */
  hiddenSize?: number;
  /** Feed-forward size (default 4 x hiddenSize, as ViT). */
  mlpDim?: number;
  /** Dropout on the embeddings and in the transformer (default 0.1, as TransUNet). */
  dropout?: number;
}

const KEYS: OptionKeys<TransUNetOptions> = {
  inChannels: true, classes: true, width: true, depth: true, bilinear: true, bias: true,
  imageSize: true, layers: true, heads: true, hiddenSize: true, mlpDim: true, dropout: true,
};

/** Beckschen/TransUNet's Embeddings: a 1x1 conv to the token size and learned position embeddings [1, grid^2, hidden]. */
export class Embeddings extends Module {
  readonly patch_embeddings: Conv2d;
  position_embeddings: Parameter;
  readonly dropout: Dropout;

  constructor(cin: number, hidden: number, readonly grid: number, p: number) {
    super();
    this.patch_embeddings = new Conv2d(cin, hidden, 1);
    this.position_embeddings = newParameter('Embeddings', 'position_embeddings', [1, grid * grid, hidden]);
    normal_(this.position_embeddings, 0, 0.02);
    this.dropout = new Dropout(p);
  }

  /** x [N, C, h, w] -> tokens [N, h*w, hidden] (row-major positions), position embeddings resampled to h x w. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const e = this.patch_embeddings.forward(x);
      const [N, Hd, h, w] = e.shape as [number, number, number, number];
      const tokens = reshape(permute(e, [0, 2, 3, 1]), [N, h * w, Hd]);
      const g = this.grid;
      const pos = h === g && w === g ? this.position_embeddings : (() => {
        // [1, g*g, hidden] -> [1, hidden, g, g], bilinear to [h, w] (timm's resample_abs_pos_embed), and back.
        const plane = permute(reshape(this.position_embeddings, [1, g, g, Hd]), [0, 3, 1, 2]);
        const r = interpolate(plane, { size: [h, w], mode: 'bilinear', alignCorners: false });
        return reshape(permute(r, [0, 2, 3, 1]), [1, h * w, Hd]);
      })();
      return this.dropout.forward(add(tokens, pos));
    });
  }
}

/**
 * TransUNet({ inChannels: 1, classes: 1 }): milesial's U-Net ('same' padding, pad merge) with a transformer at the
 * bottleneck. x [N, inChannels, H, W] -> [N, classes, H, W], H and W >= 2^depth.
 */
export class TransUNet extends UNet {
  readonly embeddings: Embeddings;
  readonly encoder: TransformerEncoder;
  readonly conv_more: Sequential;
  readonly transformer: Required<Pick<TransUNetOptions, 'imageSize' | 'layers' | 'heads' | 'hiddenSize' | 'mlpDim' | 'dropout'>>;

  constructor(opts: TransUNetOptions) {
    const op = 'TransUNet';
    const o = checkOptions(op, opts, KEYS);
    const { imageSize = 224, layers = 4, heads = 8, hiddenSize, mlpDim, dropout = 0.1, ...unet } = o;
    super({ ...unet, padding: 'same', merge: 'pad', block: 'double' });
    const { width, depth, bilinear } = this.config;
    const c = (width * 2 ** depth) / (bilinear ? 2 : 1);
    const hidden = hiddenSize ?? c;
    checkNumber(op, 'imageSize', imageSize, { integer: true, min: 2 ** depth });
    if (imageSize % 2 ** depth) throw new ArgumentError(op, `imageSize ${imageSize} must be a multiple of 2^depth = ${2 ** depth}`);
    checkNumber(op, 'layers', layers, { integer: true, min: 1 });
    checkNumber(op, 'heads', heads, { integer: true, min: 1 });
    checkNumber(op, 'hiddenSize', hidden, { integer: true, min: 1 });
    if (hidden % heads) throw new ArgumentError(op, `hiddenSize ${hidden} must be divisible by heads ${heads}`);
    const mlp = mlpDim ?? 4 * hidden;
    checkNumber(op, 'mlpDim', mlp, { integer: true, min: 1 });
    checkNumber(op, 'dropout', dropout, { min: 0, max: 1 });
    this.transformer = { imageSize, layers, heads, hiddenSize: hidden, mlpDim: mlp, dropout };
    this.embeddings = new Embeddings(c, hidden, imageSize / 2 ** depth, dropout);
    const layer = new TransformerEncoderLayer(hidden, heads, { dimFeedforward: mlp, dropout, activation: 'gelu', batchFirst: true, normFirst: true, layerNormEps: 1e-6 });
    this.encoder = new TransformerEncoder(layer, layers, { norm: new LayerNorm(hidden, { eps: 1e-6 }) });
    this.conv_more = new Sequential(new Conv2d(hidden, c, 3, { padding: 1, bias: false }), new BatchNorm2d(c), new ReLU());
  }

  /** The transformer between encoder and decoder: [N, C, h, w] -> tokens -> [N, C, h, w]. */
  protected override bottleneck(y: Tensor): Tensor {
    return tidy(() => {
      const [N, , h, w] = y.shape as [number, number, number, number];
      const t = this.encoder.forward(this.embeddings.forward(y));
      const plane = permute(reshape(t, [N, h, w, this.transformer.hiddenSize]), [0, 3, 1, 2]);
      return this.conv_more.forward(plane);
    });
  }

  /** Output H (or W) of an input of `size`: the same size ('same' padding, pad merge). */
  outputSize(size: number): number {
    return UNet.outputSize(size, { depth: this.config.depth, padding: 'same', merge: 'pad' });
  }
}
