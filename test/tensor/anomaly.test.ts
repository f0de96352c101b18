// Anomaly mode (torch.autograd.detect_anomaly): the first op whose output (forward) or gradient (backward) holds NaN
// or Inf is named, with the module path; off, nothing is checked and no module forward is wrapped.
import { afterEach, describe, expect, test } from 'vitest';
import {
  AnomalyError,
  checkAnomalies,
  detectAnomaly,
  F,
  isAnomalyEnabled,
  nn,
  setDetectAnomaly,
  stats,
  tensor,
  tidy,
  withDevice,
  type Device,
  type Tensor,
} from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';

const { devices } = await gpuSuite();

/** A module whose forward takes the log of x - 5 (NaN below 5). */
class ShiftedLog extends nn.Module {
  forward(x: Tensor): Tensor {
    return tidy(() => F.log(F.sub(x, 5)));
  }
}
class Net extends nn.Module {
  body: nn.Sequential;
  constructor() {
    super();
    this.body = new nn.Sequential(new nn.Conv2d(1, 2, 3, { padding: 1 }), new ShiftedLog());
  }
  forward(x: Tensor): Tensor {
    return F.mean(this.body.forward(x));
  }
}

async function anomalyOf(fn: () => unknown): Promise<AnomalyError> {
  let err: unknown;
  try {
    await detectAnomaly(fn);
  } catch (e) {
    err = e;
  }
  expect(err, String(err)).toBeInstanceOf(AnomalyError);
  return err as AnomalyError;
}

afterEach(() => setDetectAnomaly(false));

for (const d of devices(cpu32, cpu64)) {
  describe(`anomaly mode on ${d.description}`, () => {
    const T = (v: number[], requiresGrad = false) => tensor(v, [v.length], { device: d, requiresGrad });

    test('forward: names the first op whose output holds NaN (log of a negative), not the ops after it', async () => {
      const x = T([1, 2, 3]);
      const err = await anomalyOf(() => {
        const y = F.mul(F.log(F.sub(x, 2)), 3); // log(-1) = NaN, then mul carries it
        return F.sum(y).item();
      });
      expect(err.op).toBe('log');
      expect(err.module).toBeNull();
      expect(err.message).toMatch(/^log: the output \[3\] holds NaN or Inf \(anomaly mode: the first op that made one\)$/);
      // Inf counts too: 1 / 0.
      const inf = await anomalyOf(() => F.add(F.div(T([1, 0]), T([1, 0])), 1).toArray());
      expect(inf.op).toBe('div');
      x.dispose();
    });

    test("backward: 'backward of sqrt' where the forward is finite (d sqrt(x) at 0 is Inf)", async () => {
      const x = T([0, 4], true);
      const err = await anomalyOf(() => {
        const y = F.sum(F.sqrt(x));
        y.backward();
        return x.grad!.toArray();
      });
      expect(err.op).toBe('backward of sqrt');
      expect(err.message).toMatch(/^backward of sqrt: the gradient of input 0 \[2\] holds NaN or Inf/);
      x.grad?.dispose();
      x.dispose();
    });

    test('the module path where the op ran (Net.body.1 (ShiftedLog)), forward and backward', async () => {
      const net = withDevice(d, () => new Net());
      const x = tensor(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4], { device: d });
      const err = await anomalyOf(() => net.forward(x).item());
      expect(err.op).toBe('log');
      expect(err.module).toBe('Net.body.1 (ShiftedLog)');
      expect(err.message).toMatch(/, in module Net\.body\.1 \(ShiftedLog\)$/);
      // A finite forward whose backward is not: sqrt at 0 inside a module.
      class Root extends nn.Module {
        forward(v: Tensor): Tensor {
          return F.sum(F.sqrt(v));
        }
      }
      const v = T([0, 1], true);
      const root = new Root();
      const back = await anomalyOf(async () => {
        const y = root.forward(v);
        await y.item(); // finite
        y.backward();
      });
      expect(back.op).toBe('backward of sqrt');
      expect(back.module).toBe('Root (Root)');
      v.grad?.dispose();
      v.dispose();
      x.dispose();
      net.dispose();
    });

    test('setDetectAnomaly(true): the next readback throws; a clean run passes and returns its value', async () => {
      const x = T([1, 2, 3]);
      setDetectAnomaly(true);
      expect(isAnomalyEnabled()).toBe(true);
      const y = tidy(() => F.log(F.neg(x)));
      await expect(F.sum(y).item()).rejects.toThrow(AnomalyError);
      setDetectAnomaly(false);
      expect(await detectAnomaly(() => F.sum(F.exp(x)).item())).toBeCloseTo(Math.E + Math.E ** 2 + Math.E ** 3, 3);
      await checkAnomalies(); // nothing pending
      y.dispose();
      x.dispose();
    });

    test('off: NaN flows silently (as before) and the checks leave nothing live', async () => {
      const x = T([1, 2]);
      const base = stats(d).liveTensors;
      const y = tidy(() => F.log(F.neg(x)));
      expect(Number.isNaN((await y.toArray())[0]!)).toBe(true);
      y.dispose();
      await detectAnomaly(() => F.exp(x).dispose());
      expect(stats(d).liveTensors).toBe(base);
      x.dispose();
    });
  });
}

test('off: no module forward is wrapped (zero overhead); on: wrapped, and unwrapped again after', async () => {
  const conv = nn.Conv2d.prototype.forward;
  const seq = nn.Sequential.prototype.forward;
  new nn.Conv2d(1, 1, 1).dispose();
  expect(nn.Conv2d.prototype.forward).toBe(conv);
  await detectAnomaly(() => {
    expect(nn.Conv2d.prototype.forward).not.toBe(conv);
    expect(nn.Sequential.prototype.forward).not.toBe(seq);
  });
  expect(nn.Conv2d.prototype.forward).toBe(conv);
  expect(nn.Sequential.prototype.forward).toBe(seq);
  expect(isAnomalyEnabled()).toBe(false);
});

test('detectAnomaly: when fn throws after a NaN, the AnomalyError is thrown with the error as its cause', async () => {
  const x = tensor([1, -1], [2], { device: cpu32 as Device });
  const err = await anomalyOf(() => {
    F.sqrt(x);
    throw new Error('later failure');
  });
  expect(err.op).toBe('sqrt');
  expect((err.cause as Error).message).toBe('later failure');
  await expect(detectAnomaly(() => {
    throw new Error('plain');
  })).rejects.toThrow('plain');
  x.dispose();
});

test('a U-Net with one NaN input pixel: the first conv of inc, by its path', async () => {
  const { UNet } = await import('../../src/index.js');
  const net = withDevice(cpu32, () => new UNet({ inChannels: 1, classes: 1, width: 2, depth: 1 }));
  const data = new Float32Array(64).fill(0.5);
  data[9] = NaN;
  const x = tensor(data, [1, 1, 8, 8], { device: cpu32 });
  const err = await anomalyOf(() => F.bceWithLogits(net.forward(x), F.zeros([1, 1, 8, 8], { device: cpu32 })).item());
  expect(err.op).toBe('conv2d');
  expect(err.module).toBe('UNet.inc.double_conv.0 (Conv2d)');
  x.dispose();
  net.dispose();
});
