// SGD / Adam / AdamW against PyTorch (nn_optim.json): five steps with given gradients (one parameter without a
// gradient on two steps), parameter groups with their own lr and weight decay, the state dict, and a
// save/restore in the middle that must not change the trajectory. CPU device and GPU.
import { describe, expect, test } from 'vitest';
import { Adam, AdamW, ArgumentError, nn, SGD, type Device, type Tensor } from '../../src/index.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { fixture, fromJs, type JsTensor } from './fixtures.js';

const { skip, dev } = await gpuSuite();

const OPT = fixture('optim');
const INIT: JsTensor[] = OPT.init;
const GRADS: JsTensor[][] = OPT.grads;
const MISSING = new Set((OPT.missing as [number, number][]).map(([s, i]) => `${s}:${i}`));

interface Case {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  groups: ({ params: number[] } & Record<string, unknown>)[];
  after: JsTensor[][];
  state_dict: { state: Record<string, Record<string, JsTensor | number | null>>; param_groups: Record<string, unknown>[] };
}
const CASES: Case[] = OPT.cases;

const CAMEL: Record<string, string> = { weight_decay: 'weightDecay' };
const camel = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [CAMEL[k] ?? k, v]));

function make(c: Case, params: Tensor[]): nn.Optimizer<{ lr: number }> {
  const groups = c.groups.map((g) => ({ ...camel(g), params: g.params.map((i) => params[i]!) }));
  const opts = camel(c.options);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const G = groups as any;
  if (c.optimizer === 'SGD') return new SGD(G, opts as never) as never;
  if (c.optimizer === 'Adam') return new Adam(G, opts) as never;
  return new AdamW(G, opts) as never;
}

const tolFor = (c: Case) => (c.optimizer === 'SGD' ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 2e-5, atol: 2e-6 });

function setGrads(params: Tensor[], s: number, device: Device): void {
  params.forEach((p, i) => {
    if (!MISSING.has(`${s}:${i}`)) p.grad = fromJs(GRADS[s]![i]!, device);
  });
}

async function runCase(c: Case, device: Device): Promise<void> {
  const params = INIT.map((t) => new nn.Parameter(fromJs(t, device)));
  const opt = make(c, params);
  for (let s = 0; s < GRADS.length; s++) {
    opt.zeroGrad();
    setGrads(params, s, device);
    opt.step();
    for (const [i, p] of params.entries()) expect(await p.toArray(), `${c.name} step ${s} param ${i}`).toBeAllClose(c.after[s]![i]!.data, tolFor(c));
  }
  const sd = opt.stateDict();
  expect(Object.keys(sd.state)).toEqual(Object.keys(c.state_dict.state));
  for (const [i, st] of Object.entries(c.state_dict.state)) {
    expect(Object.keys(sd.state[Number(i)]!).sort(), `state ${i} keys`).toEqual(Object.keys(st).sort());
    for (const [k, want] of Object.entries(st)) {
      const got = sd.state[Number(i)]![k];
      if (want === null || typeof want === 'number') expect(got, `state ${i}.${k}`).toBe(want);
      else expect(await (got as Tensor).toArray(), `state ${i}.${k}`).toBeAllClose(want.data, tolFor(c));
    }
  }
  expect(sd.param_groups.length).toBe(c.state_dict.param_groups.length);
  sd.param_groups.forEach((g, i) => {
    const want = c.state_dict.param_groups[i]!;
    for (const [k, v] of Object.entries(g)) expect(v, `param_groups[${i}].${k}`).toEqual(want[k]);
    // Every hyperparameter that matters is there (torch's foreach/capturable/differentiable/fused are not).
    const skipped = Object.keys(want).filter((k) => !(k in g));
    expect(skipped.every((k) => ['foreach', 'capturable', 'differentiable', 'fused'].includes(k)), `missing ${skipped}`).toBe(true);
  });
  opt.zeroGrad();
  opt.dispose();
  for (const p of params) p.dispose();
}

async function resumeCase(c: Case, device: Device): Promise<void> {
  // Three steps, save, a fresh optimizer on copies of the params loads the state, two more steps.
  const params = INIT.map((t) => new nn.Parameter(fromJs(t, device)));
  const opt = make(c, params);
  for (let s = 0; s < 3; s++) {
    opt.zeroGrad();
    setGrads(params, s, device);
    opt.step();
  }
  const params2 = await Promise.all(params.map(async (p) => new nn.Parameter(fromJs({ shape: [...p.shape], data: [...(await p.toArray())] }, device))));
  const opt2 = make({ ...c, groups: c.groups.map((g) => ({ params: g.params })) }, params2);
  opt2.loadStateDict(opt.stateDict());
  opt.zeroGrad();
  opt.dispose();
  for (let s = 3; s < GRADS.length; s++) {
    opt2.zeroGrad();
    setGrads(params2, s, device);
    opt2.step();
  }
  for (const [i, p] of params2.entries()) expect(await p.toArray(), `${c.name} resumed param ${i}`).toBeAllClose(c.after[GRADS.length - 1]![i]!.data, tolFor(c));
  opt2.zeroGrad();
  opt2.dispose();
  for (const p of [...params, ...params2]) p.dispose();
}

describe('optimizers vs PyTorch (CPU)', () => {
  for (const c of CASES) test(c.name, () => runCase(c, cpu32));
  for (const c of CASES.filter((c) => ['sgd_momentum', 'adam_amsgrad', 'adamw_groups'].includes(c.name))) {
    test(`${c.name}: stateDict / loadStateDict mid-run keeps the trajectory`, () => resumeCase(c, cpu32));
  }
});

describe.skipIf(skip)('optimizers vs PyTorch (GPU)', () => {
  for (const c of CASES) test(c.name, () => runCase(c, dev));
  test('adam_amsgrad: resume on the GPU', () => resumeCase(CASES.find((c) => c.name === 'adam_amsgrad')!, dev));
});

describe('optimizer API', () => {
  const P = () => new nn.Parameter(fromJs({ shape: [2], data: [1, 2] }, cpu32));

  test('argument checks as torch', () => {
    const p = P();
    expect(() => new SGD([], { lr: 0.1 })).toThrow(ArgumentError);
    expect(() => new SGD([p], { lr: -1 })).toThrow(/learning rate/);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/beta/);
    expect(() => new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 })).toThrow(/more than one parameter group/);
    p.dispose();
  });

  test('zeroGrad disposes grads; step skips parameters without grad (no state)', async () => {
    const a = P();
    const b = P();
    const opt = new SGD([a, b], { lr: 0.5, momentum: 0.9 });
    const g = fromJs({ shape: [2], data: [1, 1] }, cpu32);
    a.grad = g;
    opt.step();
    expect([...(await a.toArray())]).toEqual([0.5, 1.5]);
    expect([...(await b.toArray())]).toEqual([1, 2]);
    expect(opt.state.has(b)).toBe(false);
    opt.zeroGrad();
    expect(g.disposed).toBe(true);
    expect(a.grad).toBe(null);
    const buf = opt.state.get(a)!.momentum_buffer as Tensor;
    opt.dispose();
    expect(buf.disposed).toBe(true);
    a.dispose();
    b.dispose();
  });

  test('group lr can be changed between steps (what schedulers do)', async () => {
    const a = P();
    const opt = new SGD([a], { lr: 1 });
    a.grad = fromJs({ shape: [2], data: [1, 1] }, cpu32);
    opt.paramGroups[0]!.lr = 0.25;
    opt.step();
    expect([...(await a.toArray())]).toEqual([0.75, 1.75]);
    opt.zeroGrad();
    a.dispose();
  });
});
