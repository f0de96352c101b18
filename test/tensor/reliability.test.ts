// Reliability of the tensor core (issue 12): no silent wrong result, no leak. Typed arrays convert by value into
// any dtype on every device; a meta tensor's data cannot be read; bad shapes are refused before anything is allocated.
import { afterEach, describe, expect, test } from 'vitest';
import { closeDevice, cpuDevice, DisposedTensorError, F, full, LimitError, getDefaultDevice, MetaTensorError, metaDevice, nn, randn, setDefaultDevice, ShapeError, stats, Tensor, tensor, tidy, UNet, withDevice, zeros, type Device } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';
import { smallLimits } from '../helpers/small_limits.js';

const { devices } = await gpuSuite();

describe('tensor(typedArray, shape, { dtype }) converts by value on every device', () => {
  for (const d of devices(cpu32, cpu64)) {
    test(`${d.description}`, async () => {
      const read = async (t: ReturnType<typeof tensor>) => {
        const a = [...(await t.toArray())];
        t.dispose();
        return a;
      };
      const on = (data: ArrayLike<number>, dtype: 'f32' | 'i32' | 'u32', dev: Device = d) => tensor(data, [data.length], { dtype, device: dev });
      expect(await read(on(new Int32Array([1, -2, 3, 0]), 'f32'))).toEqual([1, -2, 3, 0]);
      expect(await read(on(new Uint32Array([1, 2, 4_000_000]), 'f32'))).toEqual([1, 2, 4_000_000]);
      expect(await read(on(new Float32Array([1, -2.75, 3.5, 7]), 'i32'))).toEqual([1, -2, 3, 7]);
      expect(await read(on(new Float32Array([1, 2.5, 9]), 'u32'))).toEqual([1, 2, 9]);
      expect(await read(on(new Int32Array([5, 6]), 'u32'))).toEqual([5, 6]);
      expect(await read(on(new Uint32Array([5, 6]), 'i32'))).toEqual([5, 6]);
      // Same-type arrays are the fast path: still right.
      expect(await read(on(new Float32Array([0.5, -1]), 'f32'))).toEqual([0.5, -1]);
      expect(await read(on(new Int32Array([-7]), 'i32'))).toEqual([-7]);
    });
  }
});

