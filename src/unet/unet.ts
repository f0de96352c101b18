import { Module } from '../nn/module.js';
import { ArgumentError } from '../core/errors.js';
import { checkBoolean, checkNumber, checkOneOf, checkOptions, type OptionKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { DoubleConv, Down, OutConv, ResidualBlock, Up } from './parts.js';

export interface UNetOptions {
  inChannels: number;
  classes: number;
  /** Channels of the first level; level i has width * 2^i. */
  width?: number;
  /** Number of Down (and Up) blocks. */
  depth?: number;
  /** Bilinear upsampling; then, as milesial, the last Down and the Up blocks halve their output (factor 2). */
  bilinear?: boolean;
  padding?: 'same' | 'valid';
  bias?: boolean;
  /** 'pad' the upsampled map to the skip (the seed, milesial) or 'crop' the skip (the 2015 paper). */
  merge?: 'pad' | 'crop';
  /**
   * 'double' (default): milesial's DoubleConv; 'residual': torchvision's ResNet BasicBlock with a 1x1 projection
   * shortcut in its place (ResUNet; 'same' padding and transposed-conv upsampling only).
   */
  block?: 'double' | 'residual';
}

const KEYS: OptionKeys<UNetOptions> = { inChannels: true, classes: true, width: true, depth: true, bilinear: true, padding: true, bias: true, merge: true, block: true };
const PADDINGS = ['same', 'valid'] as const;
const MERGES = ['pad', 'crop'] as const;
const BLOCKS = ['double', 'residual'] as const;

/**
 * The U-Net (Ronneberger et al. 2015) with milesial's attribute names: inc, down1..downN, up1..upN, outc.
 * x [N, inChannels, H, W] -> logits [N, classes, H', W']. The seed: UNet({ inChannels: 1, classes: 1,
 * padding: 'valid' }) maps 572x572 to 564x564 with 31,042,369 parameters.
 */
export class UNet extends Module {
  readonly inc: DoubleConv | ResidualBlock;
  declare readonly outc: OutConv;
  readonly config: Required<UNetOptions>;

  constructor(opts: UNetOptions) {
    super();
    const op = 'UNet';
    const { inChannels, classes, width = 64, depth = 4, bilinear = false, padding = 'same', bias = true, merge = 'pad', block = 'double' } = checkOptions(op, opts, KEYS);
    for (const [k, v] of Object.entries({ inChannels, classes, width, depth })) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(op, `${k} must be a positive integer, got ${v}`);
    }
    checkOneOf(op, 'padding', padding, PADDINGS);
    checkOneOf(op, 'merge', merge, MERGES);
    checkBoolean(op, 'bilinear', bilinear);
    checkBoolean(op, 'bias', bias);
    checkOneOf(op, 'block', block, BLOCKS);
    if (block === 'residual' && padding !== 'same') throw new ArgumentError(op, `block 'residual' needs padding 'same', got '${padding}'`);
    if (block === 'residual' && bilinear) throw new ArgumentError(op, "block 'residual' needs bilinear false (torchvision's BasicBlock has no middle width)");
    if (bilinear && width % 2) throw new ArgumentError('UNet', `bilinear needs an even width, got ${width}`);
    this.config = { inChannels, classes, width, depth, bilinear, padding, bias, merge, block };
    const part = { padding, bias, block };
    const factor = bilinear ? 2 : 1;
    const self = this as unknown as Record<string, Module>;
    this.inc = block === 'residual' ? new ResidualBlock(inChannels, width, { bias }) : new DoubleConv(inChannels, width, width, { padding, bias });
    for (let i = 1; i <= depth; i++) {
      const cout = width * 2 ** i;
      self[`down${i}`] = new Down(cout / 2, i === depth ? cout / factor : cout, part);
    }
    for (let i = 1; i <= depth; i++) {
      const cin = width * 2 ** (depth - i + 1);
      self[`up${i}`] = new Up(cin, i === depth ? width : cin / 2 / factor, { ...part, bilinear, merge });
    }
    self.outc = new OutConv(width, classes);
  }

  /**
   * Activation checkpointing on (or off) for every DoubleConv: training keeps each block's input only and
   * recomputes the block in backward. Same gradients and running statistics; less peak memory, one more forward
   * of every block per step (bench --checkpointing measures both). Returns this.
   */
  setCheckpointing(on: boolean): this {
    checkBoolean('UNet.setCheckpointing', 'on', on);
    for (const m of this.modules()) if (m instanceof DoubleConv || m instanceof ResidualBlock) m.checkpoint = on;
    return this;
  }

  down(i: number): Down {
    return (this as unknown as Record<string, Down>)[`down${i}`]!;
  }

  up(i: number): Up {
    return (this as unknown as Record<string, Up>)[`up${i}`]!;
  }

  /** What runs between the last Down and the first Up (none here; TransUNet's transformer). */
  protected bottleneck(y: Tensor): Tensor {
    return y;
  }

  /** x [N, inChannels, H, W] -> logits [N, classes, H', W']. Intermediate handles are disposed as it goes. */
  forward(x: Tensor): Tensor {
    const { depth } = this.config;
    const skips: Tensor[] = [this.inc.forward(x)];
    for (let i = 1; i <= depth; i++) skips.push(this.down(i).forward(skips[i - 1]!));
    let y = skips.pop()!;
    const b = this.bottleneck(y);
    if (b !== y) {
      y.dispose();
      y = b;
    }
    for (let i = 1; i <= depth; i++) {
      const skip = skips.pop()!;
      const next = this.up(i).forward(y, skip);
      y.dispose();
      skip.dispose();
      y = next;
    }
    const out = this.outc.forward(y);
    y.dispose();
    return out;
  }

  /**
   * Output H (or W) for an input of `size` (valid padding shrinks it; pad merge keeps the skip's size).
   * Takes the model's options (only depth, padding and merge matter); ArgumentError when a U-Net of these
   * options cannot run on that size (a 3x3 valid conv on fewer than 3 pixels, a 2x2 pool on fewer than 2).
   */
  static outputSize(size: number, opts?: Partial<UNetOptions>): number {
    const op = 'UNet.outputSize';
    const { depth = 4, padding = 'same', merge = 'pad' } = checkOptions(op, opts, KEYS);
    checkNumber(op, 'size', size, { integer: true, min: 1 });
    checkNumber(op, 'depth', depth, { integer: true, min: 1 });
    checkOneOf(op, 'padding', padding, PADDINGS);
    checkOneOf(op, 'merge', merge, MERGES);
    const cannot = (what: string): never => {
      throw new ArgumentError(op, `an input of ${size} cannot run with padding '${padding}', merge '${merge}', depth ${depth}: ${what}`);
    };
    // The two 3x3 convs of a DoubleConv: 'same' keeps the size, 'valid' trims 2 pixels each.
    const double = (s: number, where: string) => {
      if (padding === 'same') return s;
      if (s < 5) cannot(`${where} gets ${s} pixel${s === 1 ? '' : 's'}, its two valid 3x3 convs need at least 5`);
      return s - 4;
    };
    const sizes: number[] = [double(size, 'inc')];
    for (let i = 1; i <= depth; i++) {
      const s = sizes[i - 1]!;
      if (s < 2) cannot(`down${i} gets ${s} pixel, its 2x2 max pool needs at least 2`);
      sizes.push(double(Math.floor(s / 2), `down${i}`));
    }
    let y = sizes.pop()!;
    for (let i = 1; i <= depth; i++) {
      const skip = sizes.pop()!;
      // pad: the upsampled map is padded (or cropped) to the skip; crop: the skip is cropped to it.
      y = double(merge === 'pad' ? skip : 2 * y, `up${i}`);
    }
    return y;
  }
}
