// torch.nn.MultiheadAttention (same field names, so PyTorch state dicts load: in_proj_weight [3E, E],
// in_proj_bias [3E], out_proj.weight / .bias), on scaledDotProductAttention.
import { ArgumentError, ShapeError } from '../core/errors.js';
import { checkBoolean, checkNumber, checkOptions, type OptionKeys } from '../core/options.js';
import { scaledDotProductAttention } from '../tensor/ops/attention.js';
import { linear } from '../tensor/ops/matmul.js';
import { narrow, permute, transpose } from '../tensor/ops/movement.js';
import { reshape } from '../tensor/ops/shape_ops.js';
import { fmt } from '../tensor/shape.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { newParameter } from './conv.js';
import { constant_, xavierUniform_ } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  /** Learnable input and output projection biases (default true). */
  bias?: boolean;
  /** Inputs and output [N, L, E] (default false: [L, N, E], as PyTorch). */
  batchFirst?: boolean;
}

const KEYS: OptionKeys<MultiheadAttentionOptions> = { dropout: true, bias: true, batchFirst: true };

export interface AttentionCallOptions {
  /** Added to the scores [L, S] (or broadcast to [N, heads, L, S]) before the softmax: 0 keeps, -Infinity masks. */
  attnMask?: Tensor | null;
  /** Query i sees keys 0..i only. */
  isCausal?: boolean;
}

const CALL_KEYS: OptionKeys<AttentionCallOptions> = { attnMask: true, isCausal: true };

/**
 * Multi-head attention (Vaswani et al. 2017) as torch.nn.MultiheadAttention with kdim = vdim = embedDim:
 * forward(query, key, value) -> the attention output (PyTorch's first return value; the averaged weights are not
 * returned). Heads split embedDim evenly; weights: xavier_uniform_ in-projection, zero biases, as PyTorch.
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Parameter;
  in_proj_bias: Parameter | null;
  out_proj: Linear;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly headDim: number;

  constructor(readonly embedDim: number, readonly numHeads: number, opts?: MultiheadAttentionOptions) {
    super();
    const op = 'MultiheadAttention';
    const { dropout = 0, bias = true, batchFirst = false } = checkOptions(op, opts, KEYS);
    checkNumber(op, 'embed_dim', embedDim, { integer: true, min: 1 });
    checkNumber(op, 'num_heads', numHeads, { integer: true, min: 1 });
    if (embedDim % numHeads) throw new ArgumentError(op, `embed_dim ${embedDim} must be divisible by num_heads ${numHeads}`);
    checkNumber(op, 'dropout', dropout, { min: 0, max: 1 });
    checkBoolean(op, 'bias', bias);
    checkBoolean(op, 'batch_first', batchFirst);
    this.dropout = dropout;
    this.batchFirst = batchFirst;
    this.headDim = embedDim / numHeads;
    this.in_proj_weight = newParameter(op, 'in_proj_weight', [3 * embedDim, embedDim]);
    xavierUniform_(this.in_proj_weight);
    this.in_proj_bias = bias ? newParameter(op, 'in_proj_bias', [3 * embedDim]) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias });
    if (this.in_proj_bias) constant_(this.in_proj_bias, 0);
    if (this.out_proj.bias) constant_(this.out_proj.bias, 0);
  }

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: AttentionCallOptions = {}): Tensor {
    const op = 'MultiheadAttention';
    const o = checkOptions(op, options, CALL_KEYS);
    const E = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (t.ndim !== 3 || t.shape[2] !== E) throw new ShapeError(op, `${name} ${fmt(t.shape)} must be ${this.batchFirst ? '[N, L, E]' : '[L, N, E]'} with E = ${E}`, [t.shape]);
    }
    return tidy(() => {
      // [N, L, E] from here on.
      const bf = (t: Tensor) => (this.batchFirst ? t : transpose(t, 0, 1));
      const [q, k, v] = [query, key, value].map(bf) as [Tensor, Tensor, Tensor];
      if (k.shape[0] !== q.shape[0] || v.shape[0] !== q.shape[0] || k.shape[1] !== v.shape[1]) {
        throw new ShapeError(op, `query ${fmt(query.shape)}, key ${fmt(key.shape)}, value ${fmt(value.shape)}: batch sizes, or key and value lengths, differ`, [query.shape, key.shape, value.shape]);
      }
      const H = this.numHeads;
      const d = this.headDim;
      // Cross-attention: project with rows i*E .. (i+1)*E of the packed in-projection, then [N, L, E] -> [N, H, L, d].
      const proj = (t: Tensor, i: number) => {
        const w = narrow(this.in_proj_weight, 0, i * E, E);
        const b = this.in_proj_bias ? narrow(this.in_proj_bias, 0, i * E, E) : null;
        const [N, L] = t.shape as [number, number];
        return permute(reshape(linear(t, w, b), [N, L, H, d]), [0, 2, 1, 3]);
      };
      // Self-attention: one product with the whole in-projection, [N, L, 3E] -> [3, N, H, L, d], q / k / v its slices.
      const packed = () => {
        const [N, L] = q.shape as [number, number];
        const qkv = permute(reshape(linear(q, this.in_proj_weight, this.in_proj_bias), [N, L, 3, H, d]), [2, 0, 3, 1, 4]);
        return [0, 1, 2].map((i) => reshape(narrow(qkv, 0, i, 1), [N, H, L, d])) as [Tensor, Tensor, Tensor];
      };
      const [qh, kh, vh] = query === key && key === value ? packed() : [proj(q, 0), proj(k, 1), proj(v, 2)];
      const dropoutP = this.training ? this.dropout : 0;
      const heads = scaledDotProductAttention(qh, kh, vh, { attnMask: o.attnMask ?? null, isCausal: o.isCausal, dropoutP });
      const [N, , L] = heads.shape as [number, number, number];
      const merged = reshape(permute(heads, [0, 2, 1, 3]), [N, L, E]);
      return bf(this.out_proj.forward(merged));
    });
  }
}
