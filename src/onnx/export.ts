// exportOnnx: a module tree (our nn layers and the U-Net) as a standard ONNX model, for ONNX Runtime, Triton and
// other engines. The exporter walks the modules as their forward() runs them and writes one ONNX node per op: Conv,
// ConvTranspose, BatchNormalization (eval: running statistics), Relu, MaxPool, Resize, Pad, Concat, with the
// parameters as initializers named by their state-dict keys. Sizes may be dynamic (batch, height, width): the U-Net's
// pad-or-crop of Up is then computed in the graph from the two maps' shapes, the same floor rule as Up.forward.
import { ArgumentError } from '../core/errors.js';
import { checkBoolean, checkNumber, checkOptions, show } from '../core/options.js';
import { BatchNorm2d } from '../nn/batch_norm.js';
import { Sequential } from '../nn/container.js';
import { Conv2d, ConvTranspose2d } from '../nn/conv.js';
import { Dropout, Dropout2d, GELU, Identity, LeakyReLU, MaxPool2d, ReLU, Sigmoid, SiLU, Tanh, Upsample } from '../nn/layers.js';
import { MultiheadAttention } from '../nn/attention.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { DoubleConv, Down, OutConv, Up } from '../unet/parts.js';
import { UNet } from '../unet/unet.js';
import { TransUNet } from '../unet/family/trans_unet.js';
import { AttributeType, DataType, encodeModel, type AttributeJson, type DimJson, type ModelJson, type NodeJson, type TensorJson, type ValueInfoJson } from './proto.js';

export interface ExportOnnxOptions {
  /** The ai.onnx opset, 13..21 (default 17). */
  opset?: number;
  /**
   * Which input sizes stay free in the model: true (default) = batch, height and width; false = all fixed to
   * inputShape; or pick: { batch, spatial }. A U-Net still needs sizes its convolutions and pools can run on.
   */
  dynamicAxes?: boolean | { batch?: boolean; spatial?: boolean };
  /** Model metadata (metadata_props), e.g. checkpointOnnxMetadata(meta) in src/onnx/metadata.ts. */
  metadata?: Record<string, string>;
  /** Graph input and output names (default 'input', 'output'). */
  inputName?: string;
  outputName?: string;
  /** The model's doc_string. */
  docString?: string;
}

const OPTION_KEYS = { opset: true, dynamicAxes: true, metadata: true, inputName: true, outputName: true, docString: true } as const;
export const ONNX_OPSETS = { min: 13, max: 21, default: 17 } as const;
/** The IR version each opset came with (onnx/onnx docs/Versioning.md): opset 13-14 IR 7, 15-18 IR 8, 19-20 IR 9, 21 IR 10. */
const irVersionOf = (opset: number) => (opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10);

/** A dimension known at export time, or null when it is dynamic. */
type Dim = number | null;
interface Value {
  name: string;
  shape: Dim[];
}

const OP = 'exportOnnx';
const int = (i: number): Omit<AttributeJson, 'name'> => ({ type: AttributeType.INT, i });
const ints = (v: readonly number[]): Omit<AttributeJson, 'name'> => ({ type: AttributeType.INTS, ints: [...v] });
const float = (x: number): Omit<AttributeJson, 'name'> => ({ type: AttributeType.FLOAT, f: x });
const str = (s: string): Omit<AttributeJson, 'name'> => ({ type: AttributeType.STRING, s: new TextEncoder().encode(s) });

/** Little-endian bytes of float32 or int64 values (TensorProto.raw_data). */
function rawBytes(values: ArrayLike<number>, dtype: 'f32' | 'i64'): Uint8Array {
  const size = dtype === 'f32' ? 4 : 8;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'f32') view.setFloat32(i * 4, values[i]!, true);
    else view.setBigInt64(i * 8, BigInt(values[i]!), true);
  }
  return out;
}

