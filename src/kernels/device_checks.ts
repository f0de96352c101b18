// Deferred device-side checks: a kernel that finds invalid input (a class target out of range, say) cannot throw, and
// reading a flag back after every op would stall the queue. So kernels count what they find into one small buffer of
// the device (atomics), each op's launches in a slot of their own; the backend copies that buffer out in the same
// submit as the next readback (download) or sync, clears it, and throws the first recorded failure then.
import type { Storage } from './backend.js';

/** Slots of the check buffer; each holds [count of bad values, their largest raw 32 bits]. */
export const CHECK_SLOTS = 16;

/** What a failed check means, from its slot's words: `count` bad values, `raw` the largest raw bits among them. */
export type CheckError = (count: number, raw: number) => Error;

/** Reads a taken set of slots from the check buffer's words: the first failure's error, or null. */
export type CheckReader = (words: ArrayLike<number>) => Error | null;

/**
 * A device's check buffer (`storage`: 2 * CHECK_SLOTS u32, zero when nothing failed, owned by the backend and outside
 * its stats) and the meaning of each slot since the last read. Ops ask for a slot (`slot`) and bind `storage`; the
 * backend calls `take()` when it encodes the buffer's copy and reset, and the reader on the copied words.
 */
export class DeviceChecks {
  #slots: { key: string; error: CheckError }[] = [];

  constructor(readonly storage: Storage) {}

  /**
   * The slot for launches that check `key` (launches of one key share it until the next read). Past CHECK_SLOTS
   * keys between two reads, the last slot is shared and its message names no single op.
   */
  slot(key: string, error: () => CheckError): number {
    const i = this.#slots.findIndex((s) => s.key === key);
    if (i >= 0) return i;
    if (this.#slots.length < CHECK_SLOTS) return this.#slots.push({ key, error: error() }) - 1;
    const last = this.#slots[CHECK_SLOTS - 1]!;
    if (last.key !== '*') this.#slots[CHECK_SLOTS - 1] = { key: '*', error: several(last.error) };
    return CHECK_SLOTS - 1;
  }

  /** True when a checking launch was encoded since the last take(). */
  get pending(): boolean {
    return this.#slots.length > 0;
  }

  /**
   * The slots used so far, as a reader of the buffer's words, or null when none; later launches start afresh
   * (call it where the buffer's copy and its reset are encoded, so later launches land after the reset).
   */
  take(): CheckReader | null {
    if (!this.#slots.length) return null;
    const slots = this.#slots;
    this.#slots = [];
    return (words) => {
      for (let i = 0; i < slots.length; i++) {
        const count = words[2 * i]! >>> 0;
        if (count) return slots[i]!.error(count, words[2 * i + 1]! >>> 0);
      }
      return null;
    };
  }
}

/** The message of a slot shared by several checks: the first one's, saying that others may be counted in it. */
function several(first: CheckError): CheckError {
  return (count, raw) => {
    const e = first(count, raw);
    e.message += ` (this count may include other ops' checks: more than ${CHECK_SLOTS} kinds ran between two reads)`;
    return e;
  };
}
