import { BINARY_KERNELS, BINARY_VEC4_KERNELS, UNARY, UNARY_KERNELS, type BinaryName, type UnaryName } from '../../kernels/elementwise.js';
import { record } from '../autograd.js';
import { full } from '../creation.js';
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { LimitError, ShapeError } from '../../core/errors.js';
import { checkOneOf, checkOptions } from '../../core/options.js';
import { broadcastShapes, fmt, numel, sameShape, stridesOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { reshape } from './shape_ops.js';
import { sum } from './reduce.js';
import { periodRuns } from './split.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch, launchFlat, type Bind } from './util.js';

function unary(name: UnaryName, x: Tensor, a = 0): Tensor {
  const dev = deviceOf(name, x);
  checkDType(name, x, 'f32');
  const y = empty(dev, x.shape);
  // Windowed past the binding limit (flat: every binding shares the index).
  disposeOnThrow([y], () => launchFlat(UNARY_KERNELS[name], { x }, { y }, x.numel, (n) => ({ n, a })));
  const saves = UNARY[name].saves;
  const save = saves === 'x' ? [x] : saves === 'y' ? [y] : [];
  return record(name, [x], y, save, (gy, saved) => {
    const s = saved[0] ?? gy;
    const gx = empty(dev, x.shape);
    launchFlat(UNARY_KERNELS[`${name}_bwd`], { x: s, y: s, g: gy }, { gx }, x.numel, (n) => ({ n, a }));
    return [gx];
  });
}

/** -x */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** e^x */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural log. */
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** max(x, 0); the gradient at 0 is 0 (PyTorch). */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** x for x > 0, slope * x otherwise (slope 0.01 as in PyTorch). */
export const leakyRelu = (x: Tensor, slope = 0.01) => unary('leaky_relu', x, slope);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);

export interface GeluOptions {
  /** 'none' (default): x * Phi(x) with the exact normal CDF; 'tanh': PyTorch's tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** F.gelu(x, approximate): x * Phi(x), or 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))); any shape. */
export function gelu(x: Tensor, opts?: GeluOptions): Tensor {
  const { approximate = 'none' } = checkOptions('gelu', opts, { approximate: true });
  const form = checkOneOf('gelu', 'approximate', approximate, ['none', 'tanh'] as const);
  return unary(form === 'tanh' ? 'gelu_tanh' : 'gelu', x);
}

/** F.silu: x * sigmoid(x) (Swish); any shape. */
export const silu = (x: Tensor): Tensor => unary('silu', x);

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  const s = sum(g, dims, false);
  return reshape(s, shape);
}

/** Strides of `shape` as seen from an output of rank `rank` (0 along broadcast dims), left-padded to 6. */
function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const res = new Array<number>(6).fill(0);
  const off = 6 - out.length;
  const lead = out.length - shape.length;
  for (let i = 0; i < out.length; i++) {
    const j = i - lead;
    res[off + i] = j >= 0 && shape[j] !== 1 ? st[j]! : 0;
  }
  return res;
}

/** Merges adjacent output dims when both inputs are contiguous across them, so up to 6 dims suffice more often. */
function binaryParams(outShape: Shape, a: Shape, b: Shape): Record<string, number> {
  const lead = (s: Shape) => [...new Array(outShape.length - s.length).fill(1), ...s];
  let dims = [...outShape];
  let as = lead(a);
  let bs = lead(b);
  // Merge dims i-1 and i when each input is either whole or broadcast (1) along both: then the pair is one
  // contiguous dim of that input, or one broadcast dim.
  for (let i = dims.length - 1; i > 0; i--) {
    const consistent = (s: number[]) => (s[i] === 1 && s[i - 1] === 1) || (s[i] === dims[i] && s[i - 1] === dims[i - 1]);
    if (consistent(as) && consistent(bs)) {
      const m = (s: number[]) => [...s.slice(0, i - 1), s[i - 1]! * s[i]!, ...s.slice(i + 1)];
      dims = m(dims);
      as = m(as);
      bs = m(bs);
    }
  }
  if (dims.length > 6) throw new ShapeError('binary op', `broadcasting ${fmt(a)} with ${fmt(b)} leaves ${dims.length} dims that cannot be merged (at most 6)`, [a, b]);
  const sa = broadcastStrides(as, dims);
  const sb = broadcastStrides(bs, dims);
  const d = [...new Array(6 - dims.length).fill(1), ...dims];
  return {
    n: numel(outShape), d1: d[1]!, d2: d[2]!, d3: d[3]!, d4: d[4]!, d5: d[5]!,
    sa0: sa[0]!, sa1: sa[1]!, sa2: sa[2]!, sa3: sa[3]!, sa4: sa[4]!, sa5: sa[5]!,
    sb0: sb[0]!, sb1: sb[1]!, sb2: sb[2]!, sb3: sb[3]!, sb4: sb[4]!, sb5: sb[5]!,
  };
}

