// Tiled prediction: on an image whose size is no multiple of the tile, the overlap-tile result equals one forward
// of the whole (mirror-padded) image, for 'same' and 'valid' nets, on the CPU reference and on WebGPU; the Gaussian
// blend is normalised (a constant model gives a constant map); TTA averages un-flipped flips; the planning keeps
// tiles on the pooling grid and under the device's limits.
import { describe, expect, test } from 'vitest';
import { ArgumentError, manualSeed, noGrad, sigmoid, softmax, tensor, tidy, withDevice, type Device, type Tensor } from '../../src/index.js';
import { argmaxClasses, defaultTile, gaussianWeights, isValidTile, planTiles, predictTiled, tileOutput, validTileAbove, type PlaneImage, type TileGeometry } from '../../src/seg/predict.js';
import { UNet, type UNetOptions } from '../../src/unet/unet.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { rng, randnArray } from '../helpers/random.js';

const { devices } = await gpuSuite();

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * A small random U-Net whose output varies: at torch's initialisation (batch norm on unit running variance) its
 * probabilities span ~0.405-0.408, too flat to tell a right tiling from a wrong one. Running variances 0.25 and a 10x
 * head spread them over ~0.1-0.7.
 */
async function makeNet(dev: Device, opts: Partial<UNetOptions>, seed = 7): Promise<UNet> {
  manualSeed(seed);
  const net = withDevice(dev, () => new UNet({ inChannels: 2, classes: 1, width: 4, depth: 2, ...opts }));
  const sd = net.stateDict();
  const sharp: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(sd)) {
    if (k.endsWith('running_var')) sharp[k] = tensor(new Float32Array(t.numel).fill(0.25), t.shape, { device: dev });
    if (k === 'outc.conv.weight') sharp[k] = tensor(Float32Array.from(await t.toArray(), (v) => 10 * v), t.shape, { device: dev });
  }
  net.loadStateDict({ ...sd, ...sharp });
  return net;
}

const reflect = (i: number, n: number) => {
  const p = 2 * (n - 1);
  const m = ((i % p) + p) % p;
  return m < n ? m : p - m;
};

/** The image mirror-padded to rows [y0, y0 + h) x cols [x0, x0 + w) (numpy 'reflect'). */
function padded(img: PlaneImage, y0: number, x0: number, h: number, w: number): Float32Array {
  const out = new Float32Array(img.channels * h * w);
  for (let c = 0; c < img.channels; c++)
    for (let r = 0; r < h; r++)
      for (let q = 0; q < w; q++) out[(c * h + r) * w + q] = img.data[(c * img.height + reflect(y0 + r, img.height)) * img.width + reflect(x0 + q, img.width)]!;
  return out;
}

/** Probabilities of one forward on planes [C][h][w] (sigmoid or softmax), as predictTiled computes them. */
async function wholeForward(net: UNet, data: Float32Array, c: number, h: number, w: number): Promise<{ p: Float32Array; oh: number; ow: number }> {
  net.eval();
  const dev = net.parameters()[0]!.device;
  const y = noGrad(() => tidy(() => {
    const logits = net.forward(tensor(data, [1, c, h, w], { device: dev }));
    return net.config.classes === 1 ? sigmoid(logits) : softmax(logits, 1);
  }));
  const p = Float32Array.from(await y.toArray());
  const [oh, ow] = [y.shape[2]!, y.shape[3]!];
  y.dispose();
  return { p, oh, ow };
}

/**
 * The reference: one forward of the image mirror-padded by the tiles' context (border + margin) on every side, to a
 * size the net takes, cropped back to the image. Output pixel j of that forward is image pixel j - margin.
 */
