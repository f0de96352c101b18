// Initialisers and parameter creation: on the meta device nothing is filled (no host arrays, no draws), so a
// huge model builds at once; a parameter past the device's maxBufferSize is refused with a LimitError before
// anything is allocated, on the host or the device. CPU and meta devices only.
import { describe, expect, test } from 'vitest';
import { cpuDevice, LimitError, manualSeed, metaDevice, nn, stats, Tensor, withDevice, zeros, type Backend } from '../../src/index.js';
import { UNet } from '../../src/unet/unet.js';

/** A CPU device whose maxBufferSize is `bytes` (the CPU device itself has no limit). */
function smallCpu(bytes: number): Backend {
  const dev = cpuDevice();
  Object.defineProperty(dev, 'limits', { value: { ...dev.limits, maxBufferBytes: bytes } });
  return dev;
}

describe('the meta device allocates nothing', () => {
  test('a conv of 38.7 G parameters builds on the meta device (its host fill alone would be 309 GB)', () => {
    const conv = withDevice(metaDevice(), () => new nn.Conv2d(65536, 65536, 3));
    expect(conv.weight.shape).toEqual([65536, 65536, 3, 3]);
    expect(conv.weight.numel).toBe(65536 * 65536 * 9);
  });

  test('initialisers on a meta tensor neither fill nor draw', () => {
    const t = Tensor.empty([1024, 1024], 'f32', metaDevice());
    manualSeed(3);
    const a = zeros([4], { device: cpuDevice() });
    nn.init.uniform_(a);
    manualSeed(3);
    for (const f of [nn.init.uniform_, nn.init.normal_, nn.init.kaimingUniform_, nn.init.kaimingNormal_, nn.init.xavierUniform_, nn.init.zeros_, nn.init.ones_]) {
      expect(f(t)).toBe(t);
    }
    const b = zeros([4], { device: cpuDevice() });
    nn.init.uniform_(b);
    // The generator did not move: the next draws are the same as right after the seed.
    return Promise.all([a.toArray(), b.toArray()]).then(([x, y]) => expect([...y]).toEqual([...x]));
  });

  test('UNet width 16, depth 10 on the meta device: instant, no host memory, the right parameter count', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const meta = metaDevice();
    const net = withDevice(meta, () => new UNet({ inChannels: 1, classes: 1, width: 16, depth: 10 }));
    const ms = performance.now() - t0;
    const grown = process.memoryUsage().arrayBuffers - before;
    const params = net.parameters().reduce((s, p) => s + p.numel, 0);
    expect(params).toBeGreaterThan(7e9);
    expect(stats(meta).liveBytes).toBeGreaterThanOrEqual(params * 4); // counted, not allocated
    expect(grown, 'host array buffers grown (bytes)').toBeLessThan(64 << 20);
    expect(ms, 'build time (ms)').toBeLessThan(5000);
  });
});

describe('sizes past the device limits are refused before allocating', () => {
  test('init on a tensor over maxBufferSize: LimitError naming the initialiser, the limit and the size', () => {
    const dev = smallCpu(1024);
    // The CPU device allocates without checking its limits; the initialiser must still refuse to fill it.
    const t = Tensor.empty([16, 16, 3, 3], 'f32', dev);
    for (const [f, name] of [
      [nn.init.uniform_, 'uniform_'],
      [nn.init.normal_, 'normal_'],
      [nn.init.kaimingUniform_, 'kaimingUniform_'],
      [nn.init.constant_, 'constant_'],
    ] as const) {
      let err: unknown;
      try {
        (f as (t: unknown, v?: number) => unknown)(t, 1);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(LimitError);
      expect((err as Error).message).toBe(`${name}: maxBufferSize is 1024 bytes on this device, the op needs 9216; a tensor [16, 16, 3, 3] does not fit one buffer`);
    }
  });

  test('a layer whose parameter is over maxBufferSize: LimitError before the device allocates', () => {
    const dev = smallCpu(1024);
    const before = stats(dev).allocations;
    let err: unknown;
    try {
      withDevice(dev, () => new nn.Conv2d(16, 16, 3));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitError);
    expect((err as Error).message).toBe('Conv2d: maxBufferSize is 1024 bytes on this device, the op needs 9216; weight [16, 16, 3, 3] does not fit one buffer');
    expect(stats(dev).allocations).toBe(before);
    expect(() => withDevice(dev, () => new nn.ConvTranspose2d(16, 16, 2))).toThrow(/^ConvTranspose2d: maxBufferSize is 1024 bytes/);
    expect(() => withDevice(smallCpu(8), () => new nn.BatchNorm2d(4))).toThrow(/^BatchNorm2d: maxBufferSize is 8 bytes on this device, the op needs 16; weight \[4\]/);
    // Within the limit all is as before.
    expect(withDevice(dev, () => new nn.Conv2d(2, 2, 3)).weight.shape).toEqual([2, 2, 3, 3]);
  });
});
