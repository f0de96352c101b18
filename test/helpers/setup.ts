import { expect } from 'vitest';
import { closeness, type CloseOptions } from './close.js';

// Hermetic kernel choice: devices the tests open never load this machine's tuning table (`kernels tune`); the tuning
// tests opt in with their own cache folder.
process.env.UNET_WEBGPU_TUNING ??= 'off';

expect.extend({
  /** Elementwise |got - want| <= atol + rtol * |want|; the message names the worst index. NaN must match NaN. */
  toBeAllClose(received: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}) {
    const r = closeness(received, expected, opts);
    return { pass: r.ok, message: () => r.message };
  },
});

declare module 'vitest' {
  interface Assertion<T = any> {
    toBeAllClose(expected: ArrayLike<number>, opts?: CloseOptions): T;
  }
}
