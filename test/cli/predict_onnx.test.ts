// predict --onnx: an exported model served by onnxruntime-node as predictTiled's TileModel gives the probabilities
// of our own model (in process: tiles, batches, TTA flips, 1 and 3 classes), and the command writes the masks the
// checkpoint's `predict --weights` writes. Fixed-size exports and models without our metadata are refused.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { encodePng, FormatError, manualSeed, modelSpecOf, TransUNet, withDevice } from '../../src/index.js';
import { readImage, saveCheckpoint, writeAtomic } from '../../src/node.js';
import { loadOnnxSegModel } from '../../src/cli/onnx_model.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { checkpointOnnxMetadata } from '../../src/onnx/metadata.js';
import { CHECKPOINT_FORMAT, type SegCheckpointMeta } from '../../src/seg/checkpoint.js';
import { predictTiled } from '../../src/seg/predict.js';
import type { UNetOptions } from '../../src/unet/unet.js';
import { cpu32, skipGpu } from '../helpers/gpu.js';
import { rng, uniformArray } from '../helpers/random.js';
import { maxAbs, net, randomState } from '../onnx_export/nets.js';

const skip = await skipGpu();
const BIN = join(import.meta.dirname, '../../bin/unet-webgpu.mjs');
const dir = mkdtempSync(join(tmpdir(), 'unet-predict-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function exported(opts: UNetOptions, salt: number, classes: number) {
  const model = net(opts, randomState(opts, salt), cpu32);
  const meta: SegCheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    model: model.config,
    data: { channels: 1, classes, mapping: { values: classes === 2 ? [0, 255] : [0, 100, 200] }, normalization: { mean: [0.5], std: [0.25] } },
  };
  const file = join(dir, `m${salt}.onnx`);
  await writeAtomic(file, await exportOnnx(model, [1, 1, 64, 64], { metadata: checkpointOnnxMetadata(meta) }));
  return { model, meta, file };
}

