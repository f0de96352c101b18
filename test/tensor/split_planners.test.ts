// The flat split planners at limits too small for one window: a LimitError naming the op and the sizes, where a zero
// chunk once looped forever (bceWithLogits at a 4 KiB binding limit ran the host out of memory).
import { describe, expect, test } from 'vitest';
import { bceWithLogits, cpuDevice, LimitError, tensor } from '../../src/index.js';
import { flatRanges, flatWindows } from '../../src/tensor/ops/split.js';
import { smallLimits } from '../helpers/small_limits.js';

const cpu64 = cpuDevice({ f64: true });

describe('flat planners below one window', () => {
  test('flatRanges: a unit larger than a window is a LimitError; a unit that fits splits', () => {
    const dev = smallLimits(cpu64, { maxBindingBytes: 4 << 10 }); // 1024 floats, 256-byte offsets
    expect(() => flatRanges(dev, 4096, 1024, 'someOp')).toThrow(LimitError);
    expect(() => flatRanges(dev, 4096, 1024, 'someOp')).toThrow('someOp: maxStorageBufferBindingSize is 4096 bytes on this device, the op needs 4348');
    const r = flatRanges(dev, 4096, 256);
    expect(r[0]).toEqual([0, 768]);
    expect(r.at(-1)![1]).toBe(4096);
    expect(flatRanges(dev, 1000, 1024)).toEqual([[0, 1000]]);
  });

  test('flatWindows: a binding limit below the offset alignment is a LimitError', () => {
    const dev = smallLimits(cpu64, { maxBindingBytes: 128 });
    expect(() => flatWindows(dev, 100, 'someOp')).toThrow(LimitError);
  });

  test('bceWithLogits at a 4 KiB binding limit throws a LimitError instead of hanging', () => {
    const dev = smallLimits(cpu64, { maxBindingBytes: 4 << 10 });
    const n = 8 * 512;
    const x = tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), [1, 8, 512, 1], { device: dev });
    const t = tensor(Array.from({ length: n }, (_, i) => i % 2), [1, 8, 512, 1], { device: dev });
    expect(() => bceWithLogits(x, t)).toThrow(/^bceWithLogits: maxStorageBufferBindingSize is 4096 bytes/);
  });
});
