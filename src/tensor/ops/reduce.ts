import { reduce as reduceKernel, REDUCE_OPS } from '../../kernels/reduce.js';
import { record } from '../autograd.js';
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { LimitError, ShapeError } from '../../core/errors.js';
import { full } from '../creation.js';
import { fmt, normDims, numel, stridesOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { binaryRaw, div, mul } from './elementwise.js';
import { reshape } from './shape_ops.js';
import { bindGeometry, periodRuns } from './split.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch, type Bind } from './util.js';

/** Groups of adjacent dims merged when they are all kept or all reduced (they are then contiguous). */
function plan(shape: Shape, dims: number[]) {
  const st = stridesOf(shape);
  const red = new Set(dims);
  const kept: [number, number][] = [];
  const rd: [number, number][] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const list = red.has(i) ? rd : kept;
    const last = list[list.length - 1];
    // Merge with the previous group of the same kind when it is the adjacent outer dim.
    if (last && last[1] === st[i]! * shape[i]!) {
      last[0] *= shape[i]!;
      last[1] = st[i]!;
    } else list.push([shape[i]!, st[i]!]);
  }
  if (kept.length > 6 || rd.length > 6) throw new ShapeError('reduce', `reducing dims [${dims.join(', ')}] of ${fmt(shape)} leaves more than 6 dims that cannot be merged`, [shape]);
  const pad = (l: [number, number][]) => [...new Array(6 - l.length).fill([1, 0]), ...l] as [number, number][];
  return { kept: pad(kept), red: pad(rd) };
}

const CHUNK = 4096;

/** One reduction of the tensor bound as `xb` (laid out as `shape`) over `dims`, into a fresh tensor. */
function reduceLaunch(op: 'sum' | 'max', dev: Tensor['device'], xb: Bind, shape: Shape, dims: number[], scale: number): Tensor {
  const outShape = shape.filter((_, i) => !dims.includes(i));
  const nOut = numel(outShape);
  const r = dims.reduce((p, d) => p * shape[d]!, 1);
  const { kept, red } = plan(shape, dims);
  // A long reduction with few outputs runs in chunks, then once more over the partials (deterministic).
  const nchunks = r > CHUNK && nOut < 4096 ? Math.ceil(r / CHUNK) : 1;
  const params = (total: number, nch: number, chunk: number, rr: number, sc: number, k: [number, number][], rd: [number, number][]) => ({
    total, nchunks: nch, chunk, r: rr, scale: sc,
    k1: k[1]![0], k2: k[2]![0], k3: k[3]![0], k4: k[4]![0], k5: k[5]![0],
    ks0: k[0]![1], ks1: k[1]![1], ks2: k[2]![1], ks3: k[3]![1], ks4: k[4]![1], ks5: k[5]![1],
    r1: rd[1]![0], r2: rd[2]![0], r3: rd[3]![0], r4: rd[4]![0], r5: rd[5]![0],
    rs0: rd[0]![1], rs1: rd[1]![1], rs2: rd[2]![1], rs3: rd[3]![1], rs4: rd[4]![1], rs5: rd[5]![1],
  });
  const constants = { OP: REDUCE_OPS[op] };
  const y = empty(dev, outShape);
  if (nchunks === 1) {
    return disposeOnThrow([y], () => {
      launch(reduceKernel, { x: xb }, { y }, params(nOut, 1, Math.max(r, 1), r, scale, kept, red), { constants });
      return y;
    });
  }
  const part = empty(dev, [nOut, nchunks]);
  disposeOnThrow([y, part], () => launch(reduceKernel, { x: xb }, { y: part }, params(nOut * nchunks, nchunks, CHUNK, r, 1, kept, red), { constants }));
  const one: [number, number] = [1, 0];
  const k2: [number, number][] = [one, one, one, one, one, [nOut, nchunks]];
  const r2: [number, number][] = [one, one, one, one, one, [nchunks, 1]];
  launch(reduceKernel, { x: part }, { y }, params(nOut, 1, nchunks, nchunks, scale, k2, r2), { constants });
  part.dispose();
  return y;
}

/**
 * x over the binding limit, reduced over a leading run of its dims (x as [R, P], P the kept elements: a broadcast
 * operand's gradient, a full reduction): blocks of whole rows from aligned offsets, each reduced on its own, the
 * partial results combined in block order (deterministic). Null when the dims are not a leading run or one aligned
 * block of rows does not fit.
 */