/** The graph under construction: nodes in topological order, initializers, unique value names. */
class GraphBuilder {
  constructor(readonly opset: number) {}
  readonly nodes: NodeJson[] = [];
  readonly inits: TensorJson[] = [];
  readonly #names = new Set<string>();
  readonly #consts = new Map<string, string>();
  /** Parameters to read back from their devices at the end: [initializer index, tensor]. */
  readonly reads: [number, Tensor][] = [];

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.#names.has(name); i++) name = `${base}_${i}`;
    this.#names.add(name);
    return name;
  }

  /** One node; returns its (first) output's name. */
  node(op: string, inputs: string[], where: string, attrs: Record<string, Omit<AttributeJson, 'name'>> = {}, outputs = 1): string[] {
    const name = this.fresh(`${where || 'graph'}/${op}`);
    const outs = Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? `${name}_out` : `${name}_out${i}`));
    this.nodes.push({ input: inputs, output: outs, name, op_type: op, attribute: Object.entries(attrs).map(([k, a]) => ({ name: k, ...a })) });
    return outs;
  }

  one(op: string, inputs: string[], where: string, attrs?: Record<string, Omit<AttributeJson, 'name'>>): string {
    return this.node(op, inputs, where, attrs)[0]!;
  }

  /** A parameter or buffer as an initializer named `key` (its state-dict key); its values are read at the end. */
  param(key: string, t: Tensor): string {
    if (t.dtype !== 'f32') throw new ArgumentError(OP, `${key} is ${t.dtype}; only f32 parameters export`);
    const name = this.fresh(key);
    this.reads.push([this.inits.length, t]);
    this.inits.push({ name, dims: [...t.shape], data_type: DataType.FLOAT, raw_data: new Uint8Array() });
    return name;
  }

  /** A constant initializer (shared by value). */
  constant(values: readonly number[], dtype: 'f32' | 'i64', dims: number[] = [values.length]): string {
    const key = `${dtype}:${dims.join('x')}:${values.join(',')}`;
    const known = this.#consts.get(key);
    if (known) return known;
    const name = this.fresh(`const_${dtype}_${this.#consts.size}`);
    this.inits.push({ name, dims, data_type: dtype === 'f32' ? DataType.FLOAT : DataType.INT64, raw_data: rawBytes(values, dtype) });
    this.#consts.set(key, name);
    return name;
  }

  async readParams(): Promise<void> {
    const data = await Promise.all(this.reads.map(([, t]) => t.toArray()));
    this.reads.forEach(([i], k) => (this.inits[i]!.raw_data = rawBytes(data[k]!, 'f32')));
  }
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);
const pair = (p: number | readonly number[]) => (typeof p === 'number' ? [p, p] : [p[0]!, p[1]!]);
const mapSpatial = (s: Dim[], c: number, f: (d: number, axis: 0 | 1) => number): Dim[] => [s[0]!, c, ...[0, 1].map((a) => (s[2 + a] === null ? null : f(s[2 + a]!, a as 0 | 1)))];

