// A table of wrong calls, each expected to throw a typed error whose message starts with the op name.
import { expect, test } from 'vitest';

/** [test name, the call, the op the message must start with, what else it must say]. */
export type BadCall = readonly [name: string, call: () => unknown, op: string, message: RegExp];

/** The error `fn` throws (a test failure when it returns). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

/** The error a possibly async call throws or rejects with (a test failure when it returns). */
export async function thrownAsync(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

/** `e` is an instance of `type` whose message starts with `${op}: ` and matches `msg`. */
export function expectBadCall(e: Error, type: abstract new (...args: never[]) => Error, op: string, msg: RegExp): void {
  expect(e, e.message).toBeInstanceOf(type);
  expect(e.message.startsWith(`${op}: `), e.message).toBe(true);
  expect(e.message).toMatch(msg);
}

/** One test per row: `fn` throws an instance of `type` whose message starts with `${op}: ` and matches the row. */
export function badCalls(rows: readonly BadCall[], type: abstract new (...args: never[]) => Error): void {
  for (const [name, fn, op, msg] of rows) test(name, () => expectBadCall(thrown(fn), type, op, msg));
}
