// ResUNet: the U-Net of ../unet.ts (milesial's layout and names: inc, down{i}.maxpool_conv.1, up{i}.up / .conv, outc)
// with every DoubleConv replaced by torchvision's ResNet BasicBlock (torchvision.models.resnet.BasicBlock, He et al.
// 2016: conv1/bn1/relu/conv2/bn2, downsample = Sequential(1x1 conv, BN) where the channels change), the residual
// DoubleConv of the residual U-Nets (Zhang et al. 2018). Keys: `inc.conv1.weight`, `down1.maxpool_conv.1.downsample.0.weight`,
// `up2.conv.bn2.running_mean`, `outc.conv.bias`.
import { checkOptions, type OptionKeys } from '../../core/options.js';
import { UNet, type UNetOptions } from '../unet.js';

export type ResUNetOptions = Omit<UNetOptions, 'block' | 'padding' | 'merge' | 'bilinear'>;

const KEYS: OptionKeys<ResUNetOptions> = { inChannels: true, classes: true, width: true, depth: true, bias: true };

/**
 * UNet({ ...opts, block: 'residual', padding: 'same' }) with transposed-conv upsampling (BasicBlock has no middle
 * width for milesial's bilinear variant); bias (of the 3x3 convs) defaults to false, as torchvision's
 * BasicBlock. x [N, inChannels, H, W] -> [N, classes, H, W], any H, W >= 2^depth (the upsampled maps are padded to the
 * skips, as milesial).
 */
export class ResUNet extends UNet {
  constructor(opts: ResUNetOptions) {
    super({ bias: false, ...checkOptions('ResUNet', opts, KEYS), block: 'residual', padding: 'same' });
  }
}