/**
 * Whether `m` is a `C` whose forward is C's own: a subclass that replaces forward computes something else, so it
 * is refused rather than written as C.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function is<T extends Module>(m: Module, C: abstract new (...args: any[]) => T, where: string): m is T {
  if (!(m instanceof C)) return false;
  // Any method of C a subclass replaces (forward, or a hook forward calls such as UNet.bottleneck: TransUNet's
  // transformer) changes what C's mapping would write.
  for (let p = Object.getPrototypeOf(m); p && p !== C.prototype; p = Object.getPrototypeOf(p)) {
    const replaced = Object.getOwnPropertyNames(p).find((k) => k !== 'constructor' && typeof (C.prototype as Record<string, unknown>)[k] === 'function');
    if (replaced) throw new ArgumentError(OP, `'${where}': ${m.constructor.name} replaces ${C.name}.${replaced}, which the exporter cannot see into`);
  }
  if (m.forward !== C.prototype.forward) throw new ArgumentError(OP, `'${where}': ${m.constructor.name} replaces ${C.name}.forward, which the exporter cannot see into`);
  return true;
}

/** Writes module `m` (at state-dict path `path`) applied to `x`; returns the output value. */
function emit(g: GraphBuilder, m: Module, path: string, x: Value): Value {
  const here = path || m.constructor.name;
  if (m.training) throw new ArgumentError(OP, `${here} (${m.constructor.name}) is in training mode; call model.eval() before exporting`);
  if (is(m, Sequential, here)) {
    let y = x;
    for (const [k, child] of m.namedChildren()) y = emit(g, child, join(path, k), y);
    return y;
  }
  if (is(m, TransUNet, here)) return emitUNet(g, m, path, x, (y) => emitTransBottleneck(g, m, path, y));
  if (is(m, UNet, here)) return emitUNet(g, m, path, x);
  const t = emitTransformerPart(g, m, path, here, x);
  if (t) return t;
  if (is(m, DoubleConv, here)) return emit(g, m.double_conv, join(path, 'double_conv'), x);
  if (is(m, Down, here)) return emit(g, m.maxpool_conv, join(path, 'maxpool_conv'), x);
  if (is(m, OutConv, here)) return emit(g, m.conv, join(path, 'conv'), x);
  if (is(m, Conv2d, here)) {
    const [kh, kw] = m.kernelSize;
    const [dh, dw] = m.dilation;
    let lo: number[], hi: number[];
    if (m.padding === 'valid') lo = hi = [0, 0];
    else if (m.padding === 'same') {
      const total = [dh * (kh - 1), dw * (kw - 1)];
      lo = total.map((t) => Math.floor(t / 2));
      hi = total.map((t, i) => t - lo[i]!);
    } else lo = hi = [...m.padding];
    const inputs = [x.name, g.param(join(path, 'weight'), m.weight)];
    if (m.bias) inputs.push(g.param(join(path, 'bias'), m.bias));
    const name = g.one('Conv', inputs, here, { kernel_shape: ints(m.kernelSize), strides: ints(m.stride), pads: ints([...lo, ...hi]), dilations: ints(m.dilation) });
    const shape = mapSpatial(x.shape, m.outChannels, (d, a) => Math.floor((d + lo[a]! + hi[a]! - m.dilation[a]! * (m.kernelSize[a]! - 1) - 1) / m.stride[a]!) + 1);
    return { name, shape };
  }
  if (is(m, ConvTranspose2d, here)) {
    const inputs = [x.name, g.param(join(path, 'weight'), m.weight)];
    if (m.bias) inputs.push(g.param(join(path, 'bias'), m.bias));
    const name = g.one('ConvTranspose', inputs, here, {
      kernel_shape: ints(m.kernelSize), strides: ints(m.stride), pads: ints([...m.padding, ...m.padding]),
      output_padding: ints(m.outputPadding), dilations: ints(m.dilation),
    });
    const shape = mapSpatial(x.shape, m.outChannels, (d, a) => (d - 1) * m.stride[a]! - 2 * m.padding[a]! + m.dilation[a]! * (m.kernelSize[a]! - 1) + m.outputPadding[a]! + 1);
    return { name, shape };
  }
  if (is(m, BatchNorm2d, here)) {
    if (!m.running_mean || !m.running_var) throw new ArgumentError(OP, `${here}: a BatchNorm2d without running statistics (trackRunningStats false) normalises by batch statistics even in eval mode, which ONNX's BatchNormalization does not`);
    const c = m.numFeatures;
    const scale = m.weight ? g.param(join(path, 'weight'), m.weight) : g.constant(new Array<number>(c).fill(1), 'f32');
    const bias = m.bias ? g.param(join(path, 'bias'), m.bias) : g.constant(new Array<number>(c).fill(0), 'f32');
    const mean = g.param(join(path, 'running_mean'), m.running_mean);
    const variance = g.param(join(path, 'running_var'), m.running_var);
    return { name: g.one('BatchNormalization', [x.name, scale, bias, mean, variance], here, { epsilon: float(m.eps) }), shape: x.shape };
  }
  if (is(m, ReLU, here)) return { name: g.one('Relu', [x.name], here), shape: x.shape };
  if (is(m, LeakyReLU, here)) return { name: g.one('LeakyRelu', [x.name], here, { alpha: float(m.negativeSlope) }), shape: x.shape };
  if (is(m, Sigmoid, here)) return { name: g.one('Sigmoid', [x.name], here), shape: x.shape };
  if (is(m, Tanh, here)) return { name: g.one('Tanh', [x.name], here), shape: x.shape };
  // Eval mode: dropout is the identity.
  if (is(m, Identity, here) || is(m, Dropout, here) || is(m, Dropout2d, here)) return x;
  if (is(m, MaxPool2d, here)) {
    const k = pair(m.kernelSize), s = pair(m.stride), p = pair(m.padding), d = pair(m.dilation);
    const name = g.one('MaxPool', [x.name], here, { kernel_shape: ints(k), strides: ints(s), pads: ints([...p, ...p]), dilations: ints(d), ceil_mode: int(m.ceilMode ? 1 : 0) });
    // ceil mode: PyTorch drops a last window that starts in the padding; the shape is left to the runtime.
    const shape = mapSpatial(x.shape, x.shape[1] as number, (n, a) => (m.ceilMode ? NaN : Math.floor((n + 2 * p[a]! - d[a]! * (k[a]! - 1) - 1) / s[a]!) + 1));
    return { name, shape: shape.map((v) => (Number.isNaN(v) ? null : v)) };
  }
  if (is(m, Upsample, here)) return emitUpsample(g, m, here, x);
  throw new ArgumentError(OP, `no ONNX mapping for ${m.constructor.name} at '${here}' (exported: Sequential, Conv2d, ConvTranspose2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, Upsample, Identity, Dropout, Linear, LayerNorm, GELU, SiLU, MultiheadAttention (self-attention), TransformerEncoderLayer / TransformerEncoder, the U-Net and its parts, TransUNet)`);
}

