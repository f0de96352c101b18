// Module mechanics on the CPU device: PyTorch's key order and shapes, loadStateDict (strict, non-strict,
// identity kept), train/eval, dispose, Parameter vs tidy(), default initialisation statistics and seeding.
import { describe, expect, test } from 'vitest';
import { DeviceMismatchError, getDefaultDevice, manualSeed, nn, noGrad, ShapeError, StateDictError, stats, tensor, tidy, zeros, type Tensor } from '../../src/index.js';
import { cpu32 } from '../helpers/gpu.js';
import { fixture, Nested, shapesOf, smallNet } from './fixtures.js';

const KEYS = fixture('keys').nets;

describe('keys and shapes match PyTorch', () => {
  for (const [name, make] of [['small', smallNet], ['nested', () => new Nested()]] as const) {
    test(`${name}: stateDict, namedParameters, namedBuffers`, () => {
      const net = make();
      expect(shapesOf(Object.entries(net.stateDict()))).toEqual(KEYS[name].state_dict);
      expect(shapesOf(net.namedParameters())).toEqual(KEYS[name].named_parameters);
      expect(shapesOf(net.namedBuffers())).toEqual(KEYS[name].named_buffers);
      expect(net.parameters().length).toBe(KEYS[name].named_parameters.length);
      net.dispose();
    });
  }

  test('num_batches_tracked is an i32 scalar, running stats f32, parameters require grad', () => {
    const net = smallNet();
    const sd = net.stateDict();
    expect(sd['1.num_batches_tracked']!.dtype).toBe('i32');
    expect(sd['1.running_var']!.dtype).toBe('f32');
    for (const p of net.parameters()) {
      expect(p).toBeInstanceOf(nn.Parameter);
      expect(p.requiresGrad).toBe(true);
    }
    net.dispose();
  });

  test('Sequential numbers children like torch, toString is torch-like', () => {
    const net = smallNet();
    expect(net.namedChildren().map(([k, m]) => [k, m.constructor.name])).toEqual([
      ['0', 'Conv2d'], ['1', 'BatchNorm2d'], ['2', 'ReLU'], ['3', 'MaxPool2d'], ['4', 'ConvTranspose2d'],
    ]);
    expect(net.toString()).toContain('(0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))');
    expect(net.toString()).toContain('(4): ConvTranspose2d(4, 2, kernel_size=(2, 2), stride=(2, 2))');
    net.dispose();
  });

  test('namedModules lists every module once with dotted names', () => {
    const net = new Nested();
    const names = net.namedModules().map(([k]) => k);
    expect(names.slice(0, 5)).toEqual(['', 'inc', 'inc.double_conv', 'inc.double_conv.0', 'inc.double_conv.1']);
    expect(names).toContain('head.4');
    expect(new Set(names).size).toBe(names.length);
    net.dispose();
  });

  test('a shared submodule is listed once by namedParameters, under both names by stateDict (torch)', () => {
    class Tied extends nn.Module {
      readonly a = new nn.Conv2d(1, 1, 1);
      readonly b = this.a;
      forward(x: Tensor) {
        return this.b.forward(this.a.forward(x));
      }
    }
    const t = new Tied();
    expect(t.namedParameters().map(([k]) => k)).toEqual(['a.weight', 'a.bias']);
    expect(Object.keys(t.stateDict())).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias']);
    t.dispose();
  });
});

async function values(t: Tensor): Promise<number[]> {
  return [...(await t.toArray())];
}

