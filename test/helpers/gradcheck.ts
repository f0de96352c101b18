import { noGrad, tensor, type Device, type Tensor } from '../../src/index.js';
import { cpu64 } from './gpu.js';

export interface GradcheckReport {
  /** Worst |analytic - numeric| / (atol + rtol * |numeric|) over all inputs: below 1 passes. */
  worst: number;
  where: string;
}

/**
 * Float64 central differences on the CPU device against backward(). `f` maps the inputs to any tensor;
 * the scalar checked is sum(f(x) * r) with a fixed random r, so every output element's gradient counts.
 */
export async function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: { data: ArrayLike<number>; shape: number[]; grad?: boolean }[],
  { eps = 1e-6, rtol = 1e-5, atol = 1e-7, device = cpu64 as Device } = {},
): Promise<GradcheckReport> {
  const make = (i: number, data?: ArrayLike<number>) =>
    tensor(Float64Array.from(data ?? inputs[i]!.data), inputs[i]!.shape, { device, requiresGrad: inputs[i]!.grad !== false });
  const xs = inputs.map((_, i) => make(i));
  const y = f(...xs);
  const r = Float64Array.from({ length: y.numel }, (_, i) => Math.sin(1.7 * i + 0.3) + 0.1);
  const rt = tensor(r, [...y.shape], { device });
  const loss = y.mul(rt).sum();
  loss.backward();
  const scalar = async (vals: Tensor[]) => {
    const out = noGrad(() => f(...vals));
    const a = await out.toArray();
    out.dispose();
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * r[i]!;
    return s;
  };
  let worst = 0;
  let where = 'none';
  for (let k = 0; k < inputs.length; k++) {
    if (inputs[k]!.grad === false) continue;
    const analytic = await xs[k]!.grad!.toArray();
    const base = Float64Array.from(inputs[k]!.data);
    for (let i = 0; i < base.length; i++) {
      const plus = base.slice();
      plus[i]! += eps;
      const minus = base.slice();
      minus[i]! -= eps;
      const vp = inputs.map((_, j) => (j === k ? make(j, plus) : xs[j]!.detach()));
      const vm = inputs.map((_, j) => (j === k ? make(j, minus) : xs[j]!.detach()));
      const numeric = ((await scalar(vp)) - (await scalar(vm))) / (2 * eps);
      for (const t of [...vp, ...vm]) t.dispose();
      const err = Math.abs(analytic[i]! - numeric) / (atol + rtol * Math.abs(numeric));
      if (!(err <= worst)) {
        worst = err;
        where = `input ${k} [${i}]: analytic ${analytic[i]}, numeric ${numeric}`;
      }
    }
  }
  for (const t of xs) {
    t.grad?.dispose();
    t.dispose();
  }
  loss.dispose();
  y.dispose();
  rt.dispose();
  return { worst, where };
}