// ---- the transformer side (TransUNet's bottleneck, and these layers in any Sequential) ----

/** x · Wᵀ + b over the last dim (Linear's weight [out, in] transposed in the graph; constant-folded by runtimes). */
function emitLinear(g: GraphBuilder, path: string, here: string, x: Value, weight: Tensor, bias: Tensor | null, out: number): Value {
  const wt = g.one('Transpose', [g.param(join(path, 'weight'), weight)], here, { perm: ints([1, 0]) });
  const y = g.one('MatMul', [x.name, wt], here);
  return { name: bias ? g.one('Add', [y, g.param(join(path, 'bias'), bias)], here) : y, shape: [...x.shape.slice(0, -1), out] };
}

/** LayerNormalization over the last dims (opset 17, where it came in). */
function emitLayerNorm(g: GraphBuilder, m: LayerNorm, path: string, here: string, x: Value): Value {
  if (g.opset < 17) throw new ArgumentError(OP, `${here}: LayerNorm needs opset >= 17 (LayerNormalization), got ${g.opset}`);
  const ns = m.normalizedShape;
  const scale = m.weight ? g.param(join(path, 'weight'), m.weight) : g.constant(new Array<number>(ns.reduce((a, b) => a * b, 1)).fill(1), 'f32', [...ns]);
  const inputs = [x.name, scale, ...(m.bias ? [g.param(join(path, 'bias'), m.bias)] : [])];
  return { name: g.one('LayerNormalization', inputs, here, { axis: int(-ns.length), epsilon: float(m.eps) }), shape: x.shape };
}

/** GELU: PyTorch's exact 0.5 x (1 + erf(x / sqrt 2)), or its tanh form (ONNX's Gelu op came only in opset 20). */
function emitGelu(g: GraphBuilder, here: string, x: Value, approximate: 'none' | 'tanh'): Value {
  const c = (v: number) => g.constant([v], 'f32', []);
  const inner = approximate === 'tanh'
    ? g.one('Tanh', [g.one('Mul', [c(Math.sqrt(2 / Math.PI)), g.one('Add', [x.name, g.one('Mul', [c(0.044715), g.one('Mul', [x.name, g.one('Mul', [x.name, x.name], here)], here)], here)], here)], here)], here)
    : g.one('Erf', [g.one('Mul', [x.name, c(Math.SQRT1_2)], here)], here);
  return { name: g.one('Mul', [g.one('Mul', [x.name, c(0.5)], here), g.one('Add', [inner, c(1)], here)], here), shape: x.shape };
}

