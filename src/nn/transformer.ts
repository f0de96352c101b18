// torch.nn.TransformerEncoderLayer and torch.nn.TransformerEncoder: same field names (state dicts load as they are:
// `layers.0.self_attn.in_proj_weight`, `layers.0.linear1.weight`, `layers.0.norm2.bias`, `norm.weight`), post-norm
// (PyTorch's default) or pre-norm (normFirst, as ViT and TransUNet), ReLU or GELU in the feed-forward block.
import { checkBoolean, checkNumber, checkOneOf, checkOptions, type OptionKeys } from '../core/options.js';
import { add, gelu, relu } from '../tensor/ops/elementwise.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { MultiheadAttention, type AttentionCallOptions } from './attention.js';
import { ModuleList } from './container.js';
import { Dropout } from './layers.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { LayerNorm } from './norm.js';

export interface TransformerEncoderLayerOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block, and on the attention weights (default 0.1). */
  dropout?: number;
  /** The feed-forward activation (default 'relu'). */
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  /** Inputs [N, L, E] (default false: [L, N, E]). */
  batchFirst?: boolean;
  /** LayerNorm before attention and feed-forward (pre-norm) instead of after the residual adds (default false). */
  normFirst?: boolean;
}

const LAYER_KEYS: OptionKeys<TransformerEncoderLayerOptions> = {
  dimFeedforward: true, dropout: true, activation: true, layerNormEps: true, batchFirst: true, normFirst: true,
};

/**
 * One encoder layer (Vaswani et al. 2017): self-attention and a feed-forward block, each with dropout and a residual
 * add, and LayerNorm after (post-norm) or before (pre-norm) each. As torch.nn.TransformerEncoderLayer.
 */
export class TransformerEncoderLayer extends Module {
  readonly self_attn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly config: Required<TransformerEncoderLayerOptions> & { dModel: number; nhead: number };

  constructor(dModel: number, nhead: number, opts?: TransformerEncoderLayerOptions) {
    super();
    const op = 'TransformerEncoderLayer';
    const o = checkOptions(op, opts, LAYER_KEYS);
    const { dimFeedforward = 2048, dropout = 0.1, layerNormEps = 1e-5, batchFirst = false, normFirst = false } = o;
    const activation = checkOneOf(op, 'activation', o.activation ?? 'relu', ['relu', 'gelu'] as const);
    checkNumber(op, 'dim_feedforward', dimFeedforward, { integer: true, min: 1 });
    checkNumber(op, 'dropout', dropout, { min: 0, max: 1 });
    checkBoolean(op, 'batch_first', batchFirst);
    checkBoolean(op, 'norm_first', normFirst);
    this.config = { dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst };
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout, batchFirst });
    this.linear1 = new Linear(dModel, dimFeedforward);
    this.dropout = new Dropout(dropout);
    this.linear2 = new Linear(dimFeedforward, dModel);
    this.norm1 = new LayerNorm(dModel, { eps: layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: layerNormEps });
    this.dropout1 = new Dropout(dropout);
    this.dropout2 = new Dropout(dropout);
  }

  forward(src: Tensor, options?: AttentionCallOptions): Tensor {
    return tidy(() => {
      const act = this.config.activation === 'gelu' ? (t: Tensor) => gelu(t) : relu;
      const sa = (t: Tensor) => this.dropout1.forward(this.self_attn.forward(t, t, t, options));
      const ff = (t: Tensor) => this.dropout2.forward(this.linear2.forward(this.dropout.forward(act(this.linear1.forward(t)))));
      if (this.config.normFirst) {
        const x = add(src, sa(this.norm1.forward(src)));
        return add(x, ff(this.norm2.forward(x)));
      }
      const x = this.norm1.forward(add(src, sa(src)));
      return this.norm2.forward(add(x, ff(x)));
    });
  }
}

export interface TransformerEncoderOptions {
  /** A final LayerNorm (PyTorch's `norm`; pre-norm stacks need one). */
  norm?: LayerNorm | null;
}

/**
 * numLayers copies of `layer` (PyTorch deep-copies it: every layer starts with the same weights), then `norm`.
 * As torch.nn.TransformerEncoder (without the nested-tensor fast path).
 */
export class TransformerEncoder extends Module {
  readonly layers: ModuleList;
  readonly norm: LayerNorm | null;

  constructor(layer: TransformerEncoderLayer, readonly numLayers: number, opts?: TransformerEncoderOptions) {
    super();
    const op = 'TransformerEncoder';
    const { norm = null } = checkOptions(op, opts, { norm: true });
    checkNumber(op, 'num_layers', numLayers, { integer: true, min: 1 });
    const { dModel, nhead, ...rest } = layer.config;
    const copies = [layer];
    const state = layer.stateDict();
    for (let i = 1; i < numLayers; i++) {
      const c = new TransformerEncoderLayer(dModel, nhead, rest);
      c.loadStateDict(state);
      copies.push(c);
    }
    this.layers = new ModuleList(copies);
    this.norm = norm;
  }

  forward(src: Tensor, options?: AttentionCallOptions): Tensor {
    return tidy(() => {
      let x = src;
      for (const l of this.layers) x = (l as TransformerEncoderLayer).forward(x, options);
      return this.norm ? this.norm.forward(x) : x;
    });
  }
}
