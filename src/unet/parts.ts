// The U-Net's building blocks, class for class and field for field as milesial/Pytorch-UNet's unet_parts.py,
// so state-dict keys read `inc.double_conv.0.weight`, `down1.maxpool_conv.1.double_conv.4.running_mean`.
import { BatchNorm2d } from '../nn/batch_norm.js';
import { Sequential } from '../nn/container.js';
import { Conv2d, ConvTranspose2d } from '../nn/conv.js';
import { MaxPool2d, ReLU, Upsample } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { checkpoint } from '../tensor/checkpoint.js';
import { add } from '../tensor/ops/elementwise.js';
import { cat, pad } from '../tensor/ops/movement.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkOneOf, checkOptions } from '../core/options.js';
import { ArgumentError } from '../core/errors.js';

export interface PartOptions {
  /** 'same' pads the 3x3 convs by 1; 'valid' (the 2015 paper) by 0, so each conv trims 2 pixels. */
  padding?: 'same' | 'valid';
  /** Conv biases (milesial today: false; the seed and the peers: true). */
  bias?: boolean;
  /** 'double': DoubleConv (milesial); 'residual': ResidualBlock (torchvision's BasicBlock; 'same' padding, transposed-conv up only). */
  block?: 'double' | 'residual';
}

const PART_KEYS = { padding: true, bias: true, block: true } as const;

/** The two 3x3 conv -> BN -> ReLU layers of a DoubleConv (also LeeJunHyun's conv_block), as a Sequential. */
export function doubleConvLayers(cin: number, cout: number, mid = cout, padding = 1, bias = true): Sequential {
  return new Sequential(
    new Conv2d(cin, mid, 3, { padding, bias }),
    new BatchNorm2d(mid),
    new ReLU(),
    new Conv2d(mid, cout, 3, { padding, bias }),
    new BatchNorm2d(cout),
    new ReLU(),
  );
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

  constructor(cin: number, cout: number, mid = cout, opts?: Omit<PartOptions, 'block'>) {
    super();
    const { padding = 'same', bias = true } = checkOptions('DoubleConv', opts, { padding: true, bias: true });
    checkOneOf('DoubleConv', 'padding', padding, ['same', 'valid'] as const);
    checkBoolean('DoubleConv', 'bias', bias);
    this.double_conv = doubleConvLayers(cin, cout, mid, padding === 'same' ? 1 : 0, bias);
  }

  forward(x: Tensor): Tensor {
    if (this.checkpoint) return checkpoint((v) => this.double_conv.forward(v), [x], this.parameters());
    return this.double_conv.forward(x);
  }
}

/**
 * x -> f1 -> f2 -> ... ; each intermediate handle is disposed once the next one exists (x and the result are not),
 * as Sequential.forward does for modules. Autograd keeps its own references to what backward needs.
 */
export function chain(x: Tensor, ...fns: ((t: Tensor) => Tensor)[]): Tensor {
  let y = x;
  for (const f of fns) {
    const next = f(y);
    if (y !== x && y !== next) y.dispose();
    y = next;
  }
  return y;
}

/**
 * torchvision's ResNet BasicBlock (He et al. 2016) without stride: relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)),
 * 3x3 convs padded by 1, s = identity when cin == cout, else `downsample` = Sequential(1x1 conv, BN) (the
 * projection shortcut). Keys as torchvision: conv1, bn1, conv2, bn2, downsample.0, downsample.1.
 */
export class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  /** Activation checkpointing, as DoubleConv.checkpoint (UNet.setCheckpointing sets it). */
  checkpoint = false;

  constructor(cin: number, cout: number, opts?: { bias?: boolean }) {
    super();
    const { bias = false } = checkOptions('ResidualBlock', opts, { bias: true });
    checkBoolean('ResidualBlock', 'bias', bias);
    this.conv1 = new Conv2d(cin, cout, 3, { padding: 1, bias });
    this.bn1 = new BatchNorm2d(cout);
    this.relu = new ReLU();
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, bias });
    this.bn2 = new BatchNorm2d(cout);
    this.downsample = cin === cout ? null : new Sequential(new Conv2d(cin, cout, 1, { bias: false }), new BatchNorm2d(cout));
  }

  forward(x: Tensor): Tensor {
    if (this.checkpoint) return checkpoint((v) => this.#run(v), [x], this.parameters());
    return this.#run(x);
  }

  #run(x: Tensor): Tensor {
    const d = chain(x, (t) => this.conv1.forward(t), (t) => this.bn1.forward(t), (t) => this.relu.forward(t), (t) => this.conv2.forward(t), (t) => this.bn2.forward(t));
    const s = this.downsample ? this.downsample.forward(x) : x;
    const sum = add(d, s);
    d.dispose();
    if (s !== x) s.dispose();
    const y = this.relu.forward(sum);
    sum.dispose();
    return y;
  }
}

/** The block a Down / Up runs: DoubleConv or ResidualBlock (see PartOptions.block). */
function makeBlock(op: string, cin: number, cout: number, mid: number, opts?: PartOptions): DoubleConv | ResidualBlock {
  const { block = 'double', ...rest } = checkOptions(op, opts, PART_KEYS);
  checkOneOf(op, 'block', block, ['double', 'residual'] as const);
  if (block === 'double') return new DoubleConv(cin, cout, mid, rest);
  if ((rest.padding ?? 'same') !== 'same') throw new ArgumentError(op, `block 'residual' needs padding 'same', got '${rest.padding}'`);
  if (mid !== cout) throw new ArgumentError(op, `block 'residual' has no middle width (torchvision's BasicBlock): got ${mid} for ${cin} -> ${cout} (bilinear up)`);
  return new ResidualBlock(cin, cout, { bias: rest.bias ?? false });
}

/** 2x2 max pool, then DoubleConv: [N, cin, H, W] -> [N, cout, H/2 (- 4), W/2 (- 4)]. */
export class Down extends Module {
  readonly maxpool_conv: Sequential;

  constructor(cin: number, cout: number, opts?: PartOptions) {
    super();
    this.maxpool_conv = new Sequential(new MaxPool2d(2), makeBlock('Down', cin, cout, cout, opts));
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
  readonly conv: DoubleConv | ResidualBlock;
  readonly merge: 'pad' | 'crop';

  constructor(cin: number, cout: number, upOpts?: UpOptions) {
    super();
    const { bilinear = false, merge = 'pad', ...opts } = checkOptions('Up', upOpts, { ...PART_KEYS, bilinear: true, merge: true });
    checkBoolean('Up', 'bilinear', bilinear);
    checkOneOf('Up', 'merge', merge, ['pad', 'crop'] as const);
    this.merge = merge;
    if (bilinear) {
      this.up = new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true });
      this.conv = makeBlock('Up', cin, cout, Math.floor(cin / 2), opts);
    } else {
      this.up = new ConvTranspose2d(cin, Math.floor(cin / 2), 2, { stride: 2 });
      this.conv = makeBlock('Up', cin, cout, cout, opts);
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
