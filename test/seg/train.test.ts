// The trainer on WebGPU: a short run on small crops lowers the loss; a run interrupted mid-epoch and resumed from
// its checkpoint gives the uninterrupted run's losses bit for bit (Adam, cosine schedule, every augmentation, with
// validation in between); the checkpoint carries what predict needs (segModelFromCheckpoint gives the same logits).
import { describe, expect, test } from 'vitest';
import {
  DeviceLostError, nn, fit, manualSeed, Rng, memoryRunStore, outChannelsFor, parseCheckpoint, segDataset, segModelFromCheckpoint, tensor, UNet, setDefaultDevice, noGrad,
  type FitOptions, type NamedRaster, type SegDataset,
} from '../../src/index.js';
import { openNodeDevice } from '../../src/node.js';
import { gpuSuite } from '../helpers/gpu.js';

const { skip, dev } = await gpuSuite();
if (!skip) setDefaultDevice(dev);

/** Smooth random images with mask = image > 0.5 (a learnable threshold task). */
function blobs(count: number, n: number, seed: number): SegDataset {
  const rng = new Rng(seed);
  const ims: NamedRaster[] = [], ms: NamedRaster[] = [];
  for (let k = 0; k < count; k++) {
    const c = Array.from({ length: 5 }, () => [rng.uniform() * n, rng.uniform() * n, 3 + rng.uniform() * 5] as const);
    const im = new Float32Array(n * n);
    for (let i = 0; i < n * n; i++) im[i] = 255 * Math.min(1, c.reduce((a, [y, x, r]) => a + Math.exp(-((Math.floor(i / n) - y) ** 2 + ((i % n) - x) ** 2) / (2 * r * r)), 0));
    ims.push({ name: `${k}.png`, raster: { width: n, height: n, channels: 1, data: im, maxValue: 255, bitDepth: 8 } });
    ms.push({ name: `${k}.png`, raster: { width: n, height: n, channels: 1, data: im.map((v) => (v > 127 ? 255 : 0)), maxValue: 255, bitDepth: 8 } });
  }
  return segDataset(ims, ms);
}

const net = (seed: number, loss: FitOptions['loss'] = 'bce+dice') => {
  manualSeed(seed);
  return new UNet({ inChannels: 1, classes: outChannelsFor(2, loss!), width: 4, depth: 2, padding: 'same' });
};

describe.skipIf(skip)('fit on WebGPU', () => {
  test('a short run on small crops lowers the loss and validates Dice / IoU per class', async () => {
    const data = { train: blobs(4, 48, 1), val: blobs(2, 48, 2) };
    const model = net(0);
    const r = await fit(model, data, { crop: 32, batch: 4, steps: 40, stepsPerEpoch: 20, lr: 1e-2, augment: { flips: true } });
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(r.losses.length).toBe(40);
    expect(mean(r.losses.slice(-8))).toBeLessThan(0.8 * mean(r.losses.slice(0, 8)));
    expect(r.val.length).toBe(2);
    expect(r.val[1]!.dice.length).toBe(2);
    expect(r.val[1]!.iou[1]).toBeGreaterThan(0);
    model.dispose();
  });

  test('resume from a mid-epoch interruption reproduces the uninterrupted losses bit for bit', async () => {
    const data = { train: blobs(3, 40, 3), val: blobs(1, 40, 4) };
    const opts: FitOptions = { crop: 32, batch: 2, steps: 8, stepsPerEpoch: 3, lr: 3e-3, scheduler: 'cosine', optimizer: 'adam', seed: 11, logEvery: 1, augment: { flips: true, rot90: true, elastic: true, intensity: true } };
    const whole = await fit(net(5), data, opts);
    const store = memoryRunStore();
    const first = await fit(net(5), data, { ...opts, store }, { onStep: (s) => (s.step === 5 ? 'stop' : undefined) });
    expect(first.stopped).toBe('callback');
    expect(first.steps).toBe(5);
    const ck = parseCheckpoint(nn.deserializeSafetensors(store.files.get('latest.safetensors') as Uint8Array, { device: dev }));
    expect(ck.meta.train!.step).toBe(5);
    const resumed = await fit(net(99), data, { ...opts, store, resume: ck });
    expect(resumed.steps).toBe(8);
    expect(resumed.losses).toEqual(whole.losses);
    expect(first.losses).toEqual(whole.losses.slice(0, 5));
    expect(resumed.val.map((v) => v.dice)).toEqual(whole.val.map((v) => v.dice));
    const log = (store.files.get('train.jsonl') as string).trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: number });
    expect(log.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(log.some((l) => l.type === 'resume')).toBe(true);
    expect(store.files.get('plot.svg')).toMatch(/^<svg/);
    expect(store.files.has('best.safetensors')).toBe(true);
  });

  test('a device lost mid-training: DeviceLostError at the next call, the last checkpoint kept, --resume continues on a new device', async () => {
    const data = { train: blobs(3, 40, 3), val: blobs(1, 40, 4) };
    const opts: FitOptions = { crop: 32, batch: 2, steps: 8, stepsPerEpoch: 3, lr: 3e-3, optimizer: 'adam', seed: 12, logEvery: 1, augment: { flips: true } };
    const whole = await fit(net(7), data, opts);
    // A device of its own, lost (destroyed behind the backend, as a driver reset would) after step 5.
    const doomed = await openNodeDevice({ setDefault: false });
    setDefaultDevice(doomed);
    const store = memoryRunStore();
    const lost = await fit(net(7), { train: blobs(3, 40, 3), val: blobs(1, 40, 4) }, { ...opts, store }, {
      onStep: (st) => void (st.step === 5 && doomed.device.destroy()),
    }).then(() => null, (e: unknown) => e);
    expect(lost).toBeInstanceOf(DeviceLostError);
    // The latest checkpoint is the last epoch's (step 3), intact; resume it on a fresh device.
    const fresh = await openNodeDevice({ setDefault: false });
    setDefaultDevice(fresh);
    try {
      const ck = parseCheckpoint(nn.deserializeSafetensors(store.files.get('latest.safetensors') as Uint8Array, { device: fresh }));
      expect(ck.meta.train!.step).toBe(3);
      const resumed = await fit(net(99), { train: blobs(3, 40, 3), val: blobs(1, 40, 4) }, { ...opts, store, resume: ck });
      expect(resumed.steps).toBe(8);
      expect(resumed.losses).toEqual(whole.losses);
    } finally {
      setDefaultDevice(dev);
      await fresh.destroy();
    }
  });

  test('the checkpoint carries the model config, normalisation and mask values: the loaded model gives the same logits', async () => {
    const data = { train: blobs(2, 32, 6) };
    const store = memoryRunStore();
    const model = net(1, 'ce');
    const r = await fit(model, data, { crop: 32, batch: 2, steps: 2, loss: 'ce', optimizer: 'sgd', store });
    const ck = parseCheckpoint(nn.deserializeSafetensors(store.files.get('latest.safetensors') as Uint8Array, { device: dev }));
    const { model: loaded, meta } = segModelFromCheckpoint(ck);
    expect(meta.model).toEqual(model.config);
    expect(meta.model.classes).toBe(2);
    expect(meta.data.mapping.values).toEqual([0, 255]);
    expect(meta.data.normalization).toEqual(r.normalization);
    model.eval();
    const x = tensor(Float32Array.from({ length: 32 * 32 }, (_, i) => Math.sin(i)), [1, 1, 32, 32]);
    const a = await noGrad(() => model.forward(x)).toArray();
    const b = await noGrad(() => loaded.forward(x)).toArray();
    expect([...b]).toEqual([...a]);
  });
});
