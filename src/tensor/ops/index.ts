// The op registry: every differentiable function of the tensor layer (torch.nn.functional-like names).
export { abs, add, binaryRaw, div, eq, exp, expand, gelu, gt, leakyRelu, log, lt, maximum, minimum, mul, neg, pow, relu, sigmoid, silu, sqrt, sub, sumTo, tanh } from './elementwise.js';
export type { GeluOptions } from './elementwise.js';
export { max, mean, sum } from './reduce.js';
export { bmm, linear, matmul } from './matmul.js';
export { scaledDotProductAttention, type SdpaOptions } from './attention.js';
export { reshape } from './shape_ops.js';
export { full, fullLike, ones, onesLike, zeros, zerosLike } from '../creation.js';
export * from './conv.js';
export * from './pool.js';
export * from './batch_norm.js';
export * from './movement.js';
export * from './loss.js';
export { groupNorm, instanceNorm, layerNorm } from './norm.js';
export * from './softmax.js';
export * from './optim.js';

// Tensor's methods and autograd call these (op_table.ts: no value-import cycle between tensor.ts and the ops).
import { abs, add, div, exp, log, mul, neg, pow, relu, sigmoid, sqrt, sub, tanh } from './elementwise.js';
import { max, mean, sum } from './reduce.js';
import { matmul } from './matmul.js';
import { reshape } from './shape_ops.js';
import { onesLike } from '../creation.js';
import { bindOps } from '../op_table.js';

bindOps({ reshape, add, sub, mul, div, pow, neg, exp, log, sqrt, abs, relu, sigmoid, tanh, sum, mean, max, matmul, onesLike });
