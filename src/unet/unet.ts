import { Module } from '../nn/module.js';
import { ArgumentError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { DoubleConv, Down, OutConv, Up } from './parts.js';

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
}

/**
 * The U-Net (Ronneberger et al. 2015) with milesial's attribute names: inc, down1..downN, up1..upN, outc.
 * x [N, inChannels, H, W] -> logits [N, classes, H', W']. The seed: UNet({ inChannels: 1, classes: 1,
 * padding: 'valid' }) maps 572x572 to 564x564 with 31,042,369 parameters.
 */
export class UNet extends Module {
  readonly inc: DoubleConv;
  declare readonly outc: OutConv;
  readonly config: Required<UNetOptions>;

  constructor(opts: UNetOptions) {
    super();
    const { inChannels, classes, width = 64, depth = 4, bilinear = false, padding = 'same', bias = true, merge = 'pad' } = opts;
    for (const [k, v] of Object.entries({ inChannels, classes, width, depth })) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError('UNet', `${k} must be a positive integer, got ${v}`);
    }
    if (bilinear && width % 2) throw new ArgumentError('UNet', `bilinear needs an even width, got ${width}`);
    this.config = { inChannels, classes, width, depth, bilinear, padding, bias, merge };
    const part = { padding, bias };
    const factor = bilinear ? 2 : 1;
    const self = this as unknown as Record<string, Module>;
    this.inc = new DoubleConv(inChannels, width, width, part);
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

  down(i: number): Down {
    return (this as unknown as Record<string, Down>)[`down${i}`]!;
  }

  up(i: number): Up {
    return (this as unknown as Record<string, Up>)[`up${i}`]!;
  }

  /** x [N, inChannels, H, W] -> logits [N, classes, H', W']. Intermediate handles are disposed as it goes. */
  forward(x: Tensor): Tensor {
    const { depth } = this.config;
    const skips: Tensor[] = [this.inc.forward(x)];
    for (let i = 1; i <= depth; i++) skips.push(this.down(i).forward(skips[i - 1]!));
    let y = skips.pop()!;
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

  /** Output H (or W) for an input of `size` (valid padding shrinks it; pad merge keeps the skip's size). */
  static outputSize(size: number, { depth = 4, padding = 'same', merge = 'pad' }: Pick<UNetOptions, 'depth' | 'padding' | 'merge'> = {}): number {
    const trim = padding === 'valid' ? 4 : 0;
    const sizes: number[] = [];
    let s = size - trim;
    sizes.push(s);
    for (let i = 1; i <= depth; i++) {
      s = Math.floor(s / 2) - trim;
      sizes.push(s);
    }
    let y = sizes.pop()!;
    for (let i = 1; i <= depth; i++) {
      const skip = sizes.pop()!;
      y = (merge === 'pad' ? skip : 2 * y) - trim;
    }
    return y;
  }
}
