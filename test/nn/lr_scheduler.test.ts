// Learning-rate sequences of StepLR, CosineAnnealingLR (past tMax, through the restart branch) and
// ReduceLROnPlateau against PyTorch 1.13 (nn_sched.json), with two parameter groups of different lr.
import { describe, expect, test } from 'vitest';
import { CosineAnnealingLR, nn, ReduceLROnPlateau, SGD, StepLR, zeros } from '../../src/index.js';
import { cpu32 } from '../helpers/gpu.js';
import { fixture } from './fixtures.js';

interface Case {
  name: string;
  scheduler: 'StepLR' | 'CosineAnnealingLR' | 'ReduceLROnPlateau';
  options: Record<string, unknown>;
  metrics: number[] | null;
  lrs: number[][];
}
const CASES: Case[] = fixture('sched').cases;

function optimizer() {
  const a = new nn.Parameter(zeros([1], { device: cpu32 }));
  const b = new nn.Parameter(zeros([1], { device: cpu32 }));
  return new SGD([{ params: [a] }, { params: [b], lr: 0.05 }], { lr: 0.1, momentum: 0.9 });
}

const close = (got: number[], want: number[], what: string) => {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `${what} group ${i}: got ${g}, want ${want[i]}`).toBeLessThanOrEqual(1e-12 * Math.abs(want[i]!) + 1e-15));
};

describe('schedulers vs PyTorch', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const opt = optimizer();
      const o = c.options as never;
      const sch = c.scheduler === 'StepLR' ? new StepLR(opt, o) : c.scheduler === 'CosineAnnealingLR' ? new CosineAnnealingLR(opt, o) : new ReduceLROnPlateau(opt, o);
      const lrs = () => opt.paramGroups.map((g) => g.lr);
      close(lrs(), c.lrs[0]!, 'after construction');
      for (let s = 0; s < c.lrs.length - 1; s++) {
        opt.step();
        if (sch instanceof ReduceLROnPlateau) sch.step(c.metrics![s]!);
        else sch.step();
        close(lrs(), c.lrs[s + 1]!, `after step ${s + 1}`);
        close(sch.getLastLr(), c.lrs[s + 1]!, `getLastLr after step ${s + 1}`);
      }
      for (const g of opt.paramGroups) for (const p of g.params) p.dispose();
    });
  }
});

describe('scheduler details', () => {
  test('initialLr is set on the groups and shows in the optimizer state dict as initial_lr', () => {
    const opt = optimizer();
    new StepLR(opt, { stepSize: 2 });
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.05]);
    expect(opt.stateDict().param_groups.map((g) => g.initial_lr)).toEqual([0.1, 0.05]);
  });

  test('StepLR: an explicit epoch uses the closed form', () => {
    const opt = optimizer();
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    s.step(7);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1 * 0.25, 15);
  });

  test('resuming needs initialLr; a resumed cosine continues where the closed form says', () => {
    const opt = optimizer();
    expect(() => new CosineAnnealingLR(opt, { tMax: 10, lastEpoch: 4 })).toThrow(/initial_lr/);
    opt.paramGroups.forEach((g) => (g.initialLr = g.lr));
    const s = new CosineAnnealingLR(opt, { tMax: 10, lastEpoch: 4 });
    expect(s.lastEpoch).toBe(5);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1 * (1 + Math.cos(Math.PI / 2)) / 2, 15);
  });

  test('scheduler state dicts round-trip', () => {
    const opt = optimizer();
    const s = new CosineAnnealingLR(opt, { tMax: 5, etaMin: 0.001 });
    for (let i = 0; i < 3; i++) s.step();
    const sd = s.stateDict();
    const opt2 = optimizer();
    const s2 = new CosineAnnealingLR(opt2, { tMax: 1 });
    s2.loadStateDict(sd);
    opt2.loadStateDict(opt.stateDict());
    s.step();
    s2.step();
    expect(opt2.paramGroups.map((g) => g.lr)).toEqual(opt.paramGroups.map((g) => g.lr));
    const p = new ReduceLROnPlateau(opt, { patience: 0 });
    p.step(1);
    p.step(2);
    const p2 = new ReduceLROnPlateau(opt2, { patience: 0 });
    p2.loadStateDict(p.stateDict());
    expect(p2.best).toBe(1);
    expect(() => new ReduceLROnPlateau(opt, { factor: 1 })).toThrow(/factor/);
  });
});
