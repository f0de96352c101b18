// A WebGPU device lost (or destroyed behind the backend's back) mid-use raises DeviceLostError, with the reason, at the
// next call: sync, readback, kernel launch or allocation; never a generic GpuError or stale data.
import { describe, expect, test } from 'vitest';
import { DeviceLostError, F, tensor } from '../../src/index.js';
import { openNodeDevice } from '../../src/node.js';
import { gpuSuite } from '../helpers/gpu.js';

const { skip } = await gpuSuite();

describe.skipIf(skip)('DeviceLostError', () => {
  test('GPUDevice.destroy() behind the backend: the next op + sync throws DeviceLostError naming the reason', async () => {
    const d = await openNodeDevice({ setDefault: false });
    const x = tensor([1, 2, 3], [3], { device: d });
    expect([...(await F.add(x, 1).toArray())]).toEqual([2, 3, 4]);
    d.device.destroy();
    let err: unknown;
    try {
      F.mul(x, 2);
      await d.sync();
    } catch (e) {
      err = e;
    }
    expect(err, String(err)).toBeInstanceOf(DeviceLostError);
    expect((err as DeviceLostError).reason).toBe('destroyed');
    expect((err as Error).message).toMatch(/WebGPU device lost \(destroyed\)/);
    // Every later call says the same.
    expect(() => F.add(x, 1)).toThrow(DeviceLostError);
    expect(() => tensor([1], [1], { device: d })).toThrow(DeviceLostError);
    await expect(x.toArray()).rejects.toThrow(DeviceLostError);
    await expect(d.sync()).rejects.toThrow(DeviceLostError);
    // Disposing and destroying a lost device still work (and free nothing twice).
    x.dispose();
    await d.destroy();
  });

  test('a readback in flight when the device goes rejects with DeviceLostError', async () => {
    const d = await openNodeDevice({ setDefault: false });
    const x = tensor([1, 2, 3], [3], { device: d });
    const y = F.exp(x);
    const p = y.toArray();
    d.device.destroy();
    let err: unknown = null;
    try {
      await p;
    } catch (e) {
      err = e;
    }
    // Dawn may finish the copy before the destroy lands; if it does not, the error is DeviceLostError.
    if (err) expect(err, String(err)).toBeInstanceOf(DeviceLostError);
    await expect(y.toArray()).rejects.toThrow(DeviceLostError);
    await d.destroy();
  });
});
