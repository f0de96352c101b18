// Augmentation keeps image and mask aligned: a mask that equals the thresholded image stays so after crops with
// mirror padding, flips and quarter turns (exactly) and the elastic deformation (up to the pixels the bilinear
// image sample puts on the other side of the threshold), and one seed reproduces the same patches.
import { describe, expect, test } from 'vitest';
import { augment, cropMirror, elasticDeform, flipRotate, randomCrop, reflect, Rng, type Patch, type SegSample } from '../../src/index.js';

/** A smooth random image in [0, 1] (sum of blobs) with mask = image > 0.5. */
function blobs(n: number, seed: number): SegSample {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 6 }, () => [rng.uniform() * n, rng.uniform() * n, 4 + rng.uniform() * n / 6] as const);
  const image = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) image[y * n + x] = Math.min(1, centres.reduce((a, [cy, cx, r]) => a + Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r)), 0));
  return { name: 'blobs', channels: 1, height: n, width: n, image, mask: threshold(image) };
}
const threshold = (im: Float32Array) => Uint8Array.from(im, (v) => (v > 0.5 ? 1 : 0));
const agreement = (p: Patch) => threshold(p.image).reduce((a, v, i) => a + (v === p.mask[i] ? 1 : 0), 0) / p.mask.length;

describe('augment', () => {
  test('reflect mirrors without repeating the edge', () => {
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((i) => reflect(i, 4))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
  });

  test('crops (mirror-padded when larger than the image), flips and quarter turns keep mask = image > 0.5 exactly', () => {
    const s = blobs(40, 1);
    const rng = new Rng(3);
    const big = cropMirror(s, -10, -7, 64, 64);
    expect(threshold(big.image)).toEqual(big.mask);
    for (let k = 0; k < 4; k++) {
      for (const [h, v] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const p = flipRotate(randomCrop(s, 32, rng), h, v, k);
        expect(threshold(p.image)).toEqual(p.mask);
      }
    }
    // A quarter turn is a real rotation: four of them give the patch back.
    const p = randomCrop(s, 24, rng);
    const once = flipRotate(p, false, false, 1);
    expect(once.image).not.toEqual(p.image);
    expect(flipRotate(flipRotate(once, false, false, 2), false, false, 1).image).toEqual(p.image);
  });

  test('the elastic deformation moves image and mask together', () => {
    const s = blobs(64, 2);
    const p = elasticDeform(cropMirror(s, 0, 0, 64, 64), new Rng(5), { grid: 3, sigma: 10 });
    const moved = p.mask.reduce((a, v, i) => a + (v !== s.mask[i] ? 1 : 0), 0) / p.mask.length;
    expect(moved).toBeGreaterThan(0.02);
    expect(agreement(p)).toBeGreaterThan(0.99);
  });

  test('all augmentations from one seed reproduce; another seed differs; alignment holds', () => {
    const s = blobs(48, 4);
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 4 }, () => augment(randomCrop(s, 32, rng), rng, { flips: true, rot90: true, elastic: true }));
    };
    const a = run(9), b = run(9), c = run(10);
    expect(a.map((p) => [...p.image])).toEqual(b.map((p) => [...p.image]));
    expect(a.map((p) => [...p.mask])).toEqual(b.map((p) => [...p.mask]));
    expect(a.map((p) => [...p.image])).not.toEqual(c.map((p) => [...p.image]));
    for (const p of a) expect(agreement(p)).toBeGreaterThan(0.98);
    const j = augment(randomCrop(s, 32, new Rng(1)), new Rng(2), { intensity: true });
    expect(j.mask).toEqual(randomCrop(s, 32, new Rng(1)).mask);
  });
});
