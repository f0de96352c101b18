import type { UNetOptions } from './unet.js';

/**
 * The benchmark configurations shared with ../shared/peers (same model, modes, loss and SGD step); `isbi` is the ISBI
 * 2012 recipe's network and batch (`unet-webgpu train` defaults: width 16, 4 crops of 256 x 256; the step's optimizer
 * stays the harness's SGD), added to the vendored PyTorch peer (bench/peers/VENDORED.md).
 */
export const CONFIGS = {
  a: { width: 16, batch: 1, channels: 1, size: 128, padding: 'same', classes: 1 },
  b: { width: 32, batch: 2, channels: 1, size: 256, padding: 'same', classes: 1 },
  c: { width: 64, batch: 1, channels: 1, size: 572, padding: 'valid', classes: 1 },
  isbi: { width: 16, batch: 4, channels: 1, size: 256, padding: 'same', classes: 1 },
} as const;

export type ConfigName = keyof typeof CONFIGS;

export function unetOptions(name: ConfigName): UNetOptions {
  const c = CONFIGS[name];
  return { inChannels: c.channels, classes: c.classes, width: c.width, padding: c.padding, bias: true };
}
