// Parity with PyTorch on the same weights: runs a reference dump (see README, "check-torch") through our U-Net.
import type { Backend } from '../kernels/backend.js';
import { SGD } from '../nn/optim.js';
import { parseSafetensors } from '../nn/safetensors.js';
import { noGrad, withDevice } from '../tensor/context.js';
import { tensor } from '../tensor/creation.js';
import { FormatError } from '../core/errors.js';
import { bceWithLogits, crossEntropy } from '../tensor/ops/loss.js';
import type { Tensor } from '../tensor/tensor.js';
import { UNet } from './unet.js';
import { checkModelName, createModel, forwardWithLoss, type FamilyModel, type ModelOptionsOf } from './family/index.js';

export interface CheckRow {
  name: string;
  /** Relative L2 error ||ours - torch|| / ||torch|| (absolute max |ours| for 'abs' rows). */
  error: number;
  tol: number;
  kind: 'rel' | 'abs';
  ok: boolean;
}

export interface CheckResult {
  file: string;
  config: Record<string, unknown>;
  loss: string;
  rows: CheckRow[];
  ok: boolean;
}

/** Tolerances of the parity contract: outputs, loss, running stats 1e-4; gradients, SGD params 1e-3. */
export const TOL = { out: 1e-4, grad: 1e-3, preBnBiasAbs: 1e-6 } as const;

/** ||a - b|| / ||b|| (||a - b|| where b is all zeros): the parity measure of every check. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

/** Conv biases whose output feeds a batch-statistics BatchNorm (U-Net dumps): their true gradient is exactly zero. */
const preBnBias = (key: string) => /double_conv\.[03]\.bias$/.test(key);

/**
 * The model of a dump's config: { model: 'attention-unet' | 'res-unet' | 'unet++', ...its options } (family dumps),
 * else the U-Net dumps' { cin, classes, width, depth, bilinear, padding, bias }.
 */
function modelOfConfig(cfg: Record<string, unknown>): FamilyModel {
  if (cfg.model !== undefined) {
    const { model, ...opts } = cfg;
    const name = checkModelName('check-torch', model);
    return createModel(name, opts as unknown as ModelOptionsOf[typeof name]);
  }
  const c = cfg as { cin: number; classes: number; width: number; depth: number; bilinear: boolean; padding: 'same' | 'valid'; bias: boolean };
  return new UNet({ inChannels: c.cin, classes: c.classes, width: c.width, depth: c.depth, bilinear: c.bilinear, padding: c.padding, bias: c.bias });
}



/**
 * Checks one dump: eval forward (running stats), train forward, loss, every parameter gradient and the
 * input gradient, running stats after the train forward, and parameters after two SGD steps (lr 0.01,
 * momentum 0.9, weight_decay 1e-4). `bytes` is the safetensors file.
 */
