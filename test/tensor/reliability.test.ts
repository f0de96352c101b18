// Reliability of the tensor core (issue 12): no silent wrong result, no leak. Typed arrays convert by value into
// any dtype on every device.
import { describe, expect, test } from 'vitest';
import { tensor, type Device } from '../../src/index.js';
import { cpu32, cpu64, gpuSuite } from '../helpers/gpu.js';

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
