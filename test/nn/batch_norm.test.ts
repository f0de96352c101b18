// BatchNorm2d train/eval semantics against PyTorch (nn_batch_norm.json): outputs, running statistics and
// num_batches_tracked over several training forwards then one in eval mode, for default options, another
// momentum/eps, momentum=None (cumulative average), no running stats, no affine. CPU device; one case on the GPU.
// The fused BatchNorm2d -> ReLU (forwardRelu, and Sequential's use of it) against the same fixtures and against
// the unfused modules: outputs, running statistics, num_batches_tracked and gradients, train and eval.
import { describe, expect, test } from 'vitest';
import { nn, noGrad, relu, setDefaultDevice, tensor, type Device, type Tensor } from '../../src/index.js';
import { reductionTol } from '../helpers/close.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { fixture, fromJs, stateFromJs, type JsTensor } from './fixtures.js';

const { skip, dev } = await gpuSuite();

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

/** Runs a fixture case through bn.forward (or bn.forwardRelu, then the fixture's outputs go through ReLU). */
async function runCase(c: Case, device: Device, fused = false): Promise<void> {
  const bn = build(c, device);
  const sd0 = stateFromJs(c.init, cpu32);
  expect(Object.keys(bn.stateDict())).toEqual(Object.keys(c.init));
  bn.loadStateDict(sd0);
  for (const [i, s] of c.steps.entries()) {
    if (s.mode === 'train') bn.train();
    else bn.eval();
    const x = fromJs(s.x, device);
    const y = noGrad(() => (fused ? bn.forwardRelu(x) : bn.forward(x)));
    const k = s.x.shape[0]! * s.x.shape[2]! * s.x.shape[3]!;
    const want = fused ? s.y.data.map((v) => Math.max(v, 0)) : s.y.data;
    expect(await y.toArray(), `${c.name} step ${i} (${s.mode}) output`).toBeAllClose(want, reductionTol(k, 4));
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
  for (const c of CASES) test(`${c.name}, fused with ReLU (forwardRelu)`, () => runCase(c, cpu32, true));
});

describe.skipIf(skip)('BatchNorm2d vs PyTorch (GPU)', () => {
  test('default', () => runCase(CASES.find((c) => c.name === 'default')!, dev));
  test('cumulative_momentum_none', () => runCase(CASES.find((c) => c.name === 'cumulative_momentum_none')!, dev));
  test('default, fused with ReLU', () => runCase(CASES.find((c) => c.name === 'default')!, dev, true));
  test('cumulative_momentum_none, fused with ReLU', () => runCase(CASES.find((c) => c.name === 'cumulative_momentum_none')!, dev, true));
  test('Sequential(BatchNorm2d, ReLU) fused == the unfused modules (train steps, eval, grads)', () => fusedVsUnfused(dev));

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

/**
 * Two identical Sequential(Conv2d, BatchNorm2d, ReLU) nets, one run fused by Sequential and one with the ReLU
 * applied by hand after the BatchNorm2d module: after 3 training steps (forward + backward) and an eval forward,
 * outputs, gradients, running statistics and num_batches_tracked agree.
 */
async function fusedVsUnfused(device: Device): Promise<void> {
  setDefaultDevice(device);
  const make = () => new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3, { momentum: 0.3 }), new nn.ReLU());
  const a = make();
  const b = make();
  setDefaultDevice(null);
  b.loadStateDict(a.stateDict());
  const bn = b.at(1) as nn.BatchNorm2d;
  const unfused = (x: Tensor) => {
    const c = b.at(0)!.forward(x) as Tensor;
    const z = bn.forward(c);
    c.dispose();
    const y = relu(z);
    z.dispose();
    return y;
  };
  const shape = [2, 2, 5, 8];
  for (let step = 0; step < 4; step++) {
    const training = step < 3;
    a.train(training);
    b.train(training);
    const x = tensor(Float32Array.from({ length: 160 }, (_, i) => Math.sin(0.7 * i + step) * (1 + step)), shape, { device });
    const ya = a.forward(x);
    const yb = unfused(x);
    expect(await ya.toArray(), `step ${step} output`).toBeAllClose(await yb.toArray(), { rtol: 1e-6, atol: 1e-6 });
    if (training) {
      const g = tensor(Float32Array.from({ length: 3 * 40 * 2 }, (_, i) => Math.cos(1.3 * i)), [2, 3, 5, 8], { device });
      ya.backward(g);
      yb.backward(g);
      g.dispose();
    }
    for (const t of [x, ya, yb]) t.dispose();
  }
  const pa = a.namedParameters();
  const pb = b.namedParameters();
  for (let i = 0; i < pa.length; i++) expect(await pa[i]![1].grad!.toArray(), `grad ${pa[i]![0]}`).toBeAllClose(await pb[i]![1].grad!.toArray(), { rtol: 1e-5, atol: 1e-5 });
  const sa = a.stateDict();
  const sb = b.stateDict();
  for (const k of Object.keys(sa)) expect(await sa[k]!.toArray(), k).toBeAllClose(await sb[k]!.toArray(), { rtol: 1e-6, atol: 1e-6 });
  expect([...(await sa['1.num_batches_tracked']!.toArray())]).toEqual([3]);
  a.dispose();
  b.dispose();
}

describe('BatchNorm2d -> ReLU fusion in Sequential (CPU)', () => {
  test('Sequential(BatchNorm2d, ReLU) fused == the unfused modules (train steps, eval, grads)', () => fusedVsUnfused(cpu32));

  test('fuses only an exact BatchNorm2d.forward directly followed by ReLU.forward: patched forwards (hooks) run as written', () => {
    setDefaultDevice(cpu32);
    const net = new nn.Sequential(new nn.BatchNorm2d(2), new nn.ReLU(), new nn.BatchNorm2d(2), new nn.Sigmoid(), new nn.ReLU());
    setDefaultDevice(null);
    const calls: string[] = [];
    const spy = (name: string, m: nn.Module) => {
      const f = m.forward.bind(m);
      (m as unknown as { forward: unknown }).forward = (x: Tensor) => {
        calls.push(name);
        return f(x);
      };
    };
    const x = tensor(Float32Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => Math.sin(i)), [2, 2, 3, 3], { device: cpu32 });
    const bn0 = net.at(0) as nn.BatchNorm2d;
    const fusedCalls: string[] = [];
    const fr = bn0.forwardRelu.bind(bn0);
    bn0.forwardRelu = (t: Tensor) => {
      fusedCalls.push('bn0+relu');
      return fr(t);
    };
    noGrad(() => net.forward(x)).dispose();
    expect(fusedCalls).toEqual(['bn0+relu']);
    // A hook on the ReLU (summary() patches every module like this) turns the fusion off for that pair.
    spy('relu1', net.at(1)!);
    spy('bn2', net.at(2)!);
    noGrad(() => net.forward(x)).dispose();
    expect(fusedCalls).toEqual(['bn0+relu']);
    expect(calls).toEqual(['relu1', 'bn2']);
    x.dispose();
    net.dispose();
  });
});