export async function checkTorch(bytes: ArrayBuffer | ArrayBufferView, device: Backend, file = 'dump'): Promise<CheckResult> {
  const { tensors: host, metadata } = parseSafetensors(bytes);
  const need = (k: string) => {
    const t = host.get(k);
    if (!t) throw new FormatError(`check-torch: ${file} has no tensor '${k}'`);
    return t;
  };
  if (!metadata.config || !metadata.loss) throw new FormatError(`check-torch: ${file} has no __metadata__ config/loss`);
  const cfg = JSON.parse(metadata.config) as Record<string, unknown>;
  // Family dumps list the exactly-zero gradients (conv biases feeding a training-mode BN) by name.
  const nullGrads = metadata.null_grads === undefined ? null : new Set(JSON.parse(metadata.null_grads) as string[]);
  const isNullGrad = (k: string) => (nullGrads ? nullGrads.has(k) : preBnBias(k) && host.has(`running.${k.replace(/\.(\d)\.bias$/, (_m, i: string) => `.${+i + 1}`)}.running_mean`));
  // The dump writes the loss name as a JSON string ("bce"); accept it bare too.
  const lossKind = metadata.loss.replace(/"/g, '');
  const RESERVED = /^(x|target)$|^(out|grad|running|sgd2)\./;
  const stateKeys = [...host.keys()].filter((k) => !RESERVED.test(k));
  const up = (k: string, grad = false) => {
    const h = need(k);
    return tensor(h.data, h.shape, { device, dtype: h.dtype, requiresGrad: grad });
  };
  const build = () => withDevice(device, () => {
    const net = modelOfConfig(cfg);
    const sd: Record<string, Tensor> = {};
    for (const k of stateKeys) sd[k] = up(k);
    net.loadStateDict(sd);
    for (const t of Object.values(sd)) t.dispose();
    return net;
  });
  const rows: CheckRow[] = [];
  const rel = async (name: string, ours: Tensor | number, ref: ArrayLike<number>, tol: number) => {
    const a = typeof ours === 'number' ? [ours] : await ours.toArray();
    const error = relL2(a, ref);
    rows.push({ name, error, tol, kind: 'rel', ok: error <= tol });
  };
  const lossOf1 = (y: Tensor, target: Tensor) => (lossKind === 'ce' ? crossEntropy(y, target) : bceWithLogits(y, target));
  // The last head's logits and the loss: with several heads (deep supervision) the mean of their losses.
  const forwardLoss = (net: FamilyModel, target: Tensor) => forwardWithLoss(net, x, (y) => lossOf1(y, target));

  const x = up('x', true);
  const target = up('target');
  const net = build();
  try {
    // Eval mode: the running statistics as loaded.
    net.eval();
    const yEval = noGrad(() => net.forward(x) as Tensor);
    await rel('out.eval', yEval, need('out.eval').data, TOL.out);
    yEval.dispose();

    // Train mode: batch statistics, loss, gradients, running stats.
    net.train();
    const { y, loss } = forwardLoss(net, target);
    await rel('out.train', y, need('out.train').data, TOL.out);
    if (metadata.loss_value !== undefined) await rel('loss', await loss.item(), [Number(JSON.parse(metadata.loss_value))], TOL.out);
    loss.backward();
    const named = net.namedParameters();
    let gmax = 0;
    for (const [k] of named) for (const v of host.get(`grad.${k}`)?.data ?? []) gmax = Math.max(gmax, Math.abs(v));
    for (const [k, p] of named) {
      if (!host.has(`grad.${k}`)) {
        // PyTorch left no gradient (the parameter is not used by the forward): ours must have none either.
        rows.push({ name: `grad.${k}`, error: p.grad ? 1 : 0, tol: 0, kind: 'abs', ok: !p.grad });
      } else if (isNullGrad(k)) {
        const g = await p.grad!.toArray();
        let m = 0;
        for (const v of g) m = Math.max(m, Math.abs(v));
        const tol = TOL.preBnBiasAbs * gmax;
        rows.push({ name: `grad.${k}`, error: m, tol, kind: 'abs', ok: m <= tol });
      } else await rel(`grad.${k}`, p.grad!, need(`grad.${k}`).data, TOL.grad);
    }
    await rel('grad.x', x.grad!, need('grad.x').data, TOL.grad);
    for (const [k, b] of net.namedBuffers()) {
      if (!/running_(mean|var)$/.test(k)) continue;
      await rel(`running.${k}`, b, need(`running.${k}`).data, TOL.out);
    }
    y.dispose();
    loss.dispose();
  } finally {
    net.dispose();
  }

  // Two SGD steps from the same state dict on the same batch.
  const net2 = build();
  try {
    net2.train();
    const opt = new SGD(net2.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    for (let s = 0; s < 2; s++) {
      const { y, loss } = forwardLoss(net2, target);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      y.dispose();
      loss.dispose();
    }
    for (const [k, p] of net2.namedParameters()) await rel(`sgd2.${k}`, p, need(`sgd2.${k}`).data, TOL.grad);
  } finally {
    net2.dispose();
    x.grad?.dispose();
    x.dispose();
    target.dispose();
  }
  return { file, config: cfg, loss: lossKind, rows, ok: rows.every((r) => r.ok) };
}

/** The per-tensor report as text lines. */
export function formatCheck(r: CheckResult, verbose = false): string {
  const lines = [`${r.file}: ${JSON.stringify(r.config)} loss=${r.loss}`];
  const worst = (kind: string) => r.rows.filter((x) => x.name.startsWith(kind)).sort((a, b) => b.error / b.tol - a.error / a.tol)[0];
  for (const row of r.rows) {
    if (!verbose && row.ok && !['out.eval', 'out.train', 'loss', 'grad.x'].includes(row.name)) continue;
    lines.push(`  ${row.ok ? 'ok  ' : 'FAIL'} ${row.name.padEnd(56)} ${row.kind === 'rel' ? 'rel L2' : 'max |g|'} ${row.error.toExponential(2)} (tol ${row.tol.toExponential(1)})`);
  }
  for (const kind of ['grad.', 'running.', 'sgd2.']) {
    const w = worst(kind);
    if (w && !verbose) lines.push(`  worst ${kind.padEnd(10)} ${w.name} ${w.error.toExponential(2)} (tol ${w.tol.toExponential(1)})`);
  }
  lines.push(`  ${r.ok ? 'PASS' : 'FAIL'}: ${r.rows.filter((x) => x.ok).length}/${r.rows.length} tensors within tolerance`);
  return lines.join('\n');
}
