import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '../../src/nn/safetensors.js';
import {
  setKernelPolicy, tensor, type ConvVariant,
} from '../../src/index.js';
import { checkTorch, formatCheck } from '../../src/unet/check_torch.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';

const DIR = join(import.meta.dirname, '../fixtures/unet');
const DUMPS = readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();

const { skip, dev } = await gpuSuite();

describe.skipIf(skip)('check-torch: our U-Net equals PyTorch on the committed dumps (lavapipe)', () => {
  test('there are dumps covering both up modes, both paddings, batch 2, depth 3 and cross-entropy', () => {
    const configs = DUMPS.map((f) => {
      const m = parseSafetensors(readFileSync(join(DIR, f))).metadata;
      return { ...JSON.parse(m.config!), loss: m.loss, x: parseSafetensors(readFileSync(join(DIR, f))).tensors.get('x')!.shape };
    });
    expect(configs.some((c) => c.bilinear) && configs.some((c) => !c.bilinear)).toBe(true);
    expect(configs.some((c) => c.padding === 'valid') && configs.some((c) => c.padding === 'same')).toBe(true);
    expect(configs.some((c) => c.depth === 3)).toBe(true);
    expect(configs.some((c) => c.x[0] > 1)).toBe(true);
    expect(configs.some((c) => c.x[2] % 2 === 1)).toBe(true);
    expect(configs.some((c) => String(c.loss).includes('ce'))).toBe(true);
  });

  test.each(DUMPS)('%s', async (f) => {
    const r = await checkTorch(readFileSync(join(DIR, f)), dev, f);
    expect(r.ok, formatCheck(r, true)).toBe(true);
    expect(r.rows.length).toBeGreaterThan(50);
  });

  // Every kernel family, forced on every dump: the portable kernels, the subgroup ones, Winograd F(4x4, 3x3) and the
  // tiled implicit-GEMM ones, for the forward / input-gradient convolutions and for the weight gradients.
  const VARIANTS: [ConvVariant, ConvVariant][] = [['portable', 'portable'], ['subgroup', 'subgroup'], ['winograd', 'winograd'], ['tiled', 'tiled']];
  test.each(VARIANTS.flatMap(([fv, wv]) => DUMPS.map((f) => [fv, wv, f] as const)))('forward %s, weight gradient %s: %s', async (fv, wv, f) => {
    const prev = setKernelPolicy(dev, { convForward: fv, convWeightGrad: wv });
    try {
      const r = await checkTorch(readFileSync(join(DIR, f)), dev, f);
      expect(r.ok, formatCheck(r, true)).toBe(true);
    } finally {
      setKernelPolicy(dev, prev);
    }
  });

  test('a 1% change to one weight is caught (the check can fail)', async () => {
    const bytes = readFileSync(join(DIR, 'tconv_same.safetensors'));
    const { tensors, metadata } = parseSafetensors(bytes);
    const sd: Record<string, ReturnType<typeof tensor>> = {};
    for (const [k, h] of tensors) {
      const data = h.data.slice();
      if (k === 'up1.conv.double_conv.0.weight') data[0] = data[0]! * 1.01 + 1e-3;
      sd[k] = tensor(data, h.shape, { device: cpu32, dtype: h.dtype });
    }
    const bad = await serializeSafetensors(sd, metadata);
    const r = await checkTorch(bad, dev, 'perturbed');
    expect(r.ok).toBe(false);
    expect(r.rows.find((x) => x.name === 'out.train')!.ok).toBe(false);
  });
});

test('check-torch on the CPU reference device passes one dump too', async () => {
  const r = await checkTorch(readFileSync(join(DIR, 'odd_same.safetensors')), cpu32, 'odd_same');
  expect(r.ok, formatCheck(r, true)).toBe(true);
});
