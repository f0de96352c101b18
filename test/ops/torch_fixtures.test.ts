// Our ops against PyTorch 1.13: forward outputs and the gradients of sum(out * r), from the committed
// fixtures in test/fixtures/torch/ops_*.json (made by scripts/fixtures/make_op_fixtures.py; see the README
// there). Every case runs on the GPU device and on the float32 CPU device.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { F, nn, Tensor, tensor, withDevice, type Device } from '../../src/index.js';
import { maxAbs, type CloseOptions } from '../helpers/close.js';
import { cpu32, gpuSuite } from '../helpers/gpu.js';

interface FixTensor {
  shape: number[];
  data: number[];
  dtype?: 'i32';
  /** false: PyTorch took no gradient for it (targets, running stats, class weights). */
  grad?: boolean;
}

interface FixCase {
  name: string;
  op: string;
  args: Args;
  inputs: Record<string, FixTensor>;
  r: FixTensor;
  out: FixTensor;
  grads: Record<string, FixTensor>;
  extra: Record<string, FixTensor>;
  /** The longest float reduction in forward or backward (widens the tolerances). */
  k: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = Record<string, any>;
type Inputs = Record<string, Tensor>;
interface Result {
  out: Tensor;
  /** Compared with the fixture's `extra` (argmax indices; running stats updated in place). */
  extra?: Record<string, Tensor>;
}

const opt = <T>(t: T | undefined): T | null => t ?? null;

/** The PyTorch call each fixture was made with, and our call for it. */
const OPS: Record<string, { torch: string; run: (i: Inputs, a: Args) => Tensor | Result }> = {
  conv2d: {
    torch: 'F.conv2d(x, weight, bias, stride, padding, dilation)',
    run: (i, a) => F.conv2d(i.x!, i.weight!, opt(i.bias), { stride: a.stride, padding: a.padding, dilation: a.dilation }),
  },
  convTranspose2d: {
    torch: 'F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, dilation=dilation)',
    run: (i, a) =>
      F.convTranspose2d(i.x!, i.weight!, opt(i.bias), { stride: a.stride, padding: a.padding, outputPadding: a.outputPadding, dilation: a.dilation }),
  },
  maxPool2dWithIndices: {
    torch: 'F.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)',
    run: (i, a) => {
      const { values, indices } = F.maxPool2dWithIndices(i.x!, { kernelSize: a.kernelSize, stride: a.stride, padding: a.padding, dilation: a.dilation, ceilMode: a.ceilMode });
      return { out: values, extra: { indices } };
    },
  },
  avgPool2d: {
    torch: 'F.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)',
    run: (i, a) =>
      F.avgPool2d(i.x!, { kernelSize: a.kernelSize, stride: a.stride, padding: a.padding, ceilMode: a.ceilMode, countIncludePad: a.countIncludePad, divisorOverride: a.divisorOverride }),
  },
  batchNorm: {
    torch: 'F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)',
    run: (i, a) => {
      const out = F.batchNorm(i.x!, opt(i.runningMean), opt(i.runningVar), opt(i.weight), opt(i.bias), { training: a.training, momentum: a.momentum, eps: a.eps });
      const extra: Record<string, Tensor> = i.runningMean ? { runningMean: i.runningMean, runningVar: i.runningVar! } : {};
      return { out, extra };
    },
  },
  groupNorm: {
    torch: 'F.group_norm(x, num_groups, weight, bias, eps)',
    run: (i, a) => F.groupNorm(i.x!, a.numGroups, opt(i.weight), opt(i.bias), a.eps),
  },
  instanceNorm: {
    torch: 'F.instance_norm(x, weight=weight, bias=bias, eps=eps)',
    run: (i, a) => F.instanceNorm(i.x!, opt(i.weight), opt(i.bias), a.eps),
  },
  layerNorm: {
    torch: 'F.layer_norm(x, normalized_shape, weight, bias, eps)',
    run: (i, a) => F.layerNorm(i.x!, a.normalizedShape, opt(i.weight), opt(i.bias), a.eps),
  },
  cat: {
    torch: 'torch.cat([x0, x1, ...], dim)',
    run: (i, a) => F.cat(Object.keys(i).sort().map((k) => i[k]!), a.dim),
  },
  pad: { torch: 'F.pad(x, pads, value=value)', run: (i, a) => F.pad(i.x!, a.pads, a.value) },
  interpolate: {
    torch: 'F.interpolate(x, size, scale_factor, mode, align_corners)',
    run: (i, a) => F.interpolate(i.x!, { size: a.size, scaleFactor: a.scaleFactor, mode: a.mode, alignCorners: a.alignCorners }),
  },
  softmax: { torch: 'F.softmax(x, dim)', run: (i, a) => F.softmax(i.x!, a.dim) },
  logSoftmax: { torch: 'F.log_softmax(x, dim)', run: (i, a) => F.logSoftmax(i.x!, a.dim) },
  bceWithLogits: {
    torch: 'F.binary_cross_entropy_with_logits(logits, target, weight, pos_weight=posWeight, reduction)',
    run: (i, a) => F.bceWithLogits(i.logits!, i.target!, { reduction: a.reduction, posWeight: opt(i.posWeight), weight: opt(i.weight) }),
  },
  crossEntropy: {
    torch: 'F.cross_entropy(logits, target, weight, ignore_index, reduction)',
    run: (i, a) => F.crossEntropy(i.logits!, i.target!, { weight: opt(i.weight), ignoreIndex: a.ignoreIndex, reduction: a.reduction }),
  },
  diceLoss: {
    torch: 'mean_c(1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth)), sums over (N, H, W), in the script',
    run: (i, a) => F.diceLoss(i.probs!, i.target!, { smooth: a.smooth, reduction: a.reduction }),
  },
  add: { torch: 'torch.add(a, b)', run: (i) => F.add(i.a!, i.b!) },
  sub: { torch: 'torch.sub(a, b)', run: (i) => F.sub(i.a!, i.b!) },
  mul: { torch: 'torch.mul(a, b)', run: (i) => F.mul(i.a!, i.b!) },
  div: { torch: 'torch.div(a, b)', run: (i) => F.div(i.a!, i.b!) },
  pow: { torch: 'torch.pow(a, b) | torch.pow(x, exponent)', run: (i, a) => (i.x ? F.pow(i.x, a.exponent) : F.pow(i.a!, i.b!)) },
  exp: { torch: 'torch.exp(x)', run: (i) => F.exp(i.x!) },
  log: { torch: 'torch.log(x)', run: (i) => F.log(i.x!) },
  sigmoid: { torch: 'torch.sigmoid(x)', run: (i) => F.sigmoid(i.x!) },
  tanh: { torch: 'torch.tanh(x)', run: (i) => F.tanh(i.x!) },
  relu: { torch: 'F.relu(x)', run: (i) => F.relu(i.x!) },
  gelu: { torch: 'F.gelu(x, approximate)', run: (i, a) => F.gelu(i.x!, a.approximate === undefined ? undefined : { approximate: a.approximate }) },
  silu: { torch: 'F.silu(x)', run: (i) => F.silu(i.x!) },
  leakyRelu: { torch: 'F.leaky_relu(x, negative_slope)', run: (i, a) => (a.slope === undefined ? F.leakyRelu(i.x!) : F.leakyRelu(i.x!, a.slope)) },
  sum: { torch: 'torch.sum(x, dim, keepdim)', run: (i, a) => F.sum(i.x!, a.dim, a.keepdim) },
  mean: { torch: 'torch.mean(x, dim, keepdim)', run: (i, a) => F.mean(i.x!, a.dim, a.keepdim) },
  max: { torch: 'torch.amax(x, dim, keepdim)', run: (i, a) => F.max(i.x!, a.dim, a.keepdim) },
  matmul: { torch: 'a @ b (2-D, batched, N-D by 2-D)', run: (i) => F.matmul(i.a!, i.b!) },
  bmm: { torch: 'torch.bmm(a, b)', run: (i) => F.bmm(i.a!, i.b!) },
  linear: { torch: 'F.linear(x, weight, bias)', run: (i) => F.linear(i.x!, i.weight!, opt(i.bias)) },
  permute: { torch: 'x.permute(*perm)', run: (i, a) => F.permute(i.x!, a.perm) },
  transpose: { torch: 'x.transpose(dim0, dim1)', run: (i, a) => F.transpose(i.x!, a.dim0, a.dim1) },
  narrow: { torch: 'x.narrow(dim, start, length)', run: (i, a) => F.narrow(i.x!, a.dim, a.start, a.length) },
  sdpa: {
    torch: 'softmax(q k^T * scale + mask) v (F.scaled_dot_product_attention, written out for torch 1.13)',
    run: (i, a) => F.scaledDotProductAttention(i.q!, i.k!, i.v!, { attnMask: opt(i.mask), scale: a.scale, isCausal: a.isCausal }),
  },
  // Modules: the fixture's weights (no gradient) load into the module; the inputs' gradients are compared.
  multiheadAttention: {
    torch: 'F.multi_head_attention_forward (nn.MultiheadAttention, need_weights=False)',
    run: (i, a) => withModule(i, () => new nn.MultiheadAttention(a.embedDim, a.numHeads, { batchFirst: a.batchFirst }), (m) => m.forward(i.query!, i.key!, i.value!)),
  },
  transformerEncoderLayer: {
    torch: 'nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0, batch_first=True), train mode',
    run: (i, a) =>
      withModule(i, () => new nn.TransformerEncoderLayer(a.dModel, a.nhead, { dimFeedforward: a.dimFeedforward, dropout: 0, batchFirst: true }), (m) => m.forward(i.src!)),
  },
};

/** Builds a module on the inputs' device, loads the inputs that are its state (dotted names), runs `f`, disposes it. */
function withModule<M extends nn.Module>(i: Inputs, make: () => M, f: (m: M) => Tensor): Tensor {
  const dev = Object.values(i)[0]!.device;
  const m = withDevice(dev, make);
  const keys = Object.keys(m.stateDict());
  m.loadStateDict(Object.fromEntries(keys.map((k) => [k, i[k]!])));
  try {
    return f(m);
  } finally {
    m.dispose();
  }
}

/** Ops whose forward only moves input values: PyTorch's output must come back bit for bit. */
const exactForward = (c: FixCase) => ['cat', 'pad', 'maxPool2dWithIndices'].includes(c.op) || (c.op === 'interpolate' && c.args.mode === 'nearest');
/** Ops whose gradient only moves r's values (no sums). */
const exactGrad = (c: FixCase) => ['cat', 'pad'].includes(c.op);

/** rtol `base`, atol `base` x the largest |expected|, both widened as sqrt(k) past k = 100. */
function tol(c: FixCase, want: ArrayLike<number>, base: number): CloseOptions {
  const s = Math.max(1, Math.sqrt(c.k / 100));
  return { rtol: base * s, atol: base * s * maxAbs(want) };
}

const DIR = join(import.meta.dirname, '../fixtures/torch');
const FILES = readdirSync(DIR)
  .filter((f) => /^ops_.*\.json$/.test(f))
  .sort();
const FAMILIES = FILES.map((f) => ({ file: f, cases: (JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { cases: FixCase[] }).cases }));

/** Expected values as the float32 PyTorch computed (the JSON holds their shortest decimals). */
const f32 = (t: FixTensor): ArrayLike<number> => (t.dtype === 'i32' ? t.data : Float32Array.from(t.data));

function upload(t: FixTensor, dev: Device, grad: boolean): Tensor {
  const data = t.dtype === 'i32' ? Int32Array.from(t.data) : Float32Array.from(t.data);
  return tensor(data, t.shape, { device: dev, requiresGrad: grad });
}

async function runCase(c: FixCase, dev: Device): Promise<void> {
  const spec = OPS[c.op];
  if (!spec) throw new Error(`${c.name}: no mapping for op '${c.op}' in OPS`);
  const owned: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (owned.push(t), t);
  try {
    const inputs: Inputs = {};
    for (const [n, t] of Object.entries(c.inputs)) inputs[n] = keep(upload(t, dev, t.dtype !== 'i32' && t.grad !== false));
    const res = spec.run(inputs, c.args);
    const { out, extra = {} } = res instanceof Tensor ? { out: res } : res;
    keep(out);
    expect(out.shape, `${c.name}: output shape`).toEqual(c.out.shape);
    const fwdTol = (want: ArrayLike<number>) => (exactForward(c) ? { rtol: 0, atol: 0 } : tol(c, want, 1e-5));
    expect(await out.toArray(), `${c.name}: forward`).toBeAllClose(f32(c.out), fwdTol(c.out.data));
    for (const [n, want] of Object.entries(c.extra)) {
      const got = extra[n];
      expect(got, `${c.name}: extra output ${n}`).toBeDefined();
      expect(got!.shape, `${c.name}: ${n} shape`).toEqual(want.shape);
      const exact = want.dtype === 'i32';
      expect(await got!.toArray(), `${c.name}: ${n}`).toBeAllClose(f32(want), exact ? { rtol: 0, atol: 0 } : tol(c, want.data, 1e-5));
    }
    if (Object.keys(c.grads).length === 0) return;
    const r = keep(upload(c.r, dev, false));
    const prod = keep(out.mul(r));
    const loss = keep(prod.sum());
    loss.backward();
    for (const [n, want] of Object.entries(c.grads)) {
      const g = inputs[n]!.grad;
      expect(g, `${c.name}: gradient of ${n}`).toBeDefined();
      keep(g!);
      expect(g!.shape, `${c.name}: grad ${n} shape`).toEqual(want.shape);
      expect(await g!.toArray(), `${c.name}: grad ${n}`).toBeAllClose(f32(want), exactGrad(c) ? { rtol: 0, atol: 0 } : tol(c, want.data, 1e-4));
    }
  } finally {
    for (const t of owned) t.dispose();
  }
}

const { skip, dev } = await gpuSuite();

describe('fixture mapping', () => {
  test('every fixture op has a row in OPS', () => {
    const ops = new Set(FAMILIES.flatMap((f) => f.cases.map((c) => c.op)));
    expect([...ops].filter((o) => !OPS[o])).toEqual([]);
    expect(FAMILIES.length).toBeGreaterThanOrEqual(10);
  });
});

for (const { file, cases } of FAMILIES) {
  describe.skipIf(skip)(`${file} on the GPU`, () => {
    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => runCase(c, dev));
  });
  describe(`${file} on cpu32`, () => {
    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => runCase(c, cpu32));
  });
}
