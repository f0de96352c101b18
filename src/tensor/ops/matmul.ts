// Matrix products: matmul (torch.matmul for 2-D and batched operands), bmm and linear (F.linear). One kernel contract
// (kernels/matmul.ts; its family member per launch from the device's policy and tuning table) runs every case:
// batched, with either operand transposed in place (no copies for aᵀ·b or a·bᵀ), split under the binding limit into
// batch groups, row blocks, or K ranges accumulated in a fixed order.
import { matmulChoice, matmulKernelFor } from '../../kernels/matmul.js';
import { record } from '../autograd.js';
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { LimitError, ShapeError } from '../../core/errors.js';
import { fmt, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { binaryRaw } from './elementwise.js';
import { sum } from './reduce.js';
import { reshape } from './shape_ops.js';
import { bindGeometry, runs, windowOf, type Window } from './split.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch } from './util.js';

/** One product: `batch` pairs of matrices, op(a) [m, k] · op(b) [k, n]. */
interface Product {
  batch: number;
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
}

/**
 * Launches c = op(a) · op(b) for the product `g`, every binding within the device's limit: the whole batch in one
 * launch when it fits; else groups of whole batches; else, one batch at a time, blocks of rows of a and c (a not
 * transposed, b whole), or K ranges added into c in order (aᵀ · b, the weight-gradient shape); else a LimitError.
 */
function launchProduct(op: string, a: Tensor, b: Tensor, c: Tensor, g: Product): void {
  const { batch, m, n, k } = g;
  if (c.numel === 0) return;
  const G = bindGeometry(c.device);
  const A = m * k;
  const B = k * n;
  const C = m * n;
  const base = { n, ta: +g.ta, tb: +g.tb, sa: A, sb: B };
  const dev = c.device;
  const run = (aw: Window, bw: Window, cw: Window, p: { m: number; k: number; batch: number; acc: number }) => {
    const params = { ...base, ...p, oa: aw.res, ob: bw.res, oc: cw.res };
    const { spec, constants } = matmulKernelFor(matmulChoice(dev, params), params);
    launch(spec, { a: aw.bind, b: bw.bind }, { c: cw.bind }, params, { constants });
  };
  // Whole batches per launch: a tensor that fits one binding is bound whole and never limits the group.
  const over = ([[a, A], [b, B], [c, C]] as const).filter(([t]) => t.numel > G.max).map(([, size]) => size);
  const nb = over.length ? Math.min(batch, Math.floor(G.room / Math.max(1, ...over))) : batch;
  if (nb >= 1) {
    for (const { n0, nn } of runs(batch, nb)) run(windowOf(a, n0 * A, nn * A), windowOf(b, n0 * B, nn * B), windowOf(c, n0 * C, nn * C), { m, k, batch: nn, acc: 0 });
    return;
  }
  const rows = Math.floor(G.room / Math.max(1, k, n));
  const ks = Math.floor(G.room / Math.max(1, m, n));
  for (let bi = 0; bi < batch; bi++) {
    if (!g.ta && B <= G.room && rows >= 1) {
      const bw = windowOf(b, bi * B, B);
      for (const { n0, nn } of runs(m, rows)) run(windowOf(a, bi * A + n0 * k, nn * k), bw, windowOf(c, bi * C + n0 * n, nn * n), { m: nn, k, batch: 1, acc: 0 });
    } else if (g.ta && !g.tb && C <= G.room && ks >= 1) {
      const cw = windowOf(c, bi * C, C);
      for (const { n0, nn } of runs(k, ks)) run(windowOf(a, bi * A + n0 * m, nn * m), windowOf(b, bi * B + n0 * n, nn * n), cw, { m, k: nn, batch: 1, acc: +(n0 > 0) });
    } else {
      const need = Math.max(A, B, C) * BYTES_PER_ELEMENT;
      throw new LimitError(op, 'maxStorageBufferBindingSize', need, c.device.limits.maxBindingBytes,
        `op(a) [${m}, ${k}] · op(b) [${k}, ${n}]${g.ta ? ' (a transposed)' : ''}${g.tb ? ' (b transposed)' : ''} cannot be split so that every binding fits`);
    }
  }
}

/** The product of a and b as stored: 2-D, or 3-D with the same batch; op(x) = xᵀ where ta / tb. No autograd. */
function productOf(op: string, a: Tensor, b: Tensor, ta: boolean, tb: boolean): Product {
  const last2 = (t: Tensor, tr: boolean) => (tr ? [t.shape.at(-1)!, t.shape.at(-2)!] : [t.shape.at(-2)!, t.shape.at(-1)!]);
  const [m, k] = last2(a, ta);
  const [k2, n] = last2(b, tb);
  const batch = a.ndim === 3 ? a.shape[0]! : 1;
  if (k !== k2) throw new ShapeError(op, `a ${fmt(a.shape)} and b ${fmt(b.shape)}: inner dims ${k} and ${k2} differ`, [a.shape, b.shape]);
  return { batch, m: m!, n: n!, k: k!, ta, tb };
}

/** op(a) · op(b) for 2-D operands, or batched 3-D ones of the same batch; no autograd. */
function matmulRaw(op: string, a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  const dev = deviceOf(op, a, b);
  const g = productOf(op, a, b, ta, tb);
  const c = empty(dev, a.ndim === 3 ? [g.batch, g.m, g.n] : [g.m, g.n]);
  return disposeOnThrow([c], () => {
    launchProduct(op, a, b, c, g);
    return c;
  });
}

/**
 * op(a) · op(b) with autograd, a and b both 2-D or both 3-D with the same batch; op(x) = xᵀ (read in place) where
 * ta / tb. Each gradient is one more product of the same kind (no transposed copies). Saves a, b.
 */
export function matmulT(op: string, a: Tensor, b: Tensor, ta = false, tb = false): Tensor {
  const c = matmulRaw(op, a, b, ta, tb);
  return record(op, [a, b], c, [a, b], (gy, [sa, sb], needs) => {
    const A = sa!;
    const B = sb!;
    // C = op(A) op(B): dA and dB as stored (A [K, M] when ta, B [N, K] when tb).
    const ga = !needs[0] ? null : ta ? (tb ? matmulRaw(op, B, gy, true, true) : matmulRaw(op, B, gy, false, true)) : matmulRaw(op, gy, B, false, !tb);
    const gb = !needs[1] ? null : tb ? (ta ? matmulRaw(op, gy, A, true, true) : matmulRaw(op, gy, A, true, false)) : matmulRaw(op, A, gy, !ta, false);
    return [ga, gb];
  });
}

function checkOperands(op: string, a: Tensor, b: Tensor): void {
  for (const t of [a, b]) checkDType(op, t, 'f32');
}

/**
 * torch.matmul for a [..., M, K] and b [K, N] (a's leading dims fold into M: one 2-D product) or b [..., K, N] with
 * the same leading dims as a (a batched product). 1-D operands and broadcasting between different leading dims are
 * a ShapeError (reshape or expand first). Saves a, b.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = 'matmul';
  checkOperands(op, a, b);
  const bad = (why: string) => new ShapeError(op, `a ${fmt(a.shape)} and b ${fmt(b.shape)}: ${why}`, [a.shape, b.shape]);
  if (a.ndim < 2 || b.ndim < 2) throw bad('expects tensors of at least 2 dims (1-D operands: reshape to [1, K] or [K, 1])');
  if (a.ndim === 2 && b.ndim === 2) return matmulT(op, a, b);
  const [M, K] = [a.shape.at(-2)!, a.shape.at(-1)!];
  if (b.ndim === 2) {
    const lead = a.shape.slice(0, -2);
    if (b.shape[0] !== K) throw bad(`inner dims ${K} and ${b.shape[0]} differ`);
    return reshape(matmulT(op, reshape(a, [numel(lead) * M, K]), b), [...lead, M, b.shape[1]!]);
  }
  const lead = a.shape.slice(0, -2);
  if (a.ndim !== b.ndim || lead.some((d, i) => d !== b.shape[i])) throw bad('the leading (batch) dims must be equal (broadcasting them is not supported: expand first)');
  const B = numel(lead);
  const N = b.shape.at(-1)!;
  const c = matmulT(op, reshape(a, [B, M, K]), reshape(b, [B, b.shape.at(-2)!, N]));
  return reshape(c, [...lead, M, N]);
}

/** torch.bmm: a [B, M, K] · b [B, K, N] -> [B, M, N]. Saves a, b. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  const op = 'bmm';
  checkOperands(op, a, b);
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(op, `expects a [B, M, K] and b [B, K, N] with the same B, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`, [a.shape, b.shape]);
  }
  return matmulT(op, a, b);
}

/**
 * F.linear: x [..., in] · weightᵀ (weight [out, in], read in place) + bias [out] -> [..., out]. The leading dims of
 * x fold into rows: one product. The gradients: gy · W, gyᵀ · x (K ranges over the rows past the binding limit) and
 * the bias's sum of gy over the rows. Saves x and weight.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const op = 'linear';
  checkOperands(op, x, weight);
  if (x.ndim < 1 || weight.ndim !== 2 || x.shape.at(-1) !== weight.shape[1]) {
    throw new ShapeError(op, `x ${fmt(x.shape)} and weight ${fmt(weight.shape)}: expects x [..., in] and weight [out, in]`, [x.shape, weight.shape]);
  }
  const [out, inF] = weight.shape as [number, number];
  if (bias) checkDType(op, bias, 'f32');
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== out)) throw new ShapeError(op, `bias ${fmt(bias.shape)} must be [${out}] for weight ${fmt(weight.shape)}`, [bias.shape, weight.shape]);
  const lead = x.shape.slice(0, -1);
  const rows = numel(lead);
  const x2 = reshape(x, [rows, inF]);
  const xw = matmulRaw(op, x2, weight, false, true);
  const y2 = bias ? disposeOnThrow([xw], () => binaryRaw('add', xw, bias)) : xw;
  if (bias) xw.dispose();
  record(op, [x2, weight, bias], y2, [x2, weight], (gy, [sx, sw], needs) => [
    needs[0] ? matmulRaw(op, gy, sw!, false, false) : null,
    needs[1] ? matmulRaw(op, gy, sx!, true, false) : null,
    needs[2] ? sum(gy, 0) : null,
  ]);
  x2.dispose();
  const y = reshape(y2, [...lead, out]);
  y2.dispose();
  return y;
}