describe('loadStateDict', () => {
  const sourceFor = (net: nn.Module, scale: number): nn.StateDict =>
    Object.fromEntries(
      Object.entries(net.stateDict()).map(([k, t], i) => [
        k,
        tensor(
          t.dtype === 'i32' ? Int32Array.from({ length: t.numel }, () => 5 + i) : Float32Array.from({ length: t.numel }, (_, j) => scale * (i + 1) + 0.01 * j),
          t.shape,
          { device: cpu32 },
        ),
      ]),
    );

  test('copies values in place: parameter identity and storage are kept', async () => {
    const net = smallNet();
    const before = net.parameters();
    const src = sourceFor(net, 1);
    const res = net.loadStateDict(src);
    expect(res).toEqual({ missing: [], unexpected: [] });
    expect(net.parameters()).toEqual(before);
    const sd = net.stateDict();
    for (const [k, t] of net.namedParameters()) expect(sd[k]).toBe(t);
    for (const [k, t] of Object.entries(sd)) expect(await values(t)).toEqual(await values(src[k]!));
    // The source is still the caller's: disposing it leaves the module intact.
    for (const t of Object.values(src)) t.dispose();
    expect(await values(net.stateDict()['0.bias']!)).toEqual(Array.from({ length: 4 }, (_, j) => Math.fround(2 + 0.01 * j)));
    net.dispose();
  });

  test('strict: missing, unexpected and shape mismatches are listed, nothing is written', async () => {
    const net = smallNet();
    const w0 = await values(net.stateDict()['0.weight']!);
    const src = sourceFor(net, 1);
    delete src['4.bias'];
    src['5.weight'] = zeros([3], { device: cpu32 });
    src['1.running_mean'] = zeros([5], { device: cpu32 });
    let err: unknown;
    try {
      net.loadStateDict(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missing).toEqual(['4.bias']);
    expect(e.unexpected).toEqual(['5.weight']);
    expect(e.shapeMismatch).toEqual([['1.running_mean', [4], [5]]]);
    expect(e.message).toBe('loadStateDict: missing keys: 4.bias; unexpected keys: 5.weight; shape mismatches: 1.running_mean wants [4], got [5]');
    expect(await values(net.stateDict()['0.weight']!)).toEqual(w0);
    net.dispose();
  });

  test('a value that is not a Tensor: StateDictError naming the key, nothing is written (strict or not)', async () => {
    const net = smallNet();
    const w0 = await values(net.stateDict()['0.weight']!);
    const src = sourceFor(net, 1) as Record<string, unknown>;
    src['0.weight'] = 3;
    src['1.running_mean'] = [0, 0, 0, 0];
    src['4.bias'] = null;
    for (const strict of [true, false]) {
      let err: unknown;
      try {
        net.loadStateDict(src as nn.StateDict, { strict });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StateDictError);
      const e = err as StateDictError;
      expect(e.notTensors).toEqual([['0.weight', '3'], ['1.running_mean', '[0,0,0,0]'], ['4.bias', 'null']]);
      expect(e.message).toBe('loadStateDict: not tensors: 0.weight is 3, 1.running_mean is [0,0,0,0], 4.bias is null');
      expect(await values(net.stateDict()['0.weight']!)).toEqual(w0);
    }
    net.dispose();
  });

  test('non-strict: loads what matches and returns the rest; shape mismatches still throw', async () => {
    const net = smallNet();
    const src = sourceFor(net, 2);
    delete src['4.bias'];
    src['extra.thing'] = zeros([1], { device: cpu32 });
    const b4 = await values(net.stateDict()['4.bias']!);
    expect(net.loadStateDict(src, { strict: false })).toEqual({ missing: ['4.bias'], unexpected: ['extra.thing'] });
    expect(await values(net.stateDict()['0.weight']!)).toEqual(await values(src['0.weight']!));
    expect(await values(net.stateDict()['4.bias']!)).toEqual(b4);
    src['0.bias'] = zeros([3], { device: cpu32 });
    expect(() => net.loadStateDict(src, { strict: false })).toThrow(StateDictError);
    try {
      net.loadStateDict(src, { strict: false });
    } catch (e) {
      expect((e as StateDictError).missing).toEqual([]);
      expect((e as StateDictError).shapeMismatch).toEqual([['0.bias', [4], [3]]]);
    }
    net.dispose();
  });

  test('a missing num_batches_tracked is set to 0 without complaint (torch, unversioned state dicts)', async () => {
    const net = smallNet();
    const src = sourceFor(net, 1);
    expect(await values(src['1.num_batches_tracked']!)).toEqual([11]);
    net.loadStateDict(src);
    expect(await values(net.stateDict()['1.num_batches_tracked']!)).toEqual([11]);
    delete src['1.num_batches_tracked'];
    expect(net.loadStateDict(src)).toEqual({ missing: [], unexpected: [] });
    expect(await values(net.stateDict()['1.num_batches_tracked']!)).toEqual([0]);
    net.dispose();
  });

  test('one module into another (a copy of a model)', async () => {
    manualSeed(1);
    const a = new Nested();
    manualSeed(2);
    const b = new Nested();
    expect(await values(b.stateDict()['up.weight']!)).not.toEqual(await values(a.stateDict()['up.weight']!));
    b.loadStateDict(a.stateDict());
    for (const [k, t] of Object.entries(a.stateDict())) expect(await values(b.stateDict()[k]!)).toEqual(await values(t));
    a.dispose();
    b.dispose();
  });

  test('a source on another non-CPU device is refused before anything is written', () => {
    const net = smallNet();
    const fake = { ...net.stateDict() };
    // A tensor on a device that is neither the module's nor a CPU reference device cannot be copied synchronously.
    const meta = tensor([0, 0, 0, 0], [4], { device: cpu32 });
    Object.defineProperty(meta, 'device', { value: { description: 'elsewhere', kind: 'webgpu' } });
    fake['0.bias'] = meta;
    expect(() => net.loadStateDict(fake)).toThrow(DeviceMismatchError);
    net.dispose();
  });
});

describe('modes, grads, lifetime', () => {
  test('train()/eval() set training recursively and return the module', () => {
    const net = new Nested();
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.head.train();
    expect(net.head.modules().every((m) => m.training)).toBe(true);
    expect(net.inc.training).toBe(false);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.dispose();
  });

  test('parameters survive tidy(); dispose() frees parameters, buffers and grads', () => {
    const dev = getDefaultDevice();
    const live0 = stats(dev).liveTensors;
    const net = tidy(() => smallNet());
    const n = net.parameters().length + net.buffers().length;
    expect(stats(dev).liveTensors - live0).toBe(n);
    for (const p of net.parameters()) expect(p.disposed).toBe(false);
    net.parameters()[0]!.grad = zeros([4, 1, 3, 3], { device: cpu32 });
    net.dispose();
    expect(stats(dev).liveTensors).toBe(live0);
    for (const p of net.parameters()) expect(p.disposed).toBe(true);
    net.dispose(); // idempotent
  });

  test('zeroGrad() disposes grads and sets them to null; requiresGrad_ freezes', () => {
    const net = smallNet();
    const g = zeros([4], { device: cpu32 });
    net.parameters()[1]!.grad = g;
    net.zeroGrad();
    expect(g.disposed).toBe(true);
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    net.requiresGrad_(false);
    expect(net.parameters().some((p) => p.requiresGrad)).toBe(false);
    net.dispose();
  });

  test('Parameter shares storage with its source and is a leaf', async () => {
    const t = tensor([1, 2, 3], [3], { device: cpu32 });
    const p = new nn.Parameter(t);
    t.dispose();
    expect(await values(p)).toEqual([1, 2, 3]);
    expect(p.requiresGrad).toBe(true);
    expect(p.node).toBe(null);
    expect(new nn.Parameter(p, false).requiresGrad).toBe(false);
    p.dispose();
  });
});

describe('default initialisation (PyTorch: kaiming_uniform_(a = sqrt 5), bias U(+-1/sqrt(fan_in)), BN 1 and 0)', () => {
  function moments(a: ArrayLike<number>) {
    let s = 0;
    let s2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < a.length; i++) {
      s += a[i]!;
      s2 += a[i]! * a[i]!;
      lo = Math.min(lo, a[i]!);
      hi = Math.max(hi, a[i]!);
    }
    const mean = s / a.length;
    return { mean, var: s2 / a.length - mean * mean, lo, hi };
  }

  // U(-b, b): mean 0, variance b^2 / 3; n draws give a standard error of the variance about b^2 * 0.3 / sqrt(n).
  const cases: [string, () => nn.Module & { weight: nn.Parameter; bias: nn.Parameter | null }, number][] = [
    ['Conv2d(64, 128, 3): fan_in 576', () => new nn.Conv2d(64, 128, 3), 64 * 9],
    ['Conv2d(3, 16, (5, 3)): fan_in 45', () => new nn.Conv2d(3, 16, [5, 3]), 45],
    ['ConvTranspose2d(128, 64, 2): weight [128, 64, 2, 2], fan_in = 64 * 4', () => new nn.ConvTranspose2d(128, 64, 2, { stride: 2 }), 64 * 4],
  ];
  for (const [name, make, fanIn] of cases) {
    test(name, async () => {
      const m = make();
      const b = 1 / Math.sqrt(fanIn);
      const w = moments(await m.weight.toArray());
      const n = m.weight.numel;
      expect(w.lo).toBeGreaterThanOrEqual(-b);
      expect(w.hi).toBeLessThanOrEqual(b);
      expect(w.hi).toBeGreaterThan(0.95 * b); // the bound is reached, not a smaller one
      expect(w.lo).toBeLessThan(-0.95 * b);
      expect(Math.abs(w.mean)).toBeLessThan((5 * b) / Math.sqrt(3 * n));
      expect(Math.abs(w.var - (b * b) / 3)).toBeLessThan((5 * 0.3 * b * b) / Math.sqrt(n));
      const bias = moments(await m.bias!.toArray());
      expect(bias.lo).toBeGreaterThanOrEqual(-b);
      expect(bias.hi).toBeLessThanOrEqual(b);
      expect(bias.hi - bias.lo).toBeGreaterThan(0.5 * b);
      m.dispose();
    });
  }

  test('BatchNorm2d: weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0', async () => {
    const bn = new nn.BatchNorm2d(5);
    const sd = bn.stateDict();
    expect(Object.keys(sd)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(await values(sd.weight!)).toEqual([1, 1, 1, 1, 1]);
    expect(await values(sd.bias!)).toEqual([0, 0, 0, 0, 0]);
    expect(await values(sd.running_mean!)).toEqual([0, 0, 0, 0, 0]);
    expect(await values(sd.running_var!)).toEqual([1, 1, 1, 1, 1]);
    expect(await values(sd.num_batches_tracked!)).toEqual([0]);
    bn.dispose();
  });

  test('manualSeed makes the weights reproducible; another seed changes them', async () => {
    manualSeed(42);
    const a = smallNet();
    manualSeed(42);
    const b = smallNet();
    manualSeed(43);
    const c = smallNet();
    for (const [k, t] of Object.entries(a.stateDict())) expect(await values(b.stateDict()[k]!)).toEqual(await values(t));
    expect(await values(c.stateDict()['0.weight']!)).not.toEqual(await values(a.stateDict()['0.weight']!));
    for (const m of [a, b, c]) m.dispose();
  });

  test('init functions: fan computation and gains match torch.nn.init', () => {
    expect(nn.init.calculateFanInAndFanOut([128, 64, 3, 3])).toEqual([576, 1152]);
    expect(nn.init.calculateFanInAndFanOut([4, 2, 2, 2])).toEqual([8, 16]);
    expect(() => nn.init.calculateFanInAndFanOut([7])).toThrow();
    expect(nn.init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(nn.init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
  });
});

describe('layer argument checks', () => {
  test('bad sizes and options throw ArgumentError naming the layer', () => {
    expect(() => new nn.Conv2d(0, 4, 3)).toThrow(/Conv2d/);
    expect(() => new nn.Conv2d(1, 4, 3, { stride: 2, padding: 'same' })).toThrow(/same/);
    expect(() => new nn.ConvTranspose2d(1, 4, 2, { stride: 2, outputPadding: 2 })).toThrow(/output_padding/);
    expect(() => new nn.Dropout(1.5)).toThrow(/between 0 and 1/);
    expect(() => new nn.Upsample({})).toThrow(/exactly one/);
    expect(() => new nn.BatchNorm2d(0)).toThrow(/BatchNorm2d/);
  });

  test('BatchNorm2d wants 4-D input', () => {
    const bn = new nn.BatchNorm2d(3);
    const x = zeros([2, 3], { device: cpu32 });
    expect(() => bn.forward(x)).toThrow(ShapeError);
    expect(() => bn.forward(x)).toThrow('BatchNorm2d: expected 4D input [N, C, H, W], got [2, 3]');
    bn.dispose();
    x.dispose();
  });
});

describe('forward through every layer kind (CPU)', () => {
  test('Nested: shapes, every parameter gets a grad, eval is deterministic (dropout off)', async () => {
    manualSeed(5);
    const net = new Nested();
    const x = tensor(Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => Math.sin(0.37 * i)), [2, 3, 8, 8], { device: getDefaultDevice() });
    const y = net.forward(x);
    expect(y.shape).toEqual([2, 2, 16, 16]);
    const loss = tidy(() => y.sum());
    loss.backward();
    for (const [k, p] of net.namedParameters()) {
      expect(p.grad, k).not.toBe(null);
      expect(p.grad!.shape, k).toEqual(p.shape);
    }
    net.eval();
    const a = noGrad(() => net.forward(x));
    const b = noGrad(() => net.forward(x));
    expect([...(await a.toArray())]).toEqual([...(await b.toArray())]);
    for (const t of [x, y, loss, a, b]) t.dispose();
    net.dispose();
  });

  test('Sequential disposes its intermediate handles (only the output is left)', () => {
    const net = smallNet();
    const dev = getDefaultDevice();
    const x = tensor(Float32Array.from({ length: 2 * 9 * 9 }, (_, i) => Math.cos(i)), [2, 1, 9, 9], { device: dev });
    const live0 = stats(dev).liveTensors;
    const y = noGrad(() => net.forward(x));
    expect(stats(dev).liveTensors - live0).toBe(1);
    y.dispose();
    // With autograd the graph holds what backward needs; after backward everything but the grads is gone.
    const y2 = net.forward(x);
    const loss = y2.sum();
    loss.backward();
    loss.dispose();
    y2.dispose();
    expect(stats(dev).liveTensors - live0).toBe(net.parameters().length);
    net.zeroGrad();
    expect(stats(dev).liveTensors).toBe(live0);
    x.dispose();
    net.dispose();
  });
});