function reduceRowBlocks(op: 'sum' | 'max', x: Tensor, dims: number[], scale: number): Tensor | null {
  const live = x.shape.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  const firstKept = live.findIndex(([, i]) => !dims.includes(i));
  if (firstKept >= 0 && live.slice(firstKept).some(([, i]) => dims.includes(i))) return null;
  const dev = x.device;
  const P = numel(x.shape.filter((_, i) => !dims.includes(i)));
  const R = x.numel / P;
  // Blocks start at aligned offsets, so the kernel's indices need no residual.
  const blocks = periodRuns(dev, R, P);
  if (!blocks) return null;
  const outShape = x.shape.filter((_, i) => !dims.includes(i));
  let acc: Tensor | null = null;
  try {
    for (const { n0, nn } of blocks) {
      const part = reduceLaunch(op, dev, { tensor: x, offset: n0 * P, numel: nn * P }, [nn, P], [0], 1);
      const next: Tensor = acc ? binaryRaw(op === 'sum' ? 'add' : 'maximum', acc, part) : part;
      if (acc) {
        acc.dispose();
        part.dispose();
      }
      acc = next;
    }
    const flat: Tensor = acc!;
    if (scale !== 1) {
      const s = full([], scale, { device: dev });
      acc = binaryRaw('mul', flat, s);
      s.dispose();
      flat.dispose();
    }
    const y = reshape(acc!, outShape);
    acc!.dispose();
    return y;
  } catch (e) {
    acc?.dispose();
    throw e;
  }
}

function reduceRaw(op: 'sum' | 'max', x: Tensor, dims: number[], scale: number): Tensor {
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  if (x.numel > bindGeometry(dev).max) {
    const y = reduceRowBlocks(op, x, dims, scale);
    if (y) return y;
    throw new LimitError('reduce', 'maxStorageBufferBindingSize', x.numel * BYTES_PER_ELEMENT, dev.limits.maxBindingBytes,
      `reducing dims [${dims.join(', ')}] of ${fmt(x.shape)} is split only over a leading run of dims (a broadcast operand's gradient, a full reduction)`);
  }
  return reduceLaunch(op, dev, x, x.shape, dims, scale);
}

function keepShape(x: Tensor, dims: number[]): number[] {
  return x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

/** Sum over `dims` (all when omitted); keepdim keeps them as size 1. */
export function sum(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = normDims('sum', x.shape, dims);
  const y0 = reduceRaw('sum', x, ds, 1);
  const y = keepdim ? reshapeRaw(y0, keepShape(x, ds)) : y0;
  return record('sum', [x], y, [], (gy) => [expandTo(gy, keepShape(x, ds), x.shape)]);
}

/** Mean over `dims` (all when omitted). */
export function mean(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = normDims('mean', x.shape, dims);
  const r = ds.reduce((p, d) => p * x.shape[d]!, 1);
  const y0 = reduceRaw('sum', x, ds, 1 / r);
  const y = keepdim ? reshapeRaw(y0, keepShape(x, ds)) : y0;
  return record('mean', [x], y, [], (gy) => [div(expandTo(gy, keepShape(x, ds), x.shape), r)]);
}

/** Max over `dims` (all when omitted). Ties share the gradient equally (torch.amax). */
export function max(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = normDims('max', x.shape, dims);
  const y0 = reduceRaw('max', x, ds, 1);
  const y = keepdim ? reshapeRaw(y0, keepShape(x, ds)) : y0;
  return record('max', [x], y, [x, y], (gy, [sx, sy]) => {
    const ks = keepShape(x, ds);
    const mask = binaryRaw('eq', sx!, reshape(sy!, ks));
    const count = reduceRaw('sum', mask, ds, 1);
    const share = div(reshape(gy, ks), reshape(count, ks));
    return [mul(mask, share)];
  });
}

/** Broadcasts g (shape `ks`, reduced dims as 1) back to `shape`. */
function expandTo(g: Tensor, ks: Shape, shape: Shape): Tensor {
  return binaryRaw('lhs', reshape(g, ks), reshape(g, ks), shape);
}

function reshapeRaw(t: Tensor, shape: Shape): Tensor {
  const v = reshape(t, shape);
  t.dispose();
  return v;
}
