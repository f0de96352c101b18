// Leaks over a long run: 1,000 training steps of benchmark config a (U-Net width 16, 1x1x128x128, BCE, SGD) on the
// WebGPU device. From step 25 on, live tensors, live storages and bytes, and the buffer pool's bytes are identical
// after every step (a leaked handle or an unreturned buffer shows as growth), and the process's resident memory
// grows less than 5% between step 100 and the last step. SOAK_STEPS=N shortens the run for a local check.
import { describe, expect, test } from 'vitest';
import { bceWithLogits, gt, noGrad, rand, randn, SGD, stats, UNet, UNET_CONFIGS, unetOptions, withDevice } from '../../src/index.js';
import { gpuSuite } from '../helpers/gpu.js';

const { skip, dev } = await gpuSuite();
const STEPS = Number(process.env.SOAK_STEPS ?? 1000);

describe.skipIf(skip)('1,000 training steps of config a', () => {
  test(`${STEPS} steps: flat counters from step 25, RSS growth under 5% from step 100`, async () => {
    const cfg = UNET_CONFIGS.a;
    const { model, x, target } = withDevice(dev, () => {
      const model = new UNet(unetOptions('a'));
      const x = randn([cfg.batch, cfg.channels, cfg.size, cfg.size], { seed: 11 });
      const target = noGrad(() => gt(rand([cfg.batch, cfg.classes, cfg.size, cfg.size], { seed: 12 }), 0.5));
      return { model, x, target };
    });
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const snap = () => {
      const s = stats(dev);
      return { liveTensors: s.liveTensors, liveStorages: s.liveStorages, liveBytes: s.liveBytes, pooledBytes: s.pooledBytes };
    };
    let ref: ReturnType<typeof snap> | null = null;
    let rss100 = 0;
    let loss0 = NaN;
    let lossN = NaN;
    for (let step = 1; step <= STEPS; step++) {
      const y = model.forward(x);
      const loss = bceWithLogits(y, target);
      y.dispose();
      loss.backward();
      opt.step();
      opt.zeroGrad();
      const v = await loss.item();
      loss.dispose();
      if (step === 1) loss0 = v;
      lossN = v;
      expect(Number.isFinite(v), `step ${step} loss ${v}`).toBe(true);
      if (step === 25) ref = snap();
      else if (step > 25) expect(snap(), `step ${step}`).toEqual(ref);
      if (step === Math.min(100, STEPS)) rss100 = process.memoryUsage().rss;
    }
    const rssEnd = process.memoryUsage().rss;
    console.log(`[soak] ${STEPS} steps: loss ${loss0.toFixed(4)} -> ${lossN.toFixed(4)}; counters from step 25 ${JSON.stringify(ref)}; RSS ${(rss100 / 2 ** 20).toFixed(0)} MiB at step 100, ${(rssEnd / 2 ** 20).toFixed(0)} MiB at the end`);
    expect(lossN).toBeLessThan(loss0);
    expect(rssEnd / rss100).toBeLessThan(1.05);
    model.dispose();
    for (const t of [x, target]) t.dispose();
  }, 1_200_000);
});
