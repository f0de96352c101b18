// Anomaly mode (torch.autograd.detect_anomaly): every op's output and every backward rule's gradients are checked for
// NaN / Inf, and the first op that made one is named, with the module path. A debug mode: WebGPU cannot read back
// synchronously, so each check is one reduction on the device (sum(x * 0): NaN exactly when x holds a NaN or an Inf)
// kept until the next readback, which reads them all and throws for the first. Off, the only cost is one boolean test
// per op and none per module call (nn's Module wraps forward only while the mode is on).
import { AnomalyError } from '../core/errors.js';
import { MetaBackend } from '../kernels/runtime/meta_backend.js';
import { noGrad } from './context.js';
import { ops } from './op_table.js';
import { untrack } from './scope.js';
import type { Tensor } from './tensor.js';

let globalMode = false;
let scoped = 0;
let on = false;
/** > 0 while the checks' own ops, or a backward rule's inner ops, run: those are not checked. */
let quiet = 0;

interface Check {
  flag: Tensor;
  op: string;
  what: string;
  shape: readonly number[];
  module: string | null;
}
const pending: Check[] = [];

/** Whether anomaly mode is on (setDetectAnomaly, or inside detectAnomaly). */
export function isAnomalyEnabled(): boolean {
  return on;
}

function update(): void {
  const next = globalMode || scoped > 0;
  if (next === on) return;
  on = next;
  for (const [proto] of traced) hook(proto as Traced, on);
}

/**
 * Turns anomaly mode on or off for everything that follows (torch.autograd.set_detect_anomaly): each op checks its
 * output, and each backward rule its gradients, for NaN / Inf; the first offender is thrown as an AnomalyError at the
 * next readback (toArray, item) or checkAnomalies(). A debug mode: one extra reduction per op, held until then.
 */
export function setDetectAnomaly(mode: boolean): void {
  globalMode = mode;
  update();
}

/**
 * Runs `fn` in anomaly mode (torch.autograd.detect_anomaly) and then checks what it computed: throws an AnomalyError
 * naming the first op (forward, or 'backward of <op>') whose output held NaN or Inf, with the module path where there
 * is one. A readback inside `fn` (loss.item()) throws it already. If `fn` throws and an op before made a NaN or Inf,
 * the AnomalyError is thrown (its `cause` is fn's error). Debug mode: slower (a reduction per op, read back at the end).
 */
export async function detectAnomaly<T>(fn: () => T | Promise<T>): Promise<T> {
  scoped++;
  update();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    const found = await findAnomaly().catch(() => null);
    if (found) {
      found.cause = e;
      throw found;
    }
    throw e;
  } finally {
    scoped--;
    update();
  }
  const found = await findAnomaly();
  if (found) throw found;
  return result;
}

/** Reads the pending anomaly checks and throws an AnomalyError for the first op whose output held NaN or Inf. */
export async function checkAnomalies(): Promise<void> {
  const found = await findAnomaly();
  if (found) throw found;
}

/** Internal: whether checks wait to be read (readbacks call checkAnomalies first then). */
export function anomalyChecksPending(): boolean {
  return pending.length > 0;
}

async function findAnomaly(): Promise<AnomalyError | null> {
  const checks = pending.splice(0);
  try {
    const values = await Promise.all(checks.map((c) => c.flag.device.download(c.flag.storage('anomaly check'))));
    const i = values.findIndex((v) => !Number.isFinite(v[0]));
    if (i < 0) return null;
    const c = checks[i]!;
    return new AnomalyError(c.op, c.what, c.shape, c.module);
  } finally {
    for (const c of checks) c.flag.dispose();
  }
}

/**
 * Internal (autograd's record and backward, when the mode is on): queues the check of `t`, the output of `op` (or
 * `what` else), made in `module`. f32 tensors with data only; skipped for the checks' own ops unless `force`.
 */
export function checkTensor(op: string, t: Tensor, what = 'output', module: string | null = modulePath(), force = false): void {
  if ((quiet && !force) || t.dtype !== 'f32' || t.numel === 0 || t.disposed || t.device instanceof MetaBackend) return;
  quiet++;
  try {
    const flag = noGrad(() => {
      const z = ops().mul(t, 0);
      const s = ops().sum(z);
      z.dispose();
      return s;
    });
    untrack(flag);
    pending.push({ flag, op, what, shape: t.shape, module });
  } finally {
    quiet--;
  }
}

/** Internal: runs `fn` with the checks of the ops inside it off (a backward rule's inner forward ops). */
export function quietly<T>(fn: () => T): T {
  quiet++;
  try {
    return fn();
  } finally {
    quiet--;
  }
}

// ---- module paths: nn's Module registers its subclasses' prototypes; their forward is wrapped only while on ----

type Traced = { forward: (...a: unknown[]) => unknown; [ORIGINAL]?: (...a: unknown[]) => unknown };
const ORIGINAL = Symbol('forward before anomaly mode');
const traced = new Map<object, (parent: object, child: object) => string>();
const frames: { module: object; name: string }[] = [];

/** The dotted path of the module whose forward is running, with its class: `UNet.inc.double_conv.0 (Conv2d)`. */
export function modulePath(): string | null {
  const top = frames[frames.length - 1];
  return top ? `${frames.map((f) => f.name).join('.')} (${top.module.constructor.name})` : null;
}

function hook(proto: Traced, enable: boolean): void {
  if (enable && !proto[ORIGINAL]) {
    const f = proto.forward;
    const nameIn = traced.get(proto)!;
    proto[ORIGINAL] = f;
    proto.forward = function (this: object, ...args: unknown[]) {
      const parent = frames[frames.length - 1]?.module;
      // super.forward() of a traced class: the module is already on the stack.
      if (parent === this) return f.apply(this, args);
      frames.push({ module: this, name: parent ? nameIn(parent, this) : this.constructor.name });
      try {
        return f.apply(this, args);
      } finally {
        frames.pop();
      }
    };
  } else if (!enable && proto[ORIGINAL]) {
    proto.forward = proto[ORIGINAL];
    delete proto[ORIGINAL];
  }
}

/**
 * Internal (nn's Module constructor): `proto`'s own forward, if any, keeps the module path while anomaly mode is on;
 * `nameIn(parent, child)` names a child module in its parent (a dotted attribute path).
 */
export function traceForward(proto: object, nameIn: (parent: object, child: object) => string): void {
  if (traced.has(proto) || !Object.hasOwn(proto, 'forward')) return;
  traced.set(proto, nameIn);
  if (on) hook(proto as Traced, true);
}
