// In-place optimizer updates: sgd_update and adam_update and their vec4 variants (every flag combination) on the GPU against their CPU
// references; sgdUpdate / adamUpdate step for step against torch.optim trajectories (test/fixtures/torch/optim_*.json,
// made by scripts/fixtures/make_optim_fixtures.py) on the GPU and the float32 CPU device; parameters over the
// binding limit (a real 134 MB one, and a shrunken limit); argument errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ArgumentError, F, getKernel, ShapeError, stats, tensor, zeros, type AdamUpdate, type Device, type SgdUpdate, type Tensor } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { randnArray, rng, uniformArray } from '../helpers/random.js';
import { runKernel } from '../helpers/run_kernel.js';
import { smallLimits } from '../helpers/small_limits.js';

const { skip, dev, devices } = await gpuSuite();

const SIZES = [1, 7, 64, 1003];
// The vec4 variants take sizes that are multiples of 4.
const SIZES4 = [4, 64, 1004];

describe.skipIf(skip)('optimizer kernels: GPU vs reference', () => {
  test.each([['sgd_update', SIZES], ['sgd_update_vec4', SIZES4]] as const)('%s: MOMENTUM x NESTEROV x FIRST, weight decay, maximize', async (name, sizes) => {
    const r = rng(1);
    const k = getKernel(name);
    for (const n of sizes) {
      for (const MOMENTUM of [false, true]) for (const NESTEROV of MOMENTUM ? [false, true] : [false]) for (const FIRST of MOMENTUM ? [false, true] : [false]) {
        for (const [wd, sign] of [[0, 1], [0.05, -1]] as const) {
          const run = {
            reads: { grad: randnArray(r, n) },
            writes: { param: n, buf: n },
            init: { param: randnArray(r, n), buf: randnArray(r, n, 0.3) },
            params: { n, lr: 0.1, momentum: 0.9, one_minus_dampening: 0.8, weight_decay: wd, sign },
            constants: { MOMENTUM, NESTEROV, FIRST },
          };
          const got = await runKernel(dev, k, run);
          const want = await runKernel(cpu64, k, run);
          expect(got.param).toBeAllClose(want.param!, { rtol: 1e-6, atol: 1e-7 });
          expect(got.buf).toBeAllClose(want.buf!, { rtol: 1e-6, atol: 1e-7 });
          if (!MOMENTUM) expect(Array.from(got.buf!)).toEqual(Array.from(Float32Array.from(run.init.buf))); // untouched
        }
      }
    }
  });

  test.each([['adam_update', SIZES], ['adam_update_vec4', SIZES4]] as const)('%s: DECOUPLED x AMSGRAD, weight decay, maximize', async (name, sizes) => {
    const r = rng(2);
    const k = getKernel(name);
    for (const n of sizes) {
      for (const DECOUPLED of [false, true]) for (const AMSGRAD of [false, true]) for (const [wd, sign] of [[0, 1], [0.1, -1]] as const) {
        const step = 3;
        const run = {
          reads: { grad: randnArray(r, n) },
          writes: { param: n, m: n, v: n, vmax: n },
          init: { param: randnArray(r, n), m: randnArray(r, n, 0.1), v: uniformArray(r, n, 0, 0.1), vmax: uniformArray(r, n, 0, 0.2) },
          params: {
            n, beta1: 0.9, one_minus_beta1: 0.1, beta2: 0.999, one_minus_beta2: 0.001, eps: 1e-8, weight_decay: wd,
            decay: 1 - 0.01 * wd, sign, step_size: 0.01 / (1 - 0.9 ** step), bc2_sqrt: Math.sqrt(1 - 0.999 ** step),
          },
          constants: { DECOUPLED, AMSGRAD },
        };
        const got = await runKernel(dev, k, run);
        const want = await runKernel(cpu64, k, run);
        for (const w of ['param', 'm', 'v', 'vmax']) expect(got[w], `${w} D${DECOUPLED} A${AMSGRAD}`).toBeAllClose(want[w]!, { rtol: 1e-5, atol: 1e-7 });
      }
    }
  });
});

// ---- torch.optim trajectories ----

interface OptimFixture {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, number | boolean>;
  shape: number[];
  param: number[];
  grads: number[][];
  steps: { param: number[]; state: Record<string, number[]> }[];
}

const DIR = join(import.meta.dirname, '../fixtures/torch');
const FIXTURES = readdirSync(DIR)
  .filter((f) => f.startsWith('optim_') && f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as OptimFixture);

