// HD95 on hand-made masks against values worked out by hand; the distance transform is exact (equals brute force).
import { describe, expect, test } from 'vitest';
import { hausdorff, hd95, maskBoundary, percentile, squaredDistanceTransform, surfaceDistances } from '../../src/seg/hausdorff.js';
import { rng } from '../helpers/random.js';

/** A width x height mask with the rectangle rows [r0, r1) x cols [c0, c1) set. */
function rect(width: number, height: number, r0: number, r1: number, c0: number, c1: number): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) m[r * width + c] = 1;
  return m;
}

describe('boundaries and the distance transform', () => {
  test("boundary: MONAI's (mask XOR erosion by the 3x3 cross); the image edge counts as outside", () => {
    // A 3 x 3 square inside a 5 x 5 image: its ring of 8, not the centre.
    expect([...maskBoundary(rect(5, 5, 1, 4, 1, 4), 5, 5)]).toEqual([...rect(5, 5, 1, 4, 1, 4)].map((v, i) => (i === 12 ? 0 : v)));
    // The whole image: its outer ring.
    const all = maskBoundary(new Uint8Array(16).fill(1), 4, 4);
    expect([...all]).toEqual([1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    // A diagonal neighbour does not make a boundary (the cross, not the 3x3 square): the plus sign's centre is interior.
    const plus = new Uint8Array(25);
    for (const i of [7, 11, 12, 13, 17]) plus[i] = 1;
    expect(maskBoundary(plus, 5, 5)[12]).toBe(0);
  });

  test('the Felzenszwalb-Huttenlocher transform equals brute force on random masks', () => {
    const r = rng(11);
    for (const [w, h] of [[1, 1], [7, 1], [1, 9], [13, 17], [32, 5]] as const) {
      const sites = Uint8Array.from({ length: w * h }, () => (r.uniform() < 0.08 ? 1 : 0));
      sites[Math.floor(r.uniform() * w * h)] = 1;
      const got = squaredDistanceTransform(sites, w, h);
      for (let i = 0; i < w * h; i++) {
        let best = Infinity;
        for (let j = 0; j < w * h; j++) if (sites[j]) best = Math.min(best, (Math.floor(i / w) - Math.floor(j / w)) ** 2 + ((i % w) - (j % w)) ** 2);
        expect(got[i]).toBe(best);
      }
    }
  });

  test("percentile is numpy's linear one", () => {
    expect(percentile([3, 7], 95)).toBeCloseTo(6.8, 12);
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([0, 0, 0, 0, 0, 1], 95)).toBeCloseTo(0.75, 12);
    expect(percentile([1, Infinity], 0)).toBe(1);
  });
});

describe('HD95 on hand-made masks', () => {
  test('two 10 x 10 squares offset by k = 3 columns: HD95 = HD = 3', () => {
    // The shift maps each boundary onto the other, so no distance exceeds 3. Exactly 3 from the other boundary: a's
    // left column (10 pixels: b's boundary lies 3 columns right or further) and the middle 4 of its right column (3 or
    // more rows from b's top and bottom edges, b's right column 3 away): 14 of 36 boundary pixels, more than 5%.
    const a = rect(20, 14, 2, 12, 2, 12);
    const b = rect(20, 14, 2, 12, 5, 15);
    expect(hd95(a, b, 20, 14)).toBe(3);
    expect(hausdorff(a, b, 20, 14, 100)).toBe(3);
    const d = surfaceDistances(a, b, 20, 14);
    expect(d.length).toBe(36);
    expect(d.filter((v) => v === 3).length).toBe(14);
    expect(Math.max(...d)).toBe(3);
  });

  test('a 20 x 20 square and the same grown by 2: HD95 = sqrt 5, below the maximum sqrt 8', () => {
    const inner = rect(40, 40, 10, 30, 10, 30);
    const outer = rect(40, 40, 8, 32, 8, 32);
    // inner -> outer: each of the 76 ring pixels is 2 from the ring straight out.
    expect([...new Set(surfaceDistances(inner, outer, 40, 40))]).toEqual([2]);
    // outer -> inner: 92 ring pixels; per corner two at sqrt(2^2 + 1^2) and the corner itself at sqrt(2^2 + 2^2), the
    // other 80 at 2. Sorted, ranks 80-87 are sqrt 5 and 88-91 sqrt 8; the 95th percentile sits at rank 0.95 x 91 = 86.45.
    const d = [...surfaceDistances(outer, inner, 40, 40)].sort((x, y) => x - y);
    expect(d.length).toBe(92);
    expect(d.filter((v) => v === 2).length).toBe(80);
    expect(d.slice(80, 88)).toEqual(new Array(8).fill(Math.sqrt(5)));
    expect(d.slice(88)).toEqual(new Array(4).fill(Math.sqrt(8)));
    expect(hd95(inner, outer, 40, 40)).toBeCloseTo(Math.sqrt(5), 12);
    expect(hausdorff(inner, outer, 40, 40, 100)).toBeCloseTo(Math.sqrt(8), 12);
  });

  test('interpolation: two pixels against one, 3 and 7 apart: HD95 = 3 + 0.95 x 4 = 6.8 (HD 7)', () => {
    const a = new Uint8Array(5 * 12);
    const b = new Uint8Array(5 * 12);
    a[2 * 12 + 0] = a[2 * 12 + 10] = 1;
    b[2 * 12 + 3] = 1;
    expect(hd95(a, b, 12, 5)).toBeCloseTo(6.8, 12);
    expect(hd95(b, a, 12, 5)).toBeCloseTo(6.8, 12);
    expect(hausdorff(a, b, 12, 5, 100)).toBe(7);
  });

  test("empty masks: 0 when both are, Infinity when one is (MONAI's convention for one empty mask)", () => {
    const empty = new Uint8Array(36);
    const some = rect(6, 6, 1, 3, 1, 4);
    expect(hd95(empty, empty, 6, 6)).toBe(0);
    expect(hd95(some, empty, 6, 6)).toBe(Infinity);
    expect(hd95(empty, some, 6, 6)).toBe(Infinity);
    expect(hd95(some, some, 6, 6)).toBe(0);
  });

  test('bad sizes are errors naming the sizes', () => {
    expect(() => hd95(new Uint8Array(5), new Uint8Array(6), 3, 2)).toThrow('hausdorff: mask has 5 pixels, 2 x 3 needs 6');
  });
});