describe('predict --onnx', () => {
  test.each([
    ['1 class, same padding', { inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'same' } as UNetOptions, 2],
    ['3 classes, valid padding, bilinear', { inChannels: 1, classes: 3, width: 4, depth: 2, padding: 'valid', bilinear: true } as UNetOptions, 3],
  ])('%s: the ONNX Runtime TileModel gives our probabilities (tiles, batch 3, TTA)', async (_, opts, classes) => {
    const { model, file } = await exported(opts, classes, classes);
    const onnx = await loadOnnxSegModel(file, 1);
    const { inChannels, classes: k, width, depth, padding, merge } = model.config;
    expect(onnx.model.config).toEqual({ inChannels, classes: k, width, depth, padding, merge });
    const img = { width: 83, height: 61, channels: 1, data: uniformArray(rng(40 + classes), 83 * 61, -2, 2) };
    const tile = { tile: 64, batch: 3, tta: true };
    const ours = await predictTiled(model, img, tile);
    const theirs = await predictTiled(onnx.model, img, tile);
    // Not flat: the probabilities vary over the image by far more than the 1e-5 bound (typically 0.05-0.5).
    expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(0.005);
    expect(maxAbs(theirs, ours)).toBeLessThanOrEqual(1e-5);
    await onnx.close();
  });

  test('a TransUNet export: its options give the tile geometry, the probabilities are ours', async () => {
    manualSeed(21);
    const model = withDevice(cpu32, () => new TransUNet({ inChannels: 1, classes: 1, width: 4, depth: 2, imageSize: 32, layers: 1, heads: 2 })).eval();
    const meta: SegCheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      modelName: 'trans-unet',
      model: modelSpecOf(model).options,
      data: { channels: 1, classes: 2, mapping: { values: [0, 255] }, normalization: { mean: [0.5], std: [0.25] } },
    };
    const file = join(dir, 'trans.onnx');
    await writeAtomic(file, await exportOnnx(model, [1, 1, 64, 64], { metadata: checkpointOnnxMetadata(meta) }));
    const onnx = await loadOnnxSegModel(file, 1);
    expect(onnx.model.config).toEqual({ inChannels: 1, classes: 1, width: 4, depth: 2, padding: 'same', merge: 'pad' });
    const img = { width: 83, height: 61, channels: 1, data: uniformArray(rng(47), 83 * 61, -2, 2) };
    const ours = await predictTiled(model, img, { tile: 32, batch: 2 });
    const theirs = await predictTiled(onnx.model, img, { tile: 32, batch: 2 });
    expect(maxAbs(theirs, ours)).toBeLessThanOrEqual(1e-4);
    await onnx.close();
  });

  test('refuses a fixed-size export and a model without our metadata', async () => {
    const opts: UNetOptions = { inChannels: 1, classes: 1, width: 2, depth: 1 };
    const model = net(opts, randomState(opts, 9), cpu32);
    const fixed = join(dir, 'fixed.onnx');
    const meta = checkpointOnnxMetadata({ format: CHECKPOINT_FORMAT, model: model.config, data: { channels: 1, classes: 2, mapping: { values: [0, 255] }, normalization: { mean: [0], std: [1] } } });
    await writeAtomic(fixed, await exportOnnx(model, [1, 1, 32, 32], { dynamicAxes: false, metadata: meta }));
    await expect(loadOnnxSegModel(fixed)).rejects.toThrow(/has fixed input sizes/);
    const bare = join(dir, 'bare.onnx');
    await writeAtomic(bare, await exportOnnx(model, [1, 1, 32, 32]));
    await expect(loadOnnxSegModel(bare)).rejects.toThrow(FormatError);
  });

  test.skipIf(skip)('the command writes the masks of predict --weights (WebGPU) from the exported model', async () => {
    const opts: UNetOptions = { inChannels: 1, classes: 3, width: 4, depth: 2, padding: 'same' };
    const { model, meta, file } = await exported(opts, 7, 3);
    const ckpt = join(dir, 'ck.safetensors');
    await saveCheckpoint(ckpt, new Map(Object.entries(model.stateDict()).map(([k, t]) => [`model.${k}`, t])), meta);
    mkdirSync(join(dir, 'in'));
    const r = rng(8);
    writeFileSync(join(dir, 'in', 'a.png'), encodePng({ width: 70, height: 45, channels: 1, data: Float32Array.from({ length: 70 * 45 }, () => Math.floor(r.uniform() * 256)) }));
    const predict = (...args: string[]) => spawnSync(process.execPath, [BIN, 'predict', '--input', join(dir, 'in'), '--tile', '48', ...args], { encoding: 'utf8', timeout: 300_000 });
    const viaOnnx = predict('--onnx', file, '--out', join(dir, 'out_onnx'));
    expect(viaOnnx.status, viaOnnx.stderr).toBe(0);
    expect(viaOnnx.stdout).toMatch(/predicted 1 page\(s\) on ONNX Runtime \(CPU\)/);
    const viaWeights = predict('--weights', ckpt, '--out', join(dir, 'out_gpu'));
    expect(viaWeights.status, viaWeights.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out_onnx', 'probabilities')).sort()).toEqual(['a_c0.png', 'a_c1.png', 'a_c2.png']);
    const [a] = await readImage(join(dir, 'out_onnx', 'masks', 'a.png'));
    const [b] = await readImage(join(dir, 'out_gpu', 'masks', 'a.png'));
    for (const v of a!.data) expect([0, 100, 200]).toContain(v);
    // Labels agree except where two classes' probabilities tie to within the engines' float32 rounding (none here in
    // practice; the bound allows a handful of the 3150 pixels).
    const differ = a!.data.filter((v, i) => v !== b!.data[i]).length;
    expect(differ).toBeLessThanOrEqual(3);
    const ranges: number[] = [];
    for (const c of [0, 1, 2]) {
      const [p] = await readImage(join(dir, 'out_onnx', 'probabilities', `a_c${c}.png`));
      const [q] = await readImage(join(dir, 'out_gpu', 'probabilities', `a_c${c}.png`));
      expect(maxAbs(p!.data, q!.data)).toBeLessThanOrEqual(2); // 16-bit steps
      ranges.push(Math.max(...p!.data) - Math.min(...p!.data));
    }
    // Not a flat map: some class's probability varies by far more than the 2-step bound over the image.
    expect(Math.max(...ranges)).toBeGreaterThan(50);
    const bad = predict('--onnx', file, '--weights', ckpt, '--out', join(dir, 'x'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/give one of --weights CKPT and --onnx MODEL/);
  });
});