/** Runs a fixture's steps with our update ops on `d`; returns the parameter and state after every step. */
async function trajectory(d: Device, fx: OptimFixture) {
  const p = tensor(Float32Array.from(fx.param), fx.shape, { device: d });
  const state: Record<string, Tensor> = {};
  const out: { param: number[]; state: Record<string, number[]> }[] = [];
  for (let s = 0; s < fx.grads.length; s++) {
    const g = tensor(Float32Array.from(fx.grads[s]!), fx.shape, { device: d });
    if (fx.optimizer === 'SGD') {
      const momentum = (fx.options.momentum as number | undefined) ?? 0;
      // PyTorch creates the buffer on the first step (buf = d_p): ours starts uninitialized, firstStep = true.
      if (momentum !== 0 && !state.momentum_buffer) state.momentum_buffer = tensor(new Float32Array(p.numel).fill(NaN), fx.shape, { device: d });
      F.sgdUpdate(p, g, state.momentum_buffer ?? null, s === 0, fx.options as unknown as SgdUpdate);
    } else {
      if (!state.exp_avg) {
        state.exp_avg = zeros(fx.shape, { device: d });
        state.exp_avg_sq = zeros(fx.shape, { device: d });
        if (fx.options.amsgrad) state.max_exp_avg_sq = zeros(fx.shape, { device: d });
      }
      F.adamUpdate(p, g, state.exp_avg, state.exp_avg_sq!, state.max_exp_avg_sq ?? null, s + 1, fx.options as unknown as AdamUpdate);
    }
    g.dispose();
    const st: Record<string, number[]> = {};
    for (const [k, t] of Object.entries(state)) st[k] = Array.from(await t.toArray());
    out.push({ param: Array.from(await p.toArray()), state: st });
  }
  p.dispose();
  for (const t of Object.values(state)) t.dispose();
  return out;
}

describe('sgdUpdate / adamUpdate == torch.optim (PyTorch 1.13) step for step', () => {
  test('the fixtures cover SGD (plain, momentum, dampening, nesterov, weight decay, maximize), Adam (plain, weight decay, amsgrad, maximize), AdamW', () => {
    expect(FIXTURES.map((f) => f.name)).toEqual(expect.arrayContaining([
      'sgd_plain', 'sgd_momentum', 'sgd_dampening', 'sgd_nesterov', 'sgd_weight_decay', 'sgd_maximize',
      'adam_plain', 'adam_weight_decay', 'adam_amsgrad', 'adam_maximize', 'adamw', 'adamw_weight_decay_amsgrad',
    ]));
  });

  test.each(FIXTURES.map((f) => [f.name, f] as const))('%s', async (_name, fx) => {
    for (const d of devices(cpu32)) {
      const live = stats(d).liveTensors;
      const got = await trajectory(d, fx);
      expect(stats(d).liveTensors).toBe(live);
      fx.steps.forEach((want, s) => {
        const scale = Math.max(...want.param.map(Math.abs));
        expect(got[s]!.param, `${d.kind} step ${s + 1} param`).toBeAllClose(want.param, { rtol: 1e-6, atol: 1e-6 * scale });
        expect(Object.keys(got[s]!.state).sort()).toEqual(Object.keys(want.state).sort());
        for (const [k, v] of Object.entries(want.state)) {
          const sc = Math.max(...v.map(Math.abs));
          expect(got[s]!.state[k], `${d.kind} step ${s + 1} ${k}`).toBeAllClose(v, { rtol: 1e-6, atol: 1e-6 * sc });
        }
      });
    }
  });
});

// ---- over the binding limit ----