/** Self-attention of x [N, L, E] (batchFirst; else [L, N, E]): packed in-projection, heads, softmax(q kᵀ / sqrt d) v, out-projection. */
function emitSelfAttention(g: GraphBuilder, m: MultiheadAttention, path: string, here: string, x0: Value): Value {
  const E = m.embedDim;
  const H = m.numHeads;
  const d = m.headDim;
  const x = m.batchFirst ? x0 : { name: g.one('Transpose', [x0.name], here, { perm: ints([1, 0, 2]) }), shape: [x0.shape[1]!, x0.shape[0]!, E] };
  const wt = g.one('Transpose', [g.param(join(path, 'in_proj_weight'), m.in_proj_weight)], here, { perm: ints([1, 0]) });
  let qkv = g.one('MatMul', [x.name, wt], here);
  if (m.in_proj_bias) qkv = g.one('Add', [qkv, g.param(join(path, 'in_proj_bias'), m.in_proj_bias)], here);
  // [N, L, 3E] -> [N, L, 3, H, d] -> [3, N, H, L, d] -> q, k, v [N, H, L, d].
  const split = g.one('Transpose', [g.one('Reshape', [qkv, g.constant([0, 0, 3, H, d], 'i64')], here)], here, { perm: ints([2, 0, 3, 1, 4]) });
  const [q, k, v] = g.node('Split', [split, g.constant([1, 1, 1], 'i64')], here, { axis: int(0) }, 3).map((t) => g.one('Squeeze', [t, g.constant([0], 'i64')], here));
  const scores = g.one('Mul', [g.one('MatMul', [q!, g.one('Transpose', [k!], here, { perm: ints([0, 1, 3, 2]) })], here), g.constant([1 / Math.sqrt(d)], 'f32', [])], here);
  const heads = g.one('MatMul', [g.one('Softmax', [scores], here, { axis: int(-1) }), v!], here);
  const merged = { name: g.one('Reshape', [g.one('Transpose', [heads], here, { perm: ints([0, 2, 1, 3]) }), g.constant([0, 0, E], 'i64')], here), shape: x.shape };
  const y = emitLinear(g, join(path, 'out_proj'), here, merged, m.out_proj.weight, m.out_proj.bias, E);
  return m.batchFirst ? y : { name: g.one('Transpose', [y.name], here, { perm: ints([1, 0, 2]) }), shape: x0.shape };
}

/** One encoder layer: residual self-attention and feed-forward blocks, LayerNorm before (normFirst) or after each. */
function emitEncoderLayer(g: GraphBuilder, m: TransformerEncoderLayer, path: string, here: string, x: Value): Value {
  const { normFirst, activation, dimFeedforward, dModel } = m.config;
  const add = (a: Value, b: Value): Value => ({ name: g.one('Add', [a.name, b.name], here), shape: a.shape });
  const norm = (k: 'norm1' | 'norm2', v: Value) => emitLayerNorm(g, m[k], join(path, k), here, v);
  const sa = (v: Value) => emitSelfAttention(g, m.self_attn, join(path, 'self_attn'), here, v);
  const ff = (v: Value) => {
    const h = emitLinear(g, join(path, 'linear1'), here, v, m.linear1.weight, m.linear1.bias, dimFeedforward);
    const a = activation === 'gelu' ? emitGelu(g, here, h, 'none') : { name: g.one('Relu', [h.name], here), shape: h.shape };
    return emitLinear(g, join(path, 'linear2'), here, a, m.linear2.weight, m.linear2.bias, dModel);
  };
  if (normFirst) {
    const y = add(x, sa(norm('norm1', x)));
    return add(y, ff(norm('norm2', y)));
  }
  const y = norm('norm1', add(x, sa(x)));
  return norm('norm2', add(y, ff(y)));
}

