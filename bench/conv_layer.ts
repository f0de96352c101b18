// One 3x3 conv2d layer's forward, and forward + backward, under two or more conv families, interleaved, on the Node
// WebGPU device with the JS thread reniced (Dawn spin-waits on it). Wall time per run, each ending in a readback, or
// with --gpu the run's summed GPU timestamps (no readback) and the kernels it launched: for comparing kernel families
// on one layer, not for whole-step figures. Run from a checkout:
//   npx tsx bench/conv_layer.ts --shape 4x16x256x256 --cout 16 [--padding 1] [--families auto,subgroup] [--reps 3] [--gpu]
// One line per family and mode: the sorted samples in ms (the first, cold, round is not counted).
import { parseArgs } from 'node:util';
import { conv2d, openNodeDevice, setKernelPolicy, tensor, type ConvVariant } from '../src/node.js';

async function main() {
  const { values } = parseArgs({
    options: {
      shape: { type: 'string', default: '4x16x256x256' }, cout: { type: 'string', default: '16' }, padding: { type: 'string', default: '1' },
      families: { type: 'string', default: 'auto,subgroup' }, reps: { type: 'string', default: '3' }, gpu: { type: 'boolean', default: false },
    },
  });
  const [n, c, h, w] = values.shape.split('x').map(Number) as [number, number, number, number];
  const cout = Number(values.cout);
  const padding = Number(values.padding);
  const reps = Number(values.reps);
  if (![n, c, h, w, cout, padding, reps].every((v) => Number.isInteger(v) && v >= 0)) throw new Error(`conv_layer: bad --shape / --cout / --padding / --reps`);
  const families = values.families.split(',') as ConvVariant[];
  const dev = await openNodeDevice({ niceMain: 19 });
  const rnd = (k: number) => Float32Array.from({ length: k }, () => Math.random() - 0.5);
  const x = tensor(rnd(n * c * h * w), [n, c, h, w], { device: dev, requiresGrad: true });
  const wt = tensor(rnd(cout * c * 9), [cout, c, 3, 3], { device: dev, requiresGrad: true });
  const kernels = new Map<string, string>();
  const once = async (key: string, back: boolean) => {
    if (values.gpu) dev.startProfiling();
    const t0 = performance.now();
    const y = conv2d(x, wt, null, { padding });
    if (back) y.sum().backward();
    if (values.gpu) {
      const p = await dev.stopProfiling();
      kernels.set(key, p.kernels.map((k) => `${k.kernel} ${k.gpu_ms.toFixed(2)}`).join(', '));
      y.dispose();
      return p.total_gpu_ms;
    }
    await (back ? wt.grad! : y).toArray();
    const ms = performance.now() - t0;
    y.dispose();
    return ms;
  };
  const res = new Map<string, number[]>();
  for (let rep = 0; rep <= reps; rep++) {
    for (const f of families) {
      setKernelPolicy(dev, { convForward: f, convWeightGrad: f });
      for (const back of [false, true]) {
        const key = `${f} ${back ? 'fwd+bwd' : 'fwd'}`;
        const t = await once(key, back);
        for (const t of [x, wt]) {
          t.grad?.dispose();
          t.grad = null;
        }
        if (rep > 0) res.set(key, [...(res.get(key) ?? []), t]);
      }
    }
  }
  const fmt = (t: number) => t.toFixed(values.gpu ? 1 : 0);
  for (const [k, v] of res) console.log(`${values.shape} -> ${cout} p${padding} ${k}: ${v.sort((a, b) => a - b).map(fmt).join(' ')} ms${values.gpu ? ` (GPU; last run: ${kernels.get(k)})` : ''}`);
  process.exit(0);
}
void main();
