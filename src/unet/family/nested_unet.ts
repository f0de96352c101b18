// UNet++ (Zhou et al. 2018, "UNet++: A Nested U-Net Architecture for Medical Image Segmentation"): nested, densely
// connected skips X^{i,j} = H(cat(X^{i,0}, ..., X^{i,j-1}, up(X^{i+1,j-1}))), with optional deep supervision. Structure,
// field names and forward follow the widely used PyTorch implementation 4uiiurz1/pytorch-nested-unet (archs.py:
// VGGBlock, NestedUNet), so its state dicts load as they are (keys `conv0_0.conv1.weight`, `conv1_3.bn2.running_var`,
// `final.weight` or `final1.weight`..`final4.weight`).
import { checkBoolean, checkOptions, type OptionKeys } from '../../core/options.js';
import { BatchNorm2d } from '../../nn/batch_norm.js';
import { Conv2d } from '../../nn/conv.js';
import { MaxPool2d, ReLU, Upsample } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { cat } from '../../tensor/ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkCounts, child, checkMultipleInput, multipleSize } from './sizes.js';
import { chain } from '../parts.js';

/** 4uiiurz1's VGGBlock: relu(bn1(conv1(x))) then relu(bn2(conv2(.))), 3x3 convs padded by 1 with biases. */
export class VGGBlock extends Module {
  readonly relu: ReLU;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;

  constructor(cin: number, mid: number, cout: number) {
    super();
    this.relu = new ReLU();
    this.conv1 = new Conv2d(cin, mid, 3, { padding: 1 });
    this.bn1 = new BatchNorm2d(mid);
    this.conv2 = new Conv2d(mid, cout, 3, { padding: 1 });
    this.bn2 = new BatchNorm2d(cout);
  }

  forward(x: Tensor): Tensor {
    const r = (t: Tensor) => this.relu.forward(t);
    return chain(x, (t) => this.conv1.forward(t), (t) => this.bn1.forward(t), r, (t) => this.conv2.forward(t), (t) => this.bn2.forward(t), r);
  }
}

export interface NestedUNetOptions {
  inChannels: number;
  classes: number;
  /** Channels of the first level (4uiiurz1: nb_filter[0] = 32); level i has width * 2^i. */
  width?: number;
  /** Levels below the top (4uiiurz1: 4, i.e. conv0_0..conv4_0). */
  depth?: number;
  /** One 1x1 head per top-row node (final1..final{depth}) instead of one (final); default false. */
  deepSupervision?: boolean;
}

const KEYS: OptionKeys<NestedUNetOptions> = { inChannels: true, classes: true, width: true, depth: true, deepSupervision: true };

/**
 * NestedUNet (4uiiurz1/pytorch-nested-unet) generalised to width and depth: NestedUNet({ inChannels: 3, classes: 1 })
 * is NestedUNet(num_classes=1, input_channels=3). Node conv{i}_{j} (i = level, j = column, i + j <= depth) is a
 * VGGBlock(width*2^i*j + width*2^(i+1), width*2^i, width*2^i) for j >= 1; up is bilinear x2 with align_corners.
 * x [N, inChannels, H, W] -> [N, classes, H, W] (H, W multiples of 2^depth). forward() returns the last head;
 * forwardHeads() all of them (deep supervision: the training loss is the mean of the heads' losses, as 4uiiurz1's train.py).
 */
export class NestedUNet extends Module {
  readonly pool: MaxPool2d;
  readonly up: Upsample;
  readonly config: Required<NestedUNetOptions>;

  constructor(opts: NestedUNetOptions) {
    super();
    const op = 'NestedUNet';
    const { inChannels, classes, width = 32, depth = 4, deepSupervision = false } = checkOptions(op, opts, KEYS);
    checkCounts(op, { inChannels, classes, width, depth });
    checkBoolean(op, 'deepSupervision', deepSupervision);
    this.config = { inChannels, classes, width, depth, deepSupervision };
    const nb = (i: number) => width * 2 ** i;
    const self = this as unknown as Record<string, Module>;
    this.pool = new MaxPool2d(2, { stride: 2 });
    this.up = new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    for (let j = 0; j <= depth; j++) {
      for (let i = 0; i + j <= depth; i++) {
        const cin = j === 0 ? (i === 0 ? inChannels : nb(i - 1)) : nb(i) * j + nb(i + 1);
        self[`conv${i}_${j}`] = new VGGBlock(cin, nb(i), nb(i));
      }
    }
    if (deepSupervision) for (let k = 1; k <= depth; k++) self[`final${k}`] = new Conv2d(nb(0), classes, 1);
    else self.final = new Conv2d(nb(0), classes, 1);
  }

  /** Output H (or W) of an input of `size`: the same size; ArgumentError unless it is a multiple of 2^depth. */
  outputSize(size: number): number {
    return multipleSize('NestedUNet', this.config.depth, size);
  }

  /** The logits of every head: [final(X^{0,depth})], or with deep supervision [final1(X^{0,1}), ..., final{depth}(X^{0,depth})]. */
  forwardHeads(x: Tensor): Tensor[] {
    const { depth, deepSupervision } = this.config;
    checkMultipleInput('NestedUNet', depth, x);
    // X[i][j], filled column by column as each level comes in (4uiiurz1's order).
    const X: Tensor[][] = Array.from({ length: depth + 1 }, () => []);
    X[0]![0] = child<VGGBlock>(this, 'conv0_0').forward(x);
    for (let k = 1; k <= depth; k++) {
      X[k]![0] = chain(X[k - 1]![0]!, (t) => this.pool.forward(t), (t) => child<VGGBlock>(this, `conv${k}_0`).forward(t));
      for (let j = 1; j <= k; j++) {
        const i = k - j;
        const up = this.up.forward(X[i + 1]![j - 1]!);
        const merged = cat([...X[i]!.slice(0, j), up], 1);
        up.dispose();
        X[i]![j] = child<VGGBlock>(this, `conv${i}_${j}`).forward(merged);
        merged.dispose();
      }
    }
    const heads = deepSupervision
      ? Array.from({ length: depth }, (_, k) => child<Conv2d>(this, `final${k + 1}`).forward(X[0]![k + 1]!))
      : [child<Conv2d>(this, 'final').forward(X[0]![depth]!)];
    for (const row of X) for (const t of row) t.dispose();
    return heads;
  }

  /** The last head's logits [N, classes, H, W] (what 4uiiurz1's val.py predicts with). */
  forward(x: Tensor): Tensor {
    const heads = this.forwardHeads(x);
    for (const h of heads.slice(0, -1)) h.dispose();
    return heads.at(-1)!;
  }
}