async function reference(net: UNet, img: PlaneImage, margin: number): Promise<Float32Array> {
  const g = net.config;
  const ctx = (size: number) => (size - tileOutput(size, g)) / 2 + margin;
  const sh = validTileAbove(img.height + 2 * ctx(validTileAbove(img.height, g)), g);
  const sw = validTileAbove(img.width + 2 * ctx(validTileAbove(img.width, g)), g);
  const c = ctx(sh);
  const { p, oh, ow } = await wholeForward(net, padded(img, -c, -c, sh, sw), img.channels, sh, sw);
  const K = g.classes;
  const out = new Float32Array(K * img.height * img.width);
  for (let k = 0; k < K; k++)
    for (let r = 0; r < img.height; r++)
      for (let q = 0; q < img.width; q++) out[(k * img.height + r) * img.width + q] = p[(k * oh + r + margin) * ow + q + margin]!;
  expect(oh).toBeGreaterThanOrEqual(img.height + margin);
  expect(ow).toBeGreaterThanOrEqual(img.width + margin);
  return out;
}

const image = (h: number, w: number, c = 2, salt = 0): PlaneImage => ({ height: h, width: w, channels: c, data: randnArray(rng(salt), c * h * w) });

describe.each(devices(cpu32).map((d) => [d.kind, d] as const))('predictTiled on %s', (_kind, dev) => {
  // Margins cover the receptive field's reach into zero padding (a depth-2 'same' U-Net: ~26 pixels), so every tile's
  // kept pixels, and the reference's, are exact; 'valid' + 'crop' (the paper's net) needs none.
  const cases: [string, Partial<UNetOptions>, number, number, number][] = [
    // name, net, tile, margin, classes
    ['same, 1 class', { padding: 'same' }, 96, 32, 1],
    ['valid + crop (the paper), 3 classes', { padding: 'valid', merge: 'crop', classes: 3 }, 76, 0, 3],
    ['valid + pad (milesial), 2 classes', { padding: 'valid', merge: 'pad', classes: 2 }, 92, 32, 2],
  ];
  test.each(cases)('%s: tiled == one forward of the whole image (max abs diff <= 1e-4)', async (_name, opts, tile, margin) => {
    const net = await makeNet(dev, opts);
    const img = image(61, 45, 2, 1);
    const plan = planTiles(net.config, img.height, img.width, dev.limits, { tile, margin });
    // More than one tile on each axis, and the image is no multiple of the output tile.
    expect(plan.y.origins.length).toBeGreaterThan(1);
    expect(plan.x.origins.length).toBeGreaterThan(1);
    expect(img.height % plan.y.tileOut).not.toBe(0);
    const got = await predictTiled(net, img, { tile, margin, batch: 3 });
    expect(net.training).toBe(true); // eval() inside, the mode restored after
    const want = await reference(net, img, margin);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-4);
    if (margin) {
      // The check can fail: a margin short of the receptive field's reach (~24 pixels) leaves zero-padding artefacts.
      const short = await predictTiled(net, img, { tile: tile - margin, margin: margin / 4, batch: 3 });
      expect(maxAbsDiff(short, want)).toBeGreaterThan(1e-3);
    }
    net.dispose();
  });

  test('a constant model gives a constant map (the blend is normalised, every pixel covered)', async () => {
    for (const classes of [1, 3]) {
      const net = await makeNet(dev, { padding: 'same', classes });
      const w = net.outc.conv.weight;
      const bias = [0.7, -0.4, 1.3].slice(0, classes);
      net.loadStateDict({ ...net.stateDict(), 'outc.conv.weight': tensor(new Float32Array(w.numel), w.shape, { device: dev }), 'outc.conv.bias': tensor(bias, [classes], { device: dev }) });
      const img = image(53, 70, 2, 2);
      const p = await predictTiled(net, img, { tile: 32, margin: 4, overlap: 0.5, batch: 4 });
      const want = classes === 1 ? [1 / (1 + Math.exp(-0.7))] : bias.map((b) => Math.exp(b) / bias.reduce((s, v) => s + Math.exp(v), 0));
      const n = img.height * img.width;
      for (let k = 0; k < classes; k++) {
        const plane = p.subarray(k * n, (k + 1) * n);
        expect(Math.max(...plane.map((v) => Math.abs(v - want[k]!)))).toBeLessThan(1e-6);
      }
      net.dispose();
    }
  });

  test('TTA: a flip-equivariant net gives the plain prediction; any net gives the mean of the un-flipped flips', async () => {
    const net = await makeNet(dev, { padding: 'same' });
    const img = image(32, 32, 2, 3);
    // One 32 x 32 tile, no margin: the tile is the image, so each flip is one whole-image forward.
    const opts = { tile: 32, margin: 0 };
    const plain = await predictTiled(net, img, opts);
    const tta = await predictTiled(net, img, { ...opts, tta: true });
    const flipped = async (fy: boolean, fx: boolean) => {
      const src = img.data;
      const data = new Float32Array(src.length);
      for (let c = 0; c < 2; c++)
        for (let r = 0; r < 32; r++) for (let q = 0; q < 32; q++) data[(c * 32 + r) * 32 + q] = src[(c * 32 + (fy ? 31 - r : r)) * 32 + (fx ? 31 - q : q)]!;
      const { p } = await wholeForward(net, data, 2, 32, 32);
      return Float32Array.from({ length: 32 * 32 }, (_, i) => p[(fy ? 31 - Math.floor(i / 32) : Math.floor(i / 32)) * 32 + (fx ? 31 - (i % 32) : i % 32)]!);
    };
    const flips: Float32Array[] = [];
    for (const [fy, fx] of [[false, false], [false, true], [true, false], [true, true]] as const) flips.push(await flipped(fy, fx));
    const mean = Float32Array.from({ length: 32 * 32 }, (_, i) => (flips[0]![i]! + flips[1]![i]! + flips[2]![i]! + flips[3]![i]!) / 4);
    expect(maxAbsDiff(plain, flips[0]!)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(tta, mean)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(tta, plain)).toBeGreaterThan(1e-4); // a random net is not flip-equivariant: TTA changes it

    // Symmetrise every kernel over both flips (3x3, 2x2 up-convolutions): the net commutes with flips, so TTA is a no-op,
    // also across several overlapping tiles.
    const sd = net.stateDict();
    const sym: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(sd)) {
      if (t.shape.length !== 4 || t.shape[2] === 1) continue;
      const [a, b, kh, kw] = t.shape as [number, number, number, number];
      const v = await t.toArray();
      const s = new Float32Array(v.length);
      for (let i = 0; i < a * b; i++)
        for (let r = 0; r < kh; r++)
          for (let q = 0; q < kw; q++) {
            const at = (rr: number, qq: number) => v[(i * kh + rr) * kw + qq]!;
            s[(i * kh + r) * kw + q] = (at(r, q) + at(kh - 1 - r, q) + at(r, kw - 1 - q) + at(kh - 1 - r, kw - 1 - q)) / 4;
          }
      sym[k] = tensor(s, t.shape, { device: dev });
    }
    net.loadStateDict({ ...sd, ...sym });
    const big = image(57, 44, 2, 4);
    const bigOpts = { tile: 32, margin: 4 };
    expect(maxAbsDiff(await predictTiled(net, big, { ...bigOpts, tta: true }), await predictTiled(net, big, bigOpts))).toBeLessThanOrEqual(1e-5);
    net.dispose();
  });
});

