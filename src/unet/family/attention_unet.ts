// Attention U-Net (Oktay et al. 2018, "Attention U-Net: Learning Where to Look for the Pancreas"): a U-Net whose skips
// pass through additive attention gates before the concatenation. Structure, field names and forward follow the widely
// used PyTorch port LeeJunHyun/Image_Segmentation (network.py: conv_block, up_conv, Attention_block, AttU_Net), so its
// state dicts load as they are (keys `Conv1.conv.0.weight`, `Att5.W_g.1.running_mean`, `Up_conv2.conv.4.bias`, `Conv_1x1.weight`).
import { checkNumber, checkOptions, type OptionKeys } from '../../core/options.js';
import { BatchNorm2d } from '../../nn/batch_norm.js';
import { Sequential } from '../../nn/container.js';
import { Conv2d } from '../../nn/conv.js';
import { MaxPool2d, ReLU, Sigmoid, Upsample } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { add, mul } from '../../tensor/ops/elementwise.js';
import { cat } from '../../tensor/ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkCounts, child, checkMultipleInput, multipleSize } from './sizes.js';
import { chain, doubleConvLayers } from '../parts.js';

/** LeeJunHyun's conv_block: (3x3 conv (bias) -> BN -> ReLU) x 2 in a Sequential named `conv`. */
export class ConvBlock extends Module {
  readonly conv: Sequential;
  constructor(cin: number, cout: number) {
    super();
    this.conv = doubleConvLayers(cin, cout, cout, 1, true);
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

/** LeeJunHyun's up_conv: nearest x2 upsampling, 3x3 conv (bias), BN, ReLU, in a Sequential named `up`. */
export class UpConv extends Module {
  readonly up: Sequential;
  constructor(cin: number, cout: number) {
    super();
    this.up = new Sequential(new Upsample({ scaleFactor: 2 }), new Conv2d(cin, cout, 3, { padding: 1 }), new BatchNorm2d(cout), new ReLU());
  }
  forward(x: Tensor): Tensor {
    return this.up.forward(x);
  }
}

/**
 * The additive attention gate (LeeJunHyun's Attention_block): psi = sigmoid(BN(conv1x1(relu(BN(W_g g) + BN(W_x x))))),
 * returns x * psi. g [N, F_g, H, W] (the gating signal from below), x [N, F_l, H, W] (the skip) -> [N, F_l, H, W].
 */
export class AttentionBlock extends Module {
  readonly W_g: Sequential;
  readonly W_x: Sequential;
  readonly psi: Sequential;
  readonly relu: ReLU;

  constructor(fG: number, fL: number, fInt: number) {
    super();
    this.W_g = new Sequential(new Conv2d(fG, fInt, 1), new BatchNorm2d(fInt));
    this.W_x = new Sequential(new Conv2d(fL, fInt, 1), new BatchNorm2d(fInt));
    this.psi = new Sequential(new Conv2d(fInt, 1, 1), new BatchNorm2d(1), new Sigmoid());
    this.relu = new ReLU();
  }

  forward(g: Tensor, x: Tensor): Tensor {
    const g1 = this.W_g.forward(g);
    const x1 = this.W_x.forward(x);
    const s = add(g1, x1);
    g1.dispose();
    x1.dispose();
    const psi = chain(s, (t) => this.relu.forward(t), (t) => this.psi.forward(t));
    s.dispose();
    const y = mul(x, psi);
    psi.dispose();
    return y;
  }
}

export interface AttentionUNetOptions {
  inChannels: number;
  classes: number;
  /** Channels of the first level (LeeJunHyun: 64); level i has width * 2^i. */
  width?: number;
  /** Number of pooling steps (LeeJunHyun: 4, i.e. Conv1..Conv5). */
  depth?: number;
}

const KEYS: OptionKeys<AttentionUNetOptions> = { inChannels: true, classes: true, width: true, depth: true };

/**
 * AttU_Net (LeeJunHyun/Image_Segmentation) generalised to width and depth: AttentionUNet({ inChannels: 3, classes: 1 })
 * is AttU_Net(img_ch=3, output_ch=1). Encoder Conv1..Conv{depth+1} with a shared 2x2 Maxpool; decoder, from the bottom,
 * Up{k} (up_conv), Att{k} (gate with F_g = F_l = the skip's channels, F_int = half of them), Up_conv{k} (conv_block on
 * cat([gated skip, up], 1)), k = depth+1 .. 2; Conv_1x1 to the logits. x [N, inChannels, H, W] -> [N, classes, H, W];
 * H and W must be multiples of 2^depth (the reference concatenates without padding).
 */
export class AttentionUNet extends Module {
  readonly Maxpool: MaxPool2d;
  readonly config: Required<AttentionUNetOptions>;

  constructor(opts: AttentionUNetOptions) {
    super();
    const op = 'AttentionUNet';
    const { inChannels, classes, width = 64, depth = 4 } = checkOptions(op, opts, KEYS);
    checkCounts(op, { inChannels, classes, depth });
    checkNumber(op, 'width', width, { integer: true, min: 2 });
    this.config = { inChannels, classes, width, depth };
    const c = (i: number) => width * 2 ** i;
    const self = this as unknown as Record<string, Module>;
    this.Maxpool = new MaxPool2d(2, { stride: 2 });
    for (let i = 1; i <= depth + 1; i++) self[`Conv${i}`] = new ConvBlock(i === 1 ? inChannels : c(i - 2), c(i - 1));
    for (let k = depth + 1; k >= 2; k--) {
      self[`Up${k}`] = new UpConv(c(k - 1), c(k - 2));
      self[`Att${k}`] = new AttentionBlock(c(k - 2), c(k - 2), Math.floor(c(k - 2) / 2));
      self[`Up_conv${k}`] = new ConvBlock(c(k - 1), c(k - 2));
    }
    self.Conv_1x1 = new Conv2d(width, classes, 1);
  }

  /** Output H (or W) of an input of `size`: the same size; ArgumentError unless it is a multiple of 2^depth. */
  outputSize(size: number): number {
    return multipleSize('AttentionUNet', this.config.depth, size);
  }

  forward(x: Tensor): Tensor {
    const { depth } = this.config;
    checkMultipleInput('AttentionUNet', depth, x);
    const skips: Tensor[] = [child<ConvBlock>(this, 'Conv1').forward(x)];
    for (let i = 2; i <= depth + 1; i++) skips.push(chain(skips[i - 2]!, (t) => this.Maxpool.forward(t), (t) => child<ConvBlock>(this, `Conv${i}`).forward(t)));
    let d = skips.pop()!;
    for (let k = depth + 1; k >= 2; k--) {
      const skip = skips.pop()!;
      const up = child<UpConv>(this, `Up${k}`).forward(d);
      d.dispose();
      const gated = child<AttentionBlock>(this, `Att${k}`).forward(up, skip);
      skip.dispose();
      const merged = cat([gated, up], 1);
      gated.dispose();
      up.dispose();
      d = child<ConvBlock>(this, `Up_conv${k}`).forward(merged);
      merged.dispose();
    }
    const y = child<Conv2d>(this, 'Conv_1x1').forward(d);
    d.dispose();
    return y;
  }
}