describe('a meta tensor has no data to read', () => {
  test('toArray(), item() and serializeSafetensors throw MetaTensorError naming the op and the shape', async () => {
    const meta = metaDevice();
    const one = Tensor.empty([1], 'f32', meta);
    const big = zeros([2, 3], { device: meta });
    await expect(one.item()).rejects.toThrow(MetaTensorError);
    await expect(one.item()).rejects.toThrow(/^item: tensor #\d+ \[1\] is on the meta device/);
    await expect(big.toArray()).rejects.toThrow(/^toArray: tensor #\d+ \[2, 3\] is on the meta device.*no data/);
    await expect(Tensor.empty([0], 'f32', meta).toArray()).rejects.toThrow(MetaTensorError);
    await expect(nn.serializeSafetensors({ w: big })).rejects.toThrow(MetaTensorError);
  });
});

describe('shapes: every creation path refuses NaN, negative and fractional dims with a ShapeError', () => {
  const bad = [[NaN], [-4], [2.5], [3, Infinity], [2, -1, 3]];
  test.each(bad.map((s) => [`[${s.join(', ')}]`, s]))('%s', (_, shape) => {
    for (const d of [cpu32, metaDevice()]) {
      const base = stats(d);
      const fmt = `[${(shape as number[]).join(', ')}]`;
      for (const [op, make] of [
        ['Tensor.empty', () => Tensor.empty(shape as number[], 'f32', d)],
        ['full', () => full(shape as number[], 1, { device: d })],
        ['randn', () => randn(shape as number[], { device: d })],
      ] as const) {
        let err: unknown;
        try {
          make();
        } catch (e) {
          err = e;
        }
        expect(err, `${op} ${fmt}`).toBeInstanceOf(ShapeError);
        expect((err as Error).message.startsWith(`${op}: invalid shape ${fmt}`), (err as Error).message).toBe(true);
      }
      // Nothing was allocated: stats() stays finite and unchanged.
      expect(stats(d)).toEqual(base);
    }
  });
  test('a shape that is not an array of numbers, and an unknown dtype', () => {
    expect(() => Tensor.empty(5 as unknown as number[])).toThrow(/^Tensor.empty: shape must be an array of dims, got 5/);
    expect(() => Tensor.empty(['2'] as unknown as number[], 'f32', cpu32)).toThrow(ShapeError);
    expect(() => Tensor.empty([2], 'f16' as 'f32', cpu32)).toThrow(/^Tensor.empty: unknown dtype 'f16' \(expected f32, i32 or u32\)/);
  });
});

describe('a destroyed default device is an error, never a silent fallback to the CPU', () => {
  afterEach(() => setDefaultDevice(null));
  test('tensors created after destroy() throw DisposedTensorError saying how to open a new device', async () => {
    const d = cpuDevice();
    setDefaultDevice(d);
    tensor([1, 2]).dispose();
    await d.destroy();
    const msg = /^getDefaultDevice: the default device \(cpu \(float32 reference\)\) was destroyed; open a new one \(openDevice\(\), or openNodeDevice\(\) from 'unet-webgpu\/node'; it becomes the default\), or setDefaultDevice\(null\)/;
    expect(() => tensor([1, 2])).toThrow(DisposedTensorError);
    expect(() => tensor([1, 2])).toThrow(msg);
    expect(() => zeros([3])).toThrow(msg);
    expect(() => getDefaultDevice()).toThrow(msg);
    const other = cpuDevice();
    await other.destroy();
    expect(() => withDevice(other, () => randn([2]))).toThrow(msg);
    // Un-setting it (or setting another) is how to go back to the CPU on purpose.
    setDefaultDevice(null);
    expect(tensor([1]).device.kind).toBe('cpu');
  });
  test('closeDevice un-sets the default only when it closes the default', async () => {
    const a = cpuDevice();
    const b = cpuDevice();
    setDefaultDevice(a);
    await closeDevice(b);
    expect(getDefaultDevice()).toBe(a);
    await closeDevice(a);
    expect(getDefaultDevice()).not.toBe(a);
  });
});

const live = (d: Device) => {
  const st = stats(d);
  return { tensors: st.liveTensors, storages: st.liveStorages, bytes: st.liveBytes };
};

describe('a refused op or a throwing tidy() leaks nothing', () => {
  test('tidy(fn) disposes what fn made before it threw, then rethrows', () => {
    const base = live(cpu32);
    const x = tensor([1, 2, 3], [3], { device: cpu32, requiresGrad: true });
    expect(() =>
      tidy(() => {
        const a = F.mul(x, 2);
        F.exp(a);
        tidy(() => F.add(a, 1)); // a nested scope's result, handed to this one
        throw new Error('boom');
      }),
    ).toThrow('boom');
    x.dispose();
    expect(live(cpu32)).toEqual(base);
    // A nested tidy that throws frees only its own tensors; the outer one goes on.
    const y = tidy(() => {
      const a = tensor([1, 2], [2], { device: cpu32 });
      expect(() => tidy(() => F.add(F.mul(F.neg(a), 3), tensor([1, 2, 3], [3], { device: cpu32 })))).toThrow(/cannot be broadcast/);
      return F.mul(a, 2);
    });
    expect(live(cpu32).tensors).toBe(base.tensors + 1);
    y.dispose();
    expect(live(cpu32)).toEqual(base);
  });

  test('a U-Net forward that fails deep inside (input too small for valid convs) leaks nothing in tidy', () => {
    const net = withDevice(cpu32, () => new UNet({ inChannels: 1, classes: 1, width: 2, depth: 2, padding: 'valid' }));
    const base = live(cpu32);
    const x = randn([1, 1, 20, 20], { device: cpu32, seed: 1 });
    expect(() => tidy(() => net.forward(x))).toThrow(ShapeError);
    x.dispose();
    expect(live(cpu32)).toEqual(base);
    net.dispose();
  });

  // A channel plane of 32 x 32 floats (4 KiB) over a 2 KiB binding: the ops cannot split it and refuse.
  const small = smallLimits(cpuDevice(), { maxBindingBytes: 2048, bindingOffsetAlignment: 4 });
  const cases: [string, () => unknown][] = [
    ['conv2d 3x3, 1 -> 2 channels, bias', () => F.conv2d(xs(1), ws([2, 1, 3, 3]), ws([2]), { padding: 1 })],
    ['conv2d 3x3, 4 -> 4 channels', () => F.conv2d(xs(4), ws([4, 4, 3, 3]), null, { padding: 1 })],
    ['conv2d 1x1', () => F.conv2d(xs(4), ws([8, 4, 1, 1]))],
    ['convTranspose2d 2x2 stride 2', () => F.convTranspose2d(xs(4), ws([4, 2, 2, 2]), null, { stride: 2 })],
    ['convTranspose2d 3x3, 4 -> 4 channels', () => F.convTranspose2d(xs(4), ws([4, 4, 3, 3]), null, { padding: 1 })],
  ];
  let xs: (c: number) => Tensor;
  let ws: (shape: number[]) => Tensor;
  test.each(cases)('%s refused with a LimitError: no output, packed weight or temporary left', (_, run) => {
    const made: Tensor[] = [];
    xs = (c) => (made.push(randn([1, c, 32, 32], { device: small, seed: 2, requiresGrad: true })), made.at(-1)!);
    ws = (shape) => (made.push(randn(shape, { device: small, seed: 3, requiresGrad: true })), made.at(-1)!);
    const base = live(small);
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err, String(err)).toBeInstanceOf(LimitError);
    expect((err as Error).message).toMatch(/maxStorageBufferBindingSize/);
    const after = live(small);
    for (const t of made) t.dispose();
    expect(after.storages - made.length).toBe(base.storages);
    expect(after.tensors - made.length).toBe(base.tensors);
    expect(live(small)).toEqual(base);
  });
});
