// The U-Net's building blocks, class for class and field for field as milesial/Pytorch-UNet's unet_parts.py,
// so state-dict keys read `inc.double_conv.0.weight`, `down1.maxpool_conv.1.double_conv.4.running_mean`.
import { BatchNorm2d } from '../nn/batch_norm.js';
import { Sequential } from '../nn/container.js';
import { Conv2d, ConvTranspose2d } from '../nn/conv.js';
import { MaxPool2d, ReLU, Upsample } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { checkpoint } from '../tensor/checkpoint.js';
import { cat, pad } from '../tensor/ops/movement.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkOneOf, checkOptions } from '../core/options.js';

export interface PartOptions {
  /** 'same' pads the 3x3 convs by 1; 'valid' (the 2015 paper) by 0, so each conv trims 2 pixels. */
  padding?: 'same' | 'valid';
  /** Conv biases (milesial today: false; the seed and the peers: true). */
  bias?: boolean;
}

/**
 * (3x3 conv -> BatchNorm -> ReLU) x 2: x [N, cin, H, W] -> [N, cout, H', W'] (H' = H - 4 when 'valid'). PyTorch's
 * module structure and keys; the Sequential runs each BatchNorm2d -> ReLU pair as one fused op (batchNormRelu).
 */
export class DoubleConv extends Module {
  readonly double_conv: Sequential;
  /**
   * Activation checkpointing: keep only the block's input in training and recompute its convs, BatchNorms and ReLUs
   * in backward (one more forward of the block for about half the activation memory). Off by default; not part of
   * the state dict. UNet.setCheckpointing() sets it on every block.
   */
  checkpoint = false;

  constructor(cin: number, cout: number, mid = cout, opts?: PartOptions) {
    super();
    const { padding = 'same', bias = true } = checkOptions('DoubleConv', opts, { padding: true, bias: true });
    checkOneOf('DoubleConv', 'padding', padding, ['same', 'valid'] as const);
    checkBoolean('DoubleConv', 'bias', bias);
    const p = padding === 'same' ? 1 : 0;
    this.double_conv = new Sequential(
      new Conv2d(cin, mid, 3, { padding: p, bias }),
      new BatchNorm2d(mid),
      new ReLU(),
      new Conv2d(mid, cout, 3, { padding: p, bias }),
      new BatchNorm2d(cout),
      new ReLU(),
    );
  }

  forward(x: Tensor): Tensor {
    if (this.checkpoint) return checkpoint((v) => this.double_conv.forward(v), [x], this.parameters());
    return this.double_conv.forward(x);
  }
}

/** 2x2 max pool, then DoubleConv: [N, cin, H, W] -> [N, cout, H/2 (- 4), W/2 (- 4)]. */
export class Down extends Module {
  readonly maxpool_conv: Sequential;

  constructor(cin: number, cout: number, opts?: PartOptions) {
    super();
    checkOptions('Down', opts, { padding: true, bias: true });
    this.maxpool_conv = new Sequential(new MaxPool2d(2), new DoubleConv(cin, cout, cout, opts));
  }

  forward(x: Tensor): Tensor {
    return this.maxpool_conv.forward(x);
  }
}

export interface UpOptions extends PartOptions {
  /** Bilinear upsampling (align_corners) instead of a 2x2 stride-2 transposed conv. */
  bilinear?: boolean;
  /** 'pad' zero-pads the upsampled map to the skip (milesial); 'crop' center-crops the skip (the 2015 paper). */
  merge?: 'pad' | 'crop';
}

/**
 * Upsample x1 (transposed conv cin -> cin/2, or bilinear x2), bring it and the skip x2 to one size (pad or
 * crop), cat([skip, up], 1), DoubleConv(cin, cout) (mid = cin/2 when bilinear, as milesial).
 */
export class Up extends Module {
  readonly up: ConvTranspose2d | Upsample;
  readonly conv: DoubleConv;
  readonly merge: 'pad' | 'crop';

  constructor(cin: number, cout: number, upOpts?: UpOptions) {
    super();
    const { bilinear = false, merge = 'pad', ...opts } = checkOptions('Up', upOpts, { padding: true, bias: true, bilinear: true, merge: true });
    checkBoolean('Up', 'bilinear', bilinear);
    checkOneOf('Up', 'merge', merge, ['pad', 'crop'] as const);
    this.merge = merge;
    if (bilinear) {
      this.up = new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true });
      this.conv = new DoubleConv(cin, cout, Math.floor(cin / 2), opts);
    } else {
      this.up = new ConvTranspose2d(cin, Math.floor(cin / 2), 2, { stride: 2 });
      this.conv = new DoubleConv(cin, cout, cout, opts);
    }
  }

  /** x1 [N, cin', h, w] from below, x2 [N, cskip, H, W] the skip -> [N, cout, ...]. */
  forward(x1: Tensor, x2: Tensor): Tensor {
    const u = this.up.forward(x1);
    const dy = x2.shape[2]! - u.shape[2]!;
    const dx = x2.shape[3]! - u.shape[3]!;
    let merged: Tensor;
    if (this.merge === 'pad') {
      // Negative differences crop, as F.pad does: milesial's rule for any size mismatch.
      const padded = dx || dy ? pad(u, [Math.floor(dx / 2), dx - Math.floor(dx / 2), Math.floor(dy / 2), dy - Math.floor(dy / 2)]) : u;
      merged = cat([x2, padded], 1);
      if (padded !== u) padded.dispose();
    } else {
      const cropped = dx || dy ? pad(x2, [-Math.floor(dx / 2), -(dx - Math.floor(dx / 2)), -Math.floor(dy / 2), -(dy - Math.floor(dy / 2))]) : x2;
      merged = cat([cropped, u], 1);
      if (cropped !== x2) cropped.dispose();
    }
    u.dispose();
    const y = this.conv.forward(merged);
    merged.dispose();
    return y;
  }
}

/** 1x1 conv to the class logits. */
export class OutConv extends Module {
  readonly conv: Conv2d;

  constructor(cin: number, cout: number) {
    super();
    this.conv = new Conv2d(cin, cout, 1);
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}