/**
 * Windows for y = f(full, rep) past the binding limit, where one operand has y's shape and the other repeats along
 * y's leading dims (its shape is 1s then y's trailing dims, `period` elements: a bias [C] against [rows, C]):
 * ranges of whole periods from aligned offsets. Null for any other broadcast.
 */
function periodicWindows(dev: Tensor['device'], a: Shape, b: Shape, out: Shape): { period: number; ranges: [number, number][] } | null {
  const n = numel(out);
  const full = (s: Shape) => numel(s) === n;
  const rep = full(a) ? b : full(b) ? a : null;
  if (!rep) return null;
  const j = out.length - rep.length + rep.findIndex((d) => d !== 1);
  const tail = out.slice(j);
  if (rep.findIndex((d) => d !== 1) < 0 || !sameShape(rep.slice(rep.length - tail.length), tail)) return null;
  const period = numel(tail);
  const blocks = periodRuns(dev, n / period, period);
  return blocks && { period, ranges: blocks.map(({ n0, nn }) => [n0 * period, (n0 + nn) * period] as [number, number]) };
}

/** Runs a binary kernel with broadcasting (to `to` too, when given); no autograd. */
export function binaryRaw(name: BinaryName, a: Tensor, b: Tensor, to?: Shape): Tensor {
  const dev = deviceOf(name, a, b);
  checkDType(name, a, 'f32');
  checkDType(name, b, 'f32');
  const ab = broadcastShapes(name, a.shape, b.shape);
  const shape = to ? broadcastShapes(name, ab, to) : ab;
  const n = numel(shape);
  const flat = sameShape(a.shape, b.shape) && sameShape(a.shape, shape);
  const spec = BINARY_KERNELS[name];
  // Operands of n elements (same layout as y) or of one (a broadcast scalar) run as a flat op, windowed past
  // the binding limit; general broadcasting is not split (yet) and refuses up front, before any allocation.
  const flatish = (t: Tensor) => t.numel === n || t.numel === 1;
  const bytes = n * BYTES_PER_ELEMENT;
  const over = !flat && bytes > dev.limits.maxBindingBytes && !(flatish(a) && flatish(b));
  const periodic = over ? periodicWindows(dev, a.shape, b.shape, shape) : null;
  if (over && !periodic) {
    throw new LimitError(name, 'maxStorageBufferBindingSize', bytes, dev.limits.maxBindingBytes,
      `broadcasting ${fmt(a.shape)} with ${fmt(b.shape)} to ${fmt(shape)} is not split over the binding limit (only a full operand with one repeated along leading dims is)`);
  }
  const y = empty(dev, shape);
  return disposeOnThrow([y], () => {
    if (periodic) {
      // Windows of whole periods: the full operand and y windowed alike, the repeated one bound whole.
      const { period, ranges } = periodic;
      const part = (t: Tensor, e: number, len: number): [Bind, number[]] => (t.numel === n ? [{ tensor: t, offset: e, numel: len }, [len / period, period]] : [t, [1, period]]);
      for (const [e, end] of ranges) {
        const [ab, as] = part(a, e, end - e);
        const [bb, bs] = part(b, e, end - e);
        launch(spec, { a: ab, b: bb }, { y: { tensor: y, offset: e, numel: end - e } }, binaryParams([(end - e) / period, period], as, bs), { constants: { BROADCAST: true } });
      }
    } else if (flat && n % 4 === 0) {
      // One shape, a multiple of 4 elements: the vec4 kernel (a split launch's windows start at aligned offsets).
      launchFlat(BINARY_VEC4_KERNELS[`${name}_vec4`], { a, b }, { y }, n, (len) => binaryParams([len], [len], [len]));
    } else if (flat || bytes > dev.limits.maxBindingBytes) {
      const side = (t: Tensor, len: number) => [t.numel === n ? len : 1];
      launchFlat(spec, { a, b }, { y }, n, (len) => binaryParams([len], side(a, len), side(b, len)), { constants: { BROADCAST: !flat } });
    } else {
      launch(spec, { a, b }, { y }, binaryParams(shape, a.shape, b.shape), { constants: { BROADCAST: true } });
    }
    return y;
  });
}