describe.skipIf(skip)('parameters over the binding limit', () => {
  test('AdamW with amsgrad (five bindings, four written in place) on a 34M-element parameter (136 MB), vs JS', async () => {
    const n = 34_000_000;
    expect(n * 4).toBeGreaterThan(dev.limits.maxBindingBytes);
    const pAt = (i: number) => Math.fround(((i % 1999) - 999.5) * 0.001);
    const gAt = (i: number) => Math.fround(((i * 7) % 997) * 0.002 - 1);
    const fill = (f: (i: number) => number) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = f(i);
      return a;
    };
    const idx: number[] = [];
    for (let i = 0; i < n; i += 1009) idx.push(i);
    for (let b = 1 << 20; b < n; b += 1 << 20) for (let i = b - 64; i < b + 64; i++) idx.push(i);
    for (let i = n - 64; i < n; i++) idx.push(i);
    const live = stats(dev).liveTensors;

    // AdamW with amsgrad, one step from zero state.
    {
      const p = tensor(fill(pAt), [n], { device: dev });
      const st = [0, 1, 2].map(() => zeros([n], { device: dev }));
      const g = tensor(fill(gAt), [n], { device: dev });
      F.adamUpdate(p, g, st[0]!, st[1]!, st[2]!, 1, { lr: 0.01, weightDecay: 0.1, decoupled: true, amsgrad: true });
      g.dispose();
      const want = idx.map((i) => {
        const gv = gAt(i);
        const m = 0.1 * gv;
        const v = 0.001 * gv * gv;
        return pAt(i) * (1 - 0.001) - (0.01 / 0.1) * (m / (Math.sqrt(v) / Math.sqrt(0.001) + 1e-8));
      });
      const got = await p.toArray();
      expect(idx.map((i) => got[i]!)).toBeAllClose(want, { rtol: 1e-5, atol: 1e-6 });
      const vmax = await st[2]!.toArray();
      expect(idx.map((i) => vmax[i]!)).toBeAllClose(idx.map((i) => 0.001 * gAt(i) ** 2), { rtol: 1e-5, atol: 1e-12 });
      p.dispose();
      for (const t of st) t.dispose();
    }
    expect(stats(dev).liveTensors).toBe(live);
  });

  // 10,000 elements take the vec4 kernels, 10,001 the scalar ones.
  test.each([10_000, 10_001])('a shrunken binding limit (4096 elements) gives the unsplit result: %i elements', async (n) => {
    const r = rng(3);
    const p0 = randnArray(r, n);
    const grads = [randnArray(r, n), randnArray(r, n)];
    const run = async (d: Device) => {
      const p = tensor(p0, [n], { device: d });
      const m = zeros([n], { device: d });
      const v = zeros([n], { device: d });
      const b = zeros([n], { device: d });
      for (let s = 0; s < 2; s++) {
        const g = tensor(grads[s]!, [n], { device: d });
        F.adamUpdate(p, g, m, v, null, s + 1, { lr: 0.01, weightDecay: 0.01 });
        F.sgdUpdate(p, g, b, s === 0, { lr: 0.05, momentum: 0.5, dampening: 0.1 });
        g.dispose();
      }
      const out = [...(await p.toArray()), ...(await m.toArray()), ...(await v.toArray()), ...(await b.toArray())];
      for (const t of [p, m, v, b]) t.dispose();
      return out;
    };
    const want = await run(cpu64);
    const small = smallLimits(dev, { maxBindingBytes: 4096 * 4, bindingOffsetAlignment: 256 });
    const before = stats(small).dispatches;
    const got = await run(small);
    expect(stats(small).dispatches - before).toBeGreaterThanOrEqual(4 * 3);
    expect(got).toBeAllClose(want, { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('argument errors', () => {
  const d = cpu64;
  test('missing state, bad hyper-parameters and shapes are refused', () => {
    const p = tensor(Float32Array.of(1, 2, 3), [3], { device: d });
    const g = tensor(Float32Array.of(0.1, 0.2, 0.3), [3], { device: d });
    const other = tensor(Float32Array.of(1, 2), [2], { device: d });
    expect(() => F.sgdUpdate(p, g, null, true, { lr: 0.1, momentum: 0.9 })).toThrow(ArgumentError);
    expect(() => F.sgdUpdate(p, g, null, true, { lr: 0.1, nesterov: true })).toThrow('sgdUpdate: nesterov momentum requires a momentum and zero dampening');
    expect(() => F.sgdUpdate(p, g, null, true, { lr: -1 })).toThrow('sgdUpdate: invalid learning rate: -1');
    expect(() => F.sgdUpdate(p, other, null, true, { lr: 0.1 })).toThrow(ShapeError);
    expect(() => F.adamUpdate(p, g, p, p, null, 1, { lr: 0.1, amsgrad: true })).toThrow('adamUpdate: amsgrad needs maxExpAvgSq');
    expect(() => F.adamUpdate(p, g, p, p, null, 0, { lr: 0.1 })).toThrow(ArgumentError);
    expect(() => F.adamUpdate(p, g, p, p, null, 1, { lr: 0.1, beta1: 1 })).toThrow(ArgumentError);
    expect(() => F.adamUpdate(p, g, other, p, null, 1, { lr: 0.1 })).toThrow('adamUpdate: expAvg [2] must have the shape of param [3]');
    for (const t of [p, g, other]) t.dispose();
  });
});