/** The transformer layers and their parts, or null when `m` is none of them. */
function emitTransformerPart(g: GraphBuilder, m: Module, path: string, here: string, x: Value): Value | null {
  if (is(m, Linear, here)) return emitLinear(g, path, here, x, m.weight, m.bias, m.outFeatures);
  if (is(m, LayerNorm, here)) return emitLayerNorm(g, m, path, here, x);
  if (is(m, GELU, here)) return emitGelu(g, here, x, m.approximate);
  if (is(m, SiLU, here)) return { name: g.one('Mul', [x.name, g.one('Sigmoid', [x.name], here)], here), shape: x.shape };
  if (is(m, MultiheadAttention, here)) return emitSelfAttention(g, m, path, here, x);
  if (is(m, TransformerEncoderLayer, here)) return emitEncoderLayer(g, m, path, here, x);
  if (is(m, TransformerEncoder, here)) {
    let y = x;
    m.layers.namedChildren().forEach(([k, l]) => (y = emit(g, l, join(join(path, 'layers'), k), y)));
    return m.norm ? emit(g, m.norm, join(path, 'norm'), y) : y;
  }
  return null;
}

/**
 * TransUNet's bottleneck on y [N, C, h, w]: the 1x1 patch embedding, the position embeddings resampled to h x w in
 * the graph (Resize, PyTorch's bilinear half-pixel rule; the identity at the laid-out size) and added in the plane
 * layout, tokens [N, h*w, hidden], the encoder, back to [N, hidden, h, w], conv_more.
 */