function asTensor(op: string, v: Tensor | number, like: Tensor): { t: Tensor; owned: boolean } {
  if (typeof v !== 'number') return { t: v, owned: false };
  deviceOf(op, like);
  return { t: full([], v, { device: like.device }), owned: true };
}

type Grad = (a: Tensor, b: Tensor, y: Tensor, gy: Tensor, needs: readonly boolean[]) => [Tensor | null, Tensor | null];

function binary(name: BinaryName, av: Tensor | number, bv: Tensor | number, grad: Grad | null, saveY = false): Tensor {
  const like = typeof av === 'number' ? (bv as Tensor) : av;
  const A = asTensor(name, av, like);
  const B = asTensor(name, bv, like);
  const a = A.t;
  const b = B.t;
  try {
    const y = binaryRaw(name, a, b);
    if (grad) {
      record(name, [a, b], y, saveY ? [a, b, y] : [a, b], (gy, saved, needs) => {
        const [sa, sb, sy] = saved as Tensor[];
        const [ga, gb] = grad(sa!, sb!, sy ?? gy, gy, needs);
        return [needs[0] && ga ? sumTo(ga, a.shape) : null, needs[1] && gb ? sumTo(gb, b.shape) : null];
      });
    }
    return y;
  } finally {
    // The saved copies hold their own references; a scalar operand's handle goes now (also when the op throws).
    if (A.owned) a.dispose();
    if (B.owned) b.dispose();
  }
}

/** a + b, broadcasting. */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => binary('add', a, b, (_a, _b, _y, g) => [g, g]);
/** a - b, broadcasting. */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binary('sub', a, b, (_a, _b, _y, g, n) => [g, n[1] ? neg(g) : null]);
/** a * b, broadcasting. */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor =>
  binary('mul', a, b, (a, b, _y, g, n) => [n[0] ? mul(g, b) : null, n[1] ? mul(g, a) : null]);
/** a / b, broadcasting. */
export const div = (a: Tensor | number, b: Tensor | number): Tensor =>
  binary('div', a, b, (a, b, _y, g, n) => [n[0] ? div(g, b) : null, n[1] ? neg(div(mul(g, a), mul(b, b))) : null]);
/** a ** b, broadcasting (negative bases need integral exponents, as in PyTorch). */
export const pow = (a: Tensor | number, b: Tensor | number): Tensor =>
  binary(
    'pow',
    a,
    b,
    (a, b, y, g, n) => [n[0] ? mul(g, mul(b, pow(a, sub(b, 1)))) : null, n[1] ? mul(g, mul(y, log(a))) : null],
    true,
  );
/**
 * Gradients of maximum/minimum (torch's rule): a gets g where it wins (`win`: gt or lt) and where either is NaN, half
 * on ties, 0 where it loses; b likewise. So a NaN passes g to both sides, as in PyTorch.
 */
function pickGrads(win: 'gt' | 'lt', a: Tensor, b: Tensor, g: Tensor, needs: readonly boolean[]): [Tensor | null, Tensor | null] {
  const lose = win === 'gt' ? 'lt' : 'gt';
  const half = mul(binaryRaw('eq', a, b), 0.5);
  const side = (beaten: 'gt' | 'lt') => mul(g, sub(sub(1, binaryRaw(beaten, a, b)), half));
  return [needs[0] ? side(lose) : null, needs[1] ? side(win) : null];
}

/** Elementwise max, broadcasting; on ties each side gets half the gradient (torch.maximum). */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor =>
  binary('maximum', a, b, (a, b, _y, g, n) => pickGrads('gt', a, b, g, n));
/** Elementwise min, broadcasting; on ties each side gets half the gradient (torch.minimum). */
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor =>
  binary('minimum', a, b, (a, b, _y, g, n) => pickGrads('lt', a, b, g, n));
/** 1 where a == b else 0 (f32; not differentiable). */
export const eq = (a: Tensor | number, b: Tensor | number): Tensor => binary('eq', a, b, null);
export const gt = (a: Tensor | number, b: Tensor | number): Tensor => binary('gt', a, b, null);
export const lt = (a: Tensor | number, b: Tensor | number): Tensor => binary('lt', a, b, null);

/** x broadcast to `shape` (a copy, PyTorch's expand semantics); the gradient sums back. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const ok = shape.length >= x.ndim && x.shape.every((d, i) => d === 1 || d === shape[shape.length - x.ndim + i]);
  if (!ok) throw new ShapeError('expand', `cannot expand ${fmt(x.shape)} to ${fmt(shape)}`, [x.shape, shape]);
  const y = binaryRaw('lhs', x, x, shape);
  return record('expand', [x], y, [], (gy) => [sumTo(gy, x.shape)]);
}