describe('tile planning', () => {
  const g = (o: Partial<TileGeometry> = {}): TileGeometry => ({ inChannels: 1, classes: 1, width: 64, depth: 4, padding: 'valid', merge: 'pad', ...o });
  const MiB = 1024 ** 2;
  const lavapipe = { maxBindingBytes: 128 * MiB };

  test('valid input sizes: the paper 572 -> 388 (crop), the seed 572 -> 564 (pad); same: multiples of 2^depth', () => {
    const meta = { depth: 4, padding: 'valid', merge: 'crop' } as const;
    expect(isValidTile(572, meta)).toBe(true);
    expect(tileOutput(572, meta)).toBe(388);
    expect(isValidTile(570, meta)).toBe(false); // 566 / 2 = 283: an odd size pooled
    expect(tileOutput(572, { ...meta, merge: 'pad' })).toBe(564);
    expect(isValidTile(96, { ...meta, padding: 'same' })).toBe(true);
    expect(isValidTile(100, { ...meta, padding: 'same' })).toBe(false);
  });

  test('default tiles from the binding limit and the memory budget', () => {
    // Width 64: the level-0 concat (128 channels x 4 bytes) of a 512 x 512 tile is exactly 128 MiB.
    expect(defaultTile(g({ padding: 'same' }), lavapipe)).toBe(512);
    expect(defaultTile(g(), lavapipe)).toBe(508);
    expect(defaultTile(g({ width: 16, padding: 'same' }), lavapipe)).toBe(1024);
    // A small binding limit or budget shrinks it; every tile it gives is valid.
    expect(defaultTile(g({ padding: 'same' }), { maxBindingBytes: 8 * MiB })).toBe(128);
    expect(defaultTile(g({ padding: 'same' }), lavapipe, 64 * MiB)).toBe(176);
    // Below the smallest input a depth-4 'valid' net takes (140 -> 132 with the 'pad' merge), it still gets that one: its ops
    // split the bindings.
    expect(defaultTile(g(), { maxBindingBytes: 8 * MiB })).toBe(140);
  });

  test('a huge image is planned under the limits: tiles on the 2^depth grid, covering every pixel, batches within the binding', () => {
    const cfg = g();
    const p = planTiles(cfg, 10_000, 7_001, lavapipe);
    expect(p.y.tileIn).toBe(508);
    for (const a of [p.y, p.x]) {
      for (const o of a.origins) expect(((o % 16) + 16) % 16).toBe(0);
      expect(a.origins[0]).toBeLessThanOrEqual(0);
    }
    expect(p.y.origins.at(-1)! + p.y.tileOut).toBeGreaterThanOrEqual(10_000);
    expect(p.x.origins.at(-1)! + p.x.tileOut).toBeGreaterThanOrEqual(7_001);
    // Neighbours overlap by about half a tile.
    const step = p.y.origins[1]! - p.y.origins[0]!;
    expect(step).toBeLessThanOrEqual(p.y.tileOut / 2);
    expect(step).toBeGreaterThan(p.y.tileOut / 2 - 16);
    expect(p.batch * 2 * 64 * 4 * 508 * 508).toBeLessThanOrEqual(lavapipe.maxBindingBytes);
    // A small image is one tile just big enough, not a default-size one.
    const one = planTiles(cfg, 30, 40, lavapipe);
    expect(one.tiles).toBe(1);
    expect(one.y.tileIn).toBe(validTileAbove(30 + 2 * one.y.context, cfg));
  });

  test('bad options are ArgumentErrors naming the value', () => {
    const cfg = g();
    expect(() => planTiles(cfg, 100, 100, lavapipe, { overlap: 1 })).toThrow(ArgumentError);
    expect(() => planTiles(cfg, 100, 100, lavapipe, { overlap: 1 })).toThrow('planTiles: overlap must be in [0, 1), got 1');
    expect(() => planTiles(cfg, 1000, 1000, lavapipe, { tile: 100 })).toThrow(/smaller than any input this U-Net takes/);
    expect(() => planTiles(cfg, 100, 100, lavapipe, { batch: 0 })).toThrow('planTiles: batch must be a positive integer, got 0');
  });

  test('Gaussian weights: sigma = n / 8, symmetric, peak at the centre', () => {
    const w = gaussianWeights(64);
    expect(w[31]).toBeCloseTo(w[32]!, 12);
    expect(w[0]! / w[31]!).toBeCloseTo(Math.exp(-(31.5 ** 2 - 0.5 ** 2) / (2 * 8 * 8)), 12);
  });

  test('argmaxClasses: threshold for one class, first maximum for several', () => {
    expect([...argmaxClasses([0.2, 0.5, 0.51, 0.9], 1)]).toEqual([0, 0, 1, 1]);
    expect([...argmaxClasses([0.2, 0.5, 0.51, 0.9], 1, 0.3)]).toEqual([0, 1, 1, 1]);
    // 2 pixels x 3 classes: planes [c][pixel].
    expect([...argmaxClasses([0.1, 0.4, 0.6, 0.4, 0.3, 0.2], 3)]).toEqual([1, 0]);
    expect(() => argmaxClasses([0, 1, 2], 2)).toThrow(ArgumentError);
  });
});
