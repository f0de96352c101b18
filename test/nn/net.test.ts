// A small net end to end against PyTorch (nn_net.json): weights loaded with loadStateDict, a training-mode
// forward, backward of sum(y * r) (parameter and input grads), the running statistics after that step,
// then an eval-mode forward. On the CPU device and on the GPU.
import { describe, expect, test } from 'vitest';
import { noGrad, setDefaultDevice, tidy, type Device } from '../../src/index.js';
import { reductionTol } from '../helpers/close.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';
import { fixture, fromJs, smallNet, stateFromJs } from './fixtures.js';

const { skip, dev } = await gpuSuite();

const NET = fixture('net');

async function check(device: Device): Promise<void> {
  setDefaultDevice(device);
  const net = smallNet();
  setDefaultDevice(null);
  const src = stateFromJs(NET.state_dict, cpu32);
  net.loadStateDict(src);
  const x = fromJs(NET.x, device, true);
  const r = fromJs(NET.r, device);
  net.train();
  const y = net.forward(x);
  expect(y.shape).toEqual(NET.y.shape);
  // Conv 3x3 (k 9), BN over N*H*W = 98, transposed conv over 4 channels: generous reduction tolerances.
  const tol = reductionTol(98, 8);
  expect(await y.toArray(), 'train forward').toBeAllClose(NET.y.data, tol);
  const loss = tidy(() => y.mul(r).sum());
  loss.backward();
  for (const [k, p] of net.namedParameters()) expect(await p.grad!.toArray(), `grad ${k}`).toBeAllClose(NET.grads[k].data, reductionTol(2 * 98, 16));
  expect(await x.grad!.toArray(), 'input grad').toBeAllClose(NET.x_grad.data, reductionTol(98, 16));
  const sd = net.stateDict();
  for (const [k, want] of Object.entries(NET.buffers_after) as [string, { data: number[]; dtype?: string }][]) {
    const got = await sd[k]!.toArray();
    if (want.dtype === 'i32') expect([...got], k).toEqual(want.data);
    else expect(got, k).toBeAllClose(want.data, tol);
  }
  net.eval();
  const x2 = fromJs(NET.x_eval, device);
  const y2 = noGrad(() => net.forward(x2));
  expect(await y2.toArray(), 'eval forward').toBeAllClose(NET.y_eval.data, tol);
  for (const t of [x, r, y, loss, x2, y2, ...Object.values(src)]) t.dispose();
  x.grad?.dispose();
  net.dispose();
}

describe('small net forward/backward vs PyTorch', () => {
  test('CPU', () => check(cpu32));
  test.skipIf(skip)('GPU', () => check(dev));
});
