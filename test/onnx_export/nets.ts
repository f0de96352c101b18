// Shared by the ONNX export tests: small U-Nets with random BatchNorm state, our forward, an ONNX Runtime session.
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { manualSeed, noGrad, tensor, withDevice, type Device } from '../../src/index.js';
import type { StateDict } from '../../src/nn/module.js';
import { UNet, type UNetOptions } from '../../src/unet/unet.js';
import { cpu32 } from '../helpers/gpu.js';
import { Rng } from '../../src/tensor/random.js';
import { uniformArray } from '../helpers/random.js';

/** A U-Net on `device` with the given state (random conv weights from the seeded init, random BN state). */
export function net(opts: UNetOptions, sd: StateDict, device: Device): UNet {
  const m = withDevice(device, () => new UNet(opts));
  m.loadStateDict(sd);
  return m.eval();
}

/** Seeded init on the CPU, then (seeded too) every BatchNorm's weight, bias, running mean and variance drawn at random. */
export function randomState(opts: UNetOptions, salt: number): StateDict {
  manualSeed(1000 + salt);
  const base = withDevice(cpu32, () => new UNet(opts));
  // Fixed per case (the inputs are the random part): the checks on the logits' size then see the same model each run.
  const r = new Rng(2000 + salt);
  const sd: StateDict = {};
  for (const [k, t] of Object.entries(base.stateDict())) {
    // outc's weights well above the default init's (1 / sqrt(width)), so the logits are of size ~1, not ~0.1.
    const range: [number, number] | null = k.endsWith('running_var') ? [0.5, 2] : k.endsWith('running_mean') ? [-0.3, 0.3] : /double_conv\.[14]\.weight$/.test(k) ? [0.5, 1.5] : /double_conv\.[14]\.bias$/.test(k) ? [-0.3, 0.3] : k === 'outc.conv.weight' ? [-3, 3] : null;
    sd[k] = range ? tensor(uniformArray(r, t.numel, ...range), [...t.shape], { device: cpu32 }) : t;
  }
  return sd;
}

export async function ours(m: UNet, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const xt = tensor(x, shape, { device: m.outc.conv.weight.device });
  const y = noGrad(() => m.forward(xt));
  const out = Float32Array.from(await y.toArray());
  xt.dispose();
  y.dispose();
  return out;
}

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
}

export async function runOrt(s: ort.InferenceSession, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const out = await s.run({ input: new ort.Tensor('float32', x, shape) });
  const y = out[s.outputNames[0]!]!;
  return { data: y.data as Float32Array, dims: y.dims };
}

export const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

