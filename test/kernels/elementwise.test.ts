import { describe, expect, test } from 'vitest';
import { BINARY, erfc64, UNARY } from '../../src/kernels/elementwise.js';
import { getKernel, KERNELS } from '../../src/index.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng } from '../helpers/random.js';
import { runKernel } from '../helpers/run_kernel.js';

const { skip, dev } = await gpuSuite();

// Sizes not a multiple of the workgroup (256), and one past 65,535 workgroups (grid folding).
const SIZES = [1, 7, 255, 257, 1000 + 3];

test('erfc64 (the GELU reference) to 1e-10 relative against libm erfc (CPython math.erfc), both branches and the far tail', () => {
  const libm: [number, number][] = [
    [-3, 1.9999779095030015], [-1, 1.842700792949715], [-0.5, 1.5204998778130465], [0, 1], [0.3, 0.6713732405408726],
    [1, 0.15729920705028513], [2.4, 0.0006885138966450789], [2.6, 0.00023603441652934908], [4, 1.541725790028002e-8],
    [6, 2.1519736712498916e-17], [10, 2.088487583762545e-45],
  ];
  for (const [x, want] of libm) expect(Math.abs(erfc64(x) - want) / want, `erfc(${x})`).toBeLessThan(1e-10);
});

describe.skipIf(skip)('unary kernels: GPU vs float64 JS reference', () => {
  test.each(Object.keys(UNARY))('%s forward and backward', async (name) => {
    const r = rng(name.length);
    for (const n of SIZES) {
      const x = randnArray(r, n, 2);
      if (name === 'log' || name === 'sqrt') for (let i = 0; i < n; i++) x[i] = Math.abs(x[i]!) + 0.1;
      const a = 0.01 + r.uniform() * 0.3;
      const k = getKernel(name);
      const got = await runKernel(dev, k, { reads: { x }, writes: { y: n }, params: { n, a } });
      const want = await runKernel(cpu64, k, { reads: { x }, writes: { y: n }, params: { n, a } });
      expect(got.y).toBeAllClose(want.y, { rtol: 4e-6, atol: 1e-6 });
      const y = want.y;
      const g = randnArray(r, n);
      const kb = getKernel(`${name}_bwd`);
      const gotB = await runKernel(dev, kb, { reads: { x, y, g }, writes: { gx: n }, params: { n, a } });
      const wantB = await runKernel(cpu64, kb, { reads: { x, y, g }, writes: { gx: n }, params: { n, a } });
      expect(gotB.gx).toBeAllClose(wantB.gx, { rtol: 4e-6, atol: 1e-6 });
    }
  });
});

describe.skipIf(skip)('binary kernels (flat): GPU vs JS reference', () => {
  test.each(Object.keys(BINARY))('%s', async (name) => {
    const r = rng(100 + name.length);
    const n = randInt(r, 300, 3000);
    const a = randnArray(r, n, 2);
    const b = randnArray(r, n, 2);
    if (name === 'pow') for (let i = 0; i < n; i++) b[i] = i % 3 === 0 ? Math.round(b[i]!) : b[i]!;
    if (name === 'eq') for (let i = 0; i < n; i += 2) b[i] = a[i]!;
    const p = { n, d1: 1, d2: 1, d3: 1, d4: 1, d5: n, sa0: 0, sa1: 0, sa2: 0, sa3: 0, sa4: 0, sa5: 1, sb0: 0, sb1: 0, sb2: 0, sb3: 0, sb4: 0, sb5: 1 };
    const k = getKernel(name);
    for (const BROADCAST of [false, true]) {
      const got = await runKernel(dev, k, { reads: { a, b }, writes: { y: n }, params: p, constants: { BROADCAST } });
      const want = await runKernel(cpu64, k, { reads: { a, b }, writes: { y: n }, params: p, constants: { BROADCAST } });
      expect(got.y).toBeAllClose(want.y, { rtol: 1e-5, atol: 1e-6 });
    }
  });
});

// The vec4 kernels (the op's flat launches of a multiple of 4 elements): every table expression per component, against
// the float64 reference, with NaN and infinities among the inputs (NaN propagates, inf meets the expressions' edges).
describe.skipIf(skip)('binary kernels (flat, vec4): GPU vs JS reference', () => {
  test.each(Object.keys(BINARY))('%s_vec4', async (name) => {
    const r = rng(200 + name.length);
    const n = 4 * randInt(r, 75, 750);
    const a = randnArray(r, n, 2);
    const b = randnArray(r, n, 2);
    if (name === 'pow') for (let i = 0; i < n; i++) b[i] = i % 3 === 0 ? Math.round(b[i]!) : b[i]!;
    if (name === 'eq') for (let i = 0; i < n; i += 2) b[i] = a[i]!;
    for (const [i, v] of [[1, NaN], [6, Infinity], [11, -Infinity]] as const) a[i] = v;
    for (const [i, v] of [[2, NaN], [7, -Infinity], [13, Infinity]] as const) b[i] = v;
    const p = { n, d1: 1, d2: 1, d3: 1, d4: 1, d5: n, sa0: 0, sa1: 0, sa2: 0, sa3: 0, sa4: 0, sa5: 1, sb0: 0, sb1: 0, sb2: 0, sb3: 0, sb4: 0, sb5: 1 };
    const k = getKernel(`${name}_vec4`);
    const got = await runKernel(dev, k, { reads: { a, b }, writes: { y: n }, params: p });
    const want = await runKernel(cpu64, k, { reads: { a, b }, writes: { y: n }, params: p });
    expect(got.y).toBeAllClose(want.y, { rtol: 1e-5, atol: 1e-6 });
    // The scalar kernel's flat case gives the same values.
    const scalar = await runKernel(dev, getKernel(name), { reads: { a, b }, writes: { y: n }, params: p, constants: { BROADCAST: false } });
    expect(got.y).toBeAllClose(scalar.y, { rtol: 0, atol: 0 });
  });
});

describe.skipIf(skip)('grid folding', () => {
  test('fill past 65,535 workgroups writes every element', async () => {
    const n = 65536 * 256 + 77; // 65,537 workgroups of 256
    const got = await runKernel(dev, KERNELS.fill, { reads: {}, writes: { y: n }, params: { n, value: 3.5 } });
    let bad = 0;
    for (let i = 0; i < n; i++) if (got.y[i] !== 3.5) bad++;
    expect(bad).toBe(0);
  });
});
