import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { metaDevice, Tensor, tensor, withDevice } from '../../src/index.js';
import { CpuBackend } from '../../src/kernels/runtime/cpu_backend.js';
import { summary } from '../../src/nn/summary.js';
import { DoubleConv } from '../../src/unet/parts.js';
import { UNet, type UNetOptions } from '../../src/unet/unet.js';

const KEYS = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/unet/keys_seed.json'), 'utf8')) as Record<
  string,
  { params: number; keys: [string, number[]][] }
>;

/** A U-Net on the meta device: shapes and parameter counts with no data and no GPU. */
function metaNet(opts: UNetOptions) {
  const meta = metaDevice();
  return { net: withDevice(meta, () => new UNet(opts)), meta };
}

const SEED: UNetOptions = { inChannels: 1, classes: 1, width: 64, padding: 'valid', bias: true };

describe('the seed U-Net', () => {
  test('state-dict keys and shapes equal PyTorch (milesial names), in order', () => {
    const { net } = metaNet(SEED);
    const ours = Object.entries(net.stateDict()).map(([k, t]) => [k, [...t.shape]]);
    expect(ours).toEqual(KEYS.seed!.keys);
    const bl = metaNet({ inChannels: 1, classes: 1, width: 64, padding: 'same', bias: false, bilinear: true }).net;
    expect(Object.entries(bl.stateDict()).map(([k, t]) => [k, [...t.shape]])).toEqual(KEYS.seed_bilinear_nobias!.keys);
  });

  test('parameter counts: 31,042,369 with conv bias, 31,036,481 without (milesial today)', () => {
    const count = (o: UNetOptions) => metaNet(o).net.parameters().reduce((s, p) => s + p.numel, 0);
    expect(count(SEED)).toBe(31_042_369);
    expect(count(SEED)).toBe(KEYS.seed!.params);
    // Without conv bias: the 18 DoubleConv convs lose their biases (2 x (64+128+256+512+1024) + 2 x (512+256+128+64)).
    expect(count({ ...SEED, bias: false })).toBe(31_042_369 - 2 * (64 + 128 + 256 + 512 + 1024) - 2 * (512 + 256 + 128 + 64));
    expect(count({ ...SEED, bias: false })).toBe(31_036_481);
  });

  test('572x572 -> 564x564 with pad merge, 388x388 with the paper crop merge (a real forward on the meta device)', () => {
    for (const [merge, want] of [['pad', 564], ['crop', 388]] as const) {
      const { net, meta } = metaNet({ ...SEED, merge });
      const y = net.forward(Tensor.empty([1, 1, 572, 572], 'f32', meta));
      expect(y.shape).toEqual([1, 1, want, want]);
      expect(UNet.outputSize(572, { padding: 'valid', merge })).toBe(want);
    }
  });

  test("summary reproduces the seed's torchinfo totals and rows", () => {
    const { net, meta } = metaNet(SEED);
    const s = summary(net, Tensor.empty([1, 1, 572, 572], 'f32', meta));
    const lines = s.text.split('\n');
    // The totals quoted by the seed's table.
    for (const want of [
      'Total params: 31,042,369',
      'Trainable params: 31,042,369',
      'Non-trainable params: 0',
      'Total mult-adds (G): 233.39',
      'Input size (MB): 1.31',
      'Forward/backward pass size (MB): 2683.30',
      'Params size (MB): 124.17',
      'Estimated Total Size (MB): 2808.78',
    ]) expect(lines).toContain(want);
    // Rows checked by hand: 1*64*9+64 = 640; 1024*512*2*2+512 = 2,097,664; 64+1 = 65.
    const row = (name: string) => lines.find((l) => l.includes(name))!.replace(/\s+/g, ' ').trim();
    expect(row('UNet ')).toBe('UNet [1, 1, 564, 564] --');
    expect(row('Conv2d: 3-1 ')).toBe('│ │ └─Conv2d: 3-1 [1, 64, 570, 570] 640');
    expect(row('ConvTranspose2d: 2-6 ')).toBe('│ └─ConvTranspose2d: 2-6 [1, 512, 56, 56] 2,097,664');
    expect(row('Conv2d: 2-14 ')).toBe('│ └─Conv2d: 2-14 [1, 1, 564, 564] 65');
    expect(row('DoubleConv: 3-14 ')).toBe('│ │ └─DoubleConv: 3-14 [1, 1024, 28, 28] 14,161,920');
    expect(lines.filter((l) => /: \d-\d+ /.test(l))).toHaveLength(14 + 10 + 18);
  });

  test('bad configurations are refused with the reason', () => {
    expect(() => metaNet({ inChannels: 0, classes: 1 })).toThrow(/UNet: inChannels must be a positive integer/);
    expect(() => metaNet({ inChannels: 1, classes: 1, width: 3, bilinear: true })).toThrow(/even width/);
  });
});

/** A CPU device that records each launch's kernel name (+relu when launched with RELU). */
class SpyCpu extends CpuBackend {
  launches: string[] = [];
  override run(...args: Parameters<CpuBackend['run']>): void {
    const [spec, , , , opts] = args;
    this.launches.push(spec.name + (opts?.constants?.RELU ? '+relu' : ''));
    super.run(...args);
  }
}

describe('DoubleConv runs BatchNorm2d -> ReLU fused', () => {
  test('a training step launches no separate ReLU pass and the BN kernels with RELU; summary still sees every module', () => {
    const dev = new SpyCpu();
    const block = withDevice(dev, () => new DoubleConv(2, 3));
    const x = tensor(Float32Array.from({ length: 72 }, (_, i) => Math.sin(i)), [1, 2, 6, 6], { device: dev });
    const y = block.forward(x);
    const loss = y.sum();
    loss.backward();
    expect(dev.launches.filter((k) => k.startsWith('relu'))).toEqual([]);
    expect(dev.launches.filter((k) => k.startsWith('batchnorm2d_fwd'))).toEqual(['batchnorm2d_fwd_vec4+relu', 'batchnorm2d_fwd_vec4+relu']);
    expect(dev.launches.filter((k) => k.startsWith('batchnorm2d_bwd_dx'))).toEqual(['batchnorm2d_bwd_dx_vec4+relu', 'batchnorm2d_bwd_dx_vec4+relu']);
    // summary() hooks every module's forward, which turns the fusion off: rows for each BatchNorm2d and ReLU.
    const s = summary(block, x);
    expect(s.rows.map((r) => r.layer)).toEqual(['DoubleConv', 'Sequential', 'Conv2d', 'BatchNorm2d', 'ReLU', 'Conv2d', 'BatchNorm2d', 'ReLU']);
    for (const t of [x, y, loss]) t.dispose();
    block.dispose();
  });
});
