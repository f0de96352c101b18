// clipGradNorm_ against torch.nn.utils.clip_grad_norm_ (nn_clip.json): L2 with and without clipping, L1,
// inf, p = 3, large gradients; grads scaled in place (same tensor objects), total norm returned on the
// device with no readback. CPU device and GPU.
import { describe, expect, test } from 'vitest';
import { nn, stats, tensor, zeros, type Device, type Tensor } from '../../src/index.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { fixture, fromJs, type JsTensor } from './fixtures.js';

const { skip, dev } = await gpuSuite();

interface Case {
  name: string;
  max_norm: number;
  norm_type: number | 'inf';
  grads: JsTensor[];
  total_norm: number;
  clipped: JsTensor[];
}
const CASES: Case[] = fixture('clip').cases;

async function runCase(c: Case, device: Device): Promise<void> {
  const params = c.grads.map((g) => new nn.Parameter(zeros(g.shape, { device })));
  const grads = c.grads.map((g, i) => (params[i]!.grad = fromJs(g, device)));
  const submits0 = device.kind === 'webgpu' ? stats(device).submits : 0;
  const total = nn.clipGradNorm_(params, c.max_norm, c.norm_type === 'inf' ? Infinity : c.norm_type);
  if (device.kind === 'webgpu') expect(stats(device).submits - submits0, 'no readback (no submit) inside clipGradNorm_').toBeLessThanOrEqual(1);
  expect(total.shape).toEqual([]);
  expect(await total.toArray(), 'total norm').toBeAllClose([c.total_norm], { rtol: 3e-6, atol: 0 });
  for (const [i, p] of params.entries()) {
    expect(p.grad).toBe(grads[i]);
    expect(await p.grad!.toArray(), `clipped grad ${i}`).toBeAllClose(c.clipped[i]!.data, { rtol: 3e-6, atol: 1e-7 });
  }
  total.dispose();
  for (const p of params) {
    p.grad?.dispose();
    p.dispose();
  }
}

describe('clipGradNorm_ vs PyTorch (CPU)', () => {
  for (const c of CASES) test(c.name, () => runCase(c, cpu32));
  test('no grads: total 0, nothing changes', async () => {
    const p = new nn.Parameter(zeros([2], { device: cpu32 }));
    const t: Tensor = nn.clipGradNorm_([p], 1);
    expect([...(await t.toArray())]).toEqual([0]);
    p.dispose();
  });
});

describe.skipIf(skip)('clipGradNorm_ vs PyTorch (GPU)', () => {
  for (const c of CASES.filter((c) => ['l2_clips', 'inf'].includes(c.name))) test(c.name, () => runCase(c, dev));
});

// PyTorch 1.13 (error_if_nonfinite=False, the default): clip_coef = max_norm / (total + 1e-6), clamped to at
// most 1 by torch.clamp, which keeps NaN: a NaN total scales every gradient by NaN, an infinite total by 0
// (so inf * 0 = NaN where the infinity was). Checked on the CPU device and the GPU alike: the GPU's min()
// drops NaN, so the coefficient must not rely on it.
async function nonFinite(device: Device): Promise<void> {
  const cases: [string, number[][], number, number[][], number][] = [
    ['NaN total', [[NaN, 1], [2, 3]], 1, [[NaN, NaN], [NaN, NaN]], NaN],
    ['NaN total, infinite maxNorm', [[NaN, 1], [2]], Infinity, [[NaN, NaN], [NaN]], NaN],
    ['infinite total', [[Infinity, 1], [2]], 1, [[NaN, 0], [0]], Infinity],
    ['infinite total, infinite maxNorm', [[Infinity, 1], [2]], Infinity, [[NaN, NaN], [NaN]], Infinity],
    ['finite total, infinite maxNorm: unchanged', [[3, 4], [0]], Infinity, [[3, 4], [0]], 5],
    ['maxNorm 0: zeros', [[3, 4], [1]], 0, [[0, 0], [0]], Math.sqrt(26)],
  ];
  for (const [name, grads, maxNorm, want, wantTotal] of cases) {
    const params = grads.map((g) => new nn.Parameter(zeros([g.length], { device })));
    params.forEach((p, i) => (p.grad = tensor(grads[i]!, [grads[i]!.length], { device })));
    const total = nn.clipGradNorm_(params, maxNorm);
    expect([...(await total.toArray())], `${name}: total`).toEqual([Math.fround(wantTotal)]);
    for (const [i, p] of params.entries()) expect([...(await p.grad!.toArray())], `${name}: grad ${i}`).toEqual(want[i]!.map(Math.fround));
    total.dispose();
    for (const p of params) {
      p.grad?.dispose();
      p.dispose();
    }
  }
}

describe('clipGradNorm_ with a non-finite total norm: NaN propagates as in PyTorch', () => {
  test('CPU', () => nonFinite(cpu32));
  test.skipIf(skip)('GPU', () => nonFinite(dev));
});
