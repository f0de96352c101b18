// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention), composed from the batched
// matmul (kᵀ read in place), softmax over the last dim and dropout: softmax(q kᵀ · scale + mask) v. Not fused: one
// [L, S] score matrix per batch and head lives between the two products (a fused kernel would keep it on chip).
import { BYTES_PER_ELEMENT } from '../../core/dtype.js';
import { ArgumentError, LimitError, ShapeError } from '../../core/errors.js';
import { checkBoolean, checkNumber, checkOptions, type OptionKeys } from '../../core/options.js';
import { tensor } from '../creation.js';
import { fmt, numel } from '../shape.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { add, mul } from './elementwise.js';
import { matmulT } from './matmul.js';
import { dropout } from './movement.js';
import { reshape } from './shape_ops.js';
import { softmax } from './softmax.js';
import { checkDType, deviceOf } from './util.js';

export interface SdpaOptions {
  /** Added to the scores before the softmax; broadcasts to [..., L, S] (0 to keep, -Infinity to mask out). */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights (applied whenever > 0, as PyTorch's functional form). */
  dropoutP?: number;
  /** Query i attends to keys 0..i only (a top-left aligned lower-triangular mask); not with attnMask. */
  isCausal?: boolean;
  /** Score scale (default 1 / sqrt(E)). */
  scale?: number;
  /** Seed of the dropout mask (default: the device's generator). */
  seed?: number;
}

const KEYS: OptionKeys<SdpaOptions> = { attnMask: true, dropoutP: true, isCausal: true, scale: true, seed: true };

/** The causal mask [L, S]: 0 where key j <= query i, -Infinity above the diagonal. */
function causalMask(dev: Tensor['device'], L: number, S: number): Tensor {
  const data = new Float32Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) data[i * S + j] = -Infinity;
  return tensor(data, [L, S], { device: dev });
}

/**
 * softmax(q kᵀ · scale + attnMask) v for q [..., L, E], k [..., S, E], v [..., S, Ev] with the same leading dims
 * -> [..., L, Ev] (F.scaled_dot_product_attention, PyTorch 2.1's signature). A fully masked row is NaN, as PyTorch.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: SdpaOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  const o = checkOptions(op, options, KEYS);
  const dev = deviceOf(op, q, k, v, o.attnMask);
  for (const t of [q, k, v]) checkDType(op, t, 'f32');
  const bad = (why: string) => new ShapeError(op, `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}: ${why}`, [q.shape, k.shape, v.shape]);
  if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim) throw bad('expects q [..., L, E], k [..., S, E], v [..., S, Ev] of the same rank');
  const lead = q.shape.slice(0, -2);
  if (![k, v].every((t) => t.shape.slice(0, -2).every((d, i) => d === lead[i]))) throw bad('the leading (batch, head) dims must be equal');
  const [L, E] = q.shape.slice(-2) as [number, number];
  const [S, Ek] = k.shape.slice(-2) as [number, number];
  if (Ek !== E) throw bad(`q and k embed dims ${E} and ${Ek} differ`);
  if (v.shape.at(-2) !== S) throw bad(`k has ${S} keys, v ${v.shape.at(-2)}`);
  const Ev = v.shape.at(-1)!;
  const scale = o.scale ?? 1 / Math.sqrt(E);
  checkNumber(op, 'scale', scale, {});
  const p = o.dropoutP ?? 0;
  checkNumber(op, 'dropoutP', p, { min: 0, max: 1 });
  if (o.isCausal !== undefined) checkBoolean(op, 'isCausal', o.isCausal);
  if (o.isCausal && o.attnMask) throw new ArgumentError(op, 'isCausal and attnMask are exclusive (pass the causal mask as attnMask instead)');
  const full = [...lead, L, S];
  const m = o.attnMask;
  if (m && (m.ndim > full.length || m.shape.some((d, i) => d !== 1 && d !== full[full.length - m.ndim + i]))) {
    throw new ShapeError(op, `attnMask ${fmt(m.shape)} must broadcast to the scores ${fmt(full)}`, [m.shape, full]);
  }
  const B = numel(lead);
  // The [L, S] scores of every batch and head live between the two products (no fused kernel): refuse up front, by name.
  const scoreBytes = B * L * S * BYTES_PER_ELEMENT;
  if (scoreBytes > dev.limits.maxBufferBytes) {
    throw new LimitError(op, 'maxBufferSize', scoreBytes, dev.limits.maxBufferBytes,
      `the scores of ${B} batch x head slices of ${L} queries by ${S} keys do not fit one buffer (attention is quadratic in the tokens: fewer tokens, e.g. tiles or a deeper bottleneck)`);
  }
  return tidy(() => {
    const scores = mul(matmulT(op, reshape(q, [B, L, E]), reshape(k, [B, S, E]), false, true), scale);
    const mask = o.isCausal ? causalMask(dev, L, S) : o.attnMask;
    const masked = mask ? reshape(add(reshape(scores, full), mask), [B, L, S]) : scores;
    const w = softmax(masked, -1);
    const wd = p > 0 ? dropout(w, p, true, o.seed === undefined ? undefined : { seed: o.seed }) : w;
    return reshape(matmulT(op, wd, reshape(v, [B, S, Ev])), [...lead, L, Ev]);
  });
}
