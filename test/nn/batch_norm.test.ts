// BatchNorm2d train/eval semantics against PyTorch (nn_batch_norm.json): outputs, running statistics and
// num_batches_tracked over several training forwards then one in eval mode, for default options, another
// momentum/eps, momentum=None (cumulative average), no running stats, no affine. CPU device; one case on the GPU.
import { beforeAll, describe, expect, test } from 'vitest';
import { nn, noGrad, setDefaultDevice, tensor, type Device, type WebGpuDevice } from '../../src/index.js';
import { reductionTol } from '../helpers/close.js';
import { cpu32, gpu, skipGpu } from '../helpers/gpu.js';
import { fixture, fromJs, stateFromJs, type JsTensor } from './fixtures.js';

const skip = await skipGpu();
let dev: WebGpuDevice;
beforeAll(async () => {
  if (!skip) dev = await gpu();
});

interface Step {
  mode: 'train' | 'eval';
  x: JsTensor;
  y: JsTensor;
  state: Record<string, JsTensor>;
}
interface Case {
  name: string;
  options: { momentum?: number | null; eps?: number; track_running_stats?: boolean; affine?: boolean };
  init: Record<string, JsTensor>;
  steps: Step[];
}
const CASES: Case[] = fixture('batch_norm').cases;

function build(c: Case, device: Device): nn.BatchNorm2d {
  setDefaultDevice(device);
  try {
    const o = c.options;
    return new nn.BatchNorm2d(3, {
      ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
      ...(o.eps !== undefined ? { eps: o.eps } : {}),
      ...(o.track_running_stats !== undefined ? { trackRunningStats: o.track_running_stats } : {}),
      ...(o.affine !== undefined ? { affine: o.affine } : {}),
    });
  } finally {
    setDefaultDevice(null);
  }
}

async function runCase(c: Case, device: Device): Promise<void> {
  const bn = build(c, device);
  const sd0 = stateFromJs(c.init, cpu32);
  expect(Object.keys(bn.stateDict())).toEqual(Object.keys(c.init));
  bn.loadStateDict(sd0);
  for (const [i, s] of c.steps.entries()) {
    if (s.mode === 'train') bn.train();
    else bn.eval();
    const x = fromJs(s.x, device);
    const y = noGrad(() => bn.forward(x));
    const k = s.x.shape[0]! * s.x.shape[2]! * s.x.shape[3]!;
    expect(await y.toArray(), `${c.name} step ${i} (${s.mode}) output`).toBeAllClose(s.y.data, reductionTol(k, 4));
    const sd = bn.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(s.state));
    for (const [key, want] of Object.entries(s.state)) {
      const got = await sd[key]!.toArray();
      if (want.dtype === 'i32') expect([...got], `${c.name} step ${i} ${key}`).toEqual(want.data);
      else expect(got, `${c.name} step ${i} ${key}`).toBeAllClose(want.data, reductionTol(k, 4));
    }
    x.dispose();
    y.dispose();
  }
  bn.dispose();
  for (const t of Object.values(sd0)) t.dispose();
}

describe('BatchNorm2d vs PyTorch (CPU)', () => {
  for (const c of CASES) test(c.name, () => runCase(c, cpu32));
});

describe.skipIf(skip)('BatchNorm2d vs PyTorch (GPU)', () => {
  test('default', () => runCase(CASES.find((c) => c.name === 'default')!, dev));
  test('cumulative_momentum_none', () => runCase(CASES.find((c) => c.name === 'cumulative_momentum_none')!, dev));

  test('num_batches_tracked loaded from a GPU tensor of unknown value: counting resumes from it', async () => {
    const bn = build(CASES[0]!, dev);
    const n = tensor(Int32Array.from([41]), [], { device: dev });
    const sd = { ...bn.stateDict(), num_batches_tracked: n };
    bn.loadStateDict(sd);
    n.dispose();
    const x = tensor(Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => Math.sin(i)), [2, 3, 2, 2], { device: dev });
    noGrad(() => bn.forward(x)).dispose(); // may run before the loaded value is read back
    await dev.sync();
    await new Promise((r) => setTimeout(r, 10));
    noGrad(() => bn.forward(x)).dispose();
    expect([...(await bn.num_batches_tracked!.toArray())]).toEqual([43]);
    x.dispose();
    bn.dispose();
  });
});

describe('num_batches_tracked', () => {
  test('counts training forwards only, and momentum=null uses the loaded count', async () => {
    const bn = new nn.BatchNorm2d(2, { momentum: null });
    const x = tensor(Float32Array.from({ length: 2 * 2 * 3 * 1 }, (_, i) => (i * 7) % 5), [2, 2, 3, 1]);
    noGrad(() => bn.forward(x)).dispose();
    noGrad(() => bn.forward(x)).dispose();
    bn.eval();
    noGrad(() => bn.forward(x)).dispose();
    expect([...(await bn.num_batches_tracked!.toArray())]).toEqual([2]);
    // Load a count of 3 and running mean 10: the next training forward averages with weight 1/4.
    bn.train();
    const sd = { ...bn.stateDict(), num_batches_tracked: tensor(Int32Array.from([3]), []), running_mean: tensor([10, 10], [2]) };
    bn.loadStateDict(sd);
    noGrad(() => bn.forward(x)).dispose();
    // batch mean of channel 0: x[n, 0, h] for n in 0..1, h in 0..2
    const xs = await x.toArray();
    const mean0 = [0, 1, 2, 6, 7, 8].reduce((a, i) => a + xs[i]!, 0) / 6;
    const rm = await bn.running_mean!.toArray();
    expect(rm[0]).toBeCloseTo(10 * 0.75 + mean0 * 0.25, 5);
    expect([...(await bn.num_batches_tracked!.toArray())]).toEqual([4]);
    bn.dispose();
    x.dispose();
  });

  test('trackRunningStats false: no buffers, batch statistics in eval too', () => {
    const bn = new nn.BatchNorm2d(2, { trackRunningStats: false });
    expect(bn.namedBuffers()).toEqual([]);
    expect(bn.running_mean).toBe(null);
    bn.dispose();
  });
});