function emitTransBottleneck(g: GraphBuilder, m: TransUNet, path: string, y: Value): Value {
  const here = join(path, 'embeddings') || 'embeddings';
  const e = emit(g, m.embeddings.patch_embeddings, join(path, 'embeddings.patch_embeddings'), y);
  const hd = m.transformer.hiddenSize;
  const grid = m.embeddings.grid;
  const plane = g.one('Transpose', [g.one('Reshape', [g.param(join(path, 'embeddings.position_embeddings'), m.embeddings.position_embeddings), g.constant([1, grid, grid, hd], 'i64')], here)], here, { perm: ints([0, 3, 1, 2]) });
  const hw = g.one('Slice', [g.one('Shape', [e.name], here), g.constant([2], 'i64'), g.constant([4], 'i64'), g.constant([0], 'i64')], here);
  const sizes = g.one('Concat', [g.constant([1, hd], 'i64'), hw], here, { axis: int(0) });
  const pos = g.one('Resize', [plane, '', '', sizes], here, { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') });
  const summed = g.one('Add', [e.name, pos], here);
  const L = e.shape[2] === null || e.shape[3] === null ? null : (e.shape[2] as number) * (e.shape[3] as number);
  const tokens = { name: g.one('Transpose', [g.one('Reshape', [summed, g.constant([0, hd, -1], 'i64')], here)], here, { perm: ints([0, 2, 1]) }), shape: [e.shape[0]!, L, hd] };
  const t = emit(g, m.encoder, join(path, 'encoder'), tokens);
  const back = g.one('Reshape', [g.one('Transpose', [t.name], here, { perm: ints([0, 2, 1]) }), g.one('Concat', [g.constant([0, hd], 'i64'), hw], here, { axis: int(0) })], here);
  return emit(g, m.conv_more, join(path, 'conv_more'), { name: back, shape: [y.shape[0]!, hd, y.shape[2]!, y.shape[3]!] });
}

/** Upsample as Resize: bilinear align_corners -> 'align_corners', bilinear -> 'pytorch_half_pixel', nearest -> 'asymmetric' + floor (PyTorch's rules). */
function emitUpsample(g: GraphBuilder, m: Upsample, here: string, x: Value): Value {
  const attrs: Record<string, Omit<AttributeJson, 'name'>> = m.mode === 'nearest'
    ? { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }
    : { mode: str('linear'), coordinate_transformation_mode: str(m.alignCorners ? 'align_corners' : 'pytorch_half_pixel') };
  const c = x.shape[1] as number;
  if (m.scaleFactor !== undefined) {
    const sc = pair(m.scaleFactor);
    const name = g.one('Resize', [x.name, '', g.constant([1, 1, sc[0]!, sc[1]!], 'f32')], here, attrs);
    return { name, shape: mapSpatial(x.shape, c, (d, a) => Math.floor(d * sc[a]!)) };
  }
  const size = pair(m.size!);
  // sizes covers every axis: the input's N and C (dynamic batch) followed by the fixed output size.
  const nc = g.one('Slice', [g.one('Shape', [x.name], here), g.constant([0], 'i64'), g.constant([2], 'i64'), g.constant([0], 'i64')], here);
  const sizes = g.one('Concat', [nc, g.constant(size, 'i64')], here, { axis: int(0) });
  const name = g.one('Resize', [x.name, '', '', sizes], here, attrs);
  return { name, shape: [x.shape[0]!, c, size[0]!, size[1]!] };
}

/** Up: upsample x1, pad it to the skip (or crop the skip to it) with Up.forward's floor rule, concat, DoubleConv. */
function emitUp(g: GraphBuilder, m: Up, path: string, x1: Value, skip: Value): Value {
  const here = path || 'Up';
  const u = emit(g, m.up, join(path, 'up'), x1);
  const known = [2, 3].every((i) => u.shape[i] !== null && skip.shape[i] !== null);
  let pads: string | null;
  if (known) {
    const dy = (skip.shape[2] as number) - (u.shape[2] as number);
    const dx = (skip.shape[3] as number) - (u.shape[3] as number);
    const lo = [Math.floor(dy / 2), Math.floor(dx / 2)];
    const hi = [dy - lo[0]!, dx - lo[1]!];
    const sign = m.merge === 'pad' ? 1 : -1;
    pads = dy || dx ? g.constant([0, 0, lo[0]!, lo[1]!, 0, 0, hi[0]!, hi[1]!].map((v) => sign * v), 'i64') : null;
  } else {
    // In the graph: d = skip.shape[2:4] - up.shape[2:4]; lo = floor(d / 2) = (d - d mod 2) / 2 (Mod with
    // fmod 0 takes the divisor's sign, so this floors negative d too); hi = d - lo.
    const hw = (v: string) => g.one('Slice', [g.one('Shape', [v], here), g.constant([2], 'i64'), g.constant([4], 'i64'), g.constant([0], 'i64')], here);
    const two = g.constant([2], 'i64');
    const d = g.one('Sub', [hw(skip.name), hw(u.name)], here);
    const lo = g.one('Div', [g.one('Sub', [d, g.one('Mod', [d, two], here, { fmod: int(0) })], here), two], here);
    const hi = g.one('Sub', [d, lo], here);
    const zeros = g.constant([0, 0], 'i64');
    const p = g.one('Concat', [zeros, lo, zeros, hi], here, { axis: int(0) });
    pads = m.merge === 'pad' ? p : g.one('Neg', [p], here);
  }
  const padded = (v: Value) => (pads ? g.one('Pad', [v.name, pads], here, { mode: str('constant') }) : v.name);
  const [first, second] = m.merge === 'pad' ? [skip.name, padded(u)] : [padded(skip), u.name];
  const spatial = m.merge === 'pad' ? skip.shape.slice(2) : u.shape.slice(2);
  const merged = { name: g.one('Concat', [first, second], here, { axis: int(1) }), shape: [x1.shape[0]!, (skip.shape[1] as number) + (u.shape[1] as number), ...spatial] };
  return emit(g, m.conv, join(path, 'conv'), merged);
}

function emitUNet(g: GraphBuilder, m: UNet, path: string, x: Value, bottleneck: (y: Value) => Value = (y) => y): Value {
  const { depth } = m.config;
  const skips: Value[] = [emit(g, m.inc, join(path, 'inc'), x)];
  for (let i = 1; i <= depth; i++) skips.push(emit(g, m.down(i), join(path, `down${i}`), skips[i - 1]!));
  let y = bottleneck(skips.pop()!);
  for (let i = 1; i <= depth; i++) y = emitUp(g, m.up(i), join(path, `up${i}`), y, skips.pop()!);
  return emit(g, m.outc, join(path, 'outc'), y);
}

/**
 * `module` (in eval mode) as ONNX ModelProto bytes, for inputs of `inputShape` [N, C, H, W] (the sizes it was
 * traced at; with dynamicAxes, any batch, height and width the model can run). Parameters are read back from
 * their device. Throws ArgumentError for a module without an ONNX mapping, training mode, or bad options.
 */
export async function exportOnnx(module: Module, inputShape: readonly number[], opts?: ExportOnnxOptions): Promise<Uint8Array> {
  const { opset = ONNX_OPSETS.default, dynamicAxes = true, metadata = {}, inputName = 'input', outputName = 'output', docString } = checkOptions(OP, opts, OPTION_KEYS);
  checkNumber(OP, 'opset', opset, { integer: true, min: ONNX_OPSETS.min, max: ONNX_OPSETS.max });
  if (!Array.isArray(inputShape) || inputShape.length !== 4 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ArgumentError(OP, `inputShape must be [N, C, H, W] of positive integers, got ${show(inputShape)}`);
  }
  let batch: boolean, spatial: boolean;
  if (typeof dynamicAxes === 'boolean') batch = spatial = dynamicAxes;
  else {
    const o = checkOptions(`${OP} dynamicAxes`, dynamicAxes, { batch: true, spatial: true });
    batch = checkBoolean(OP, 'dynamicAxes.batch', o.batch ?? false);
    spatial = checkBoolean(OP, 'dynamicAxes.spatial', o.spatial ?? false);
  }
  if (metadata === null || typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string')) {
    throw new ArgumentError(OP, `metadata must be an object of strings, got ${show(metadata)}`);
  }
  for (const [k, v] of Object.entries({ inputName, outputName })) if (typeof v !== 'string' || !v) throw new ArgumentError(OP, `${k} must be a non-empty string, got ${show(v)}`);
  if (module instanceof UNet) {
    if (inputShape[1] !== module.config.inChannels) throw new ArgumentError(OP, `inputShape ${show(inputShape)} has ${inputShape[1]} channels, the U-Net takes ${module.config.inChannels}`);
    for (const s of [inputShape[2]!, inputShape[3]!]) UNet.outputSize(s, module.config);
  }

  const g = new GraphBuilder(opset);
  g.fresh(inputName);
  const inShape: Dim[] = [batch ? null : inputShape[0]!, inputShape[1]!, spatial ? null : inputShape[2]!, spatial ? null : inputShape[3]!];
  const out = emit(g, module, '', { name: inputName, shape: inShape });
  // The graph output gets its own name: an Identity from the last value.
  const outName = g.fresh(outputName);
  g.nodes.push({ input: [out.name], output: [outName], name: g.fresh(`${outputName}/Identity`), op_type: 'Identity', attribute: [] });
  await g.readParams();

  const dims = (s: Dim[], params: string[]): DimJson[] => s.map((d, i) => (d === null ? { dim_param: params[i]! } : { dim_value: d }));
  const info = (name: string, s: Dim[], params: string[]): ValueInfoJson => ({ name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims(s, params) } } } });
  const model: ModelJson = {
    ir_version: irVersionOf(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'unet-webgpu',
    producer_version: '',
    ...(docString ? { doc_string: docString } : {}),
    graph: {
      node: g.nodes,
      name: module.constructor.name,
      initializer: g.inits,
      input: [info(inputName, inShape, ['batch', 'channels', 'height', 'width'])],
      output: [info(outName, out.shape, ['batch', 'channels', 'out_height', 'out_width'])],
    },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return encodeModel(model);
}
