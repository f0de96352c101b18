// Our half of the PyTorch round trip (scripts/torch_roundtrip.py is the other; README "Moving to PyTorch or ONNX
// Runtime" has the commands):
//   npx tsx scripts/torch_roundtrip.ts demo-checkpoint --out CKPT [--width 16 --depth 4 --padding same --bilinear --classes 1 --in 1]
//       a checkpoint of random weights and random BatchNorm statistics (use your `unet-webgpu train` checkpoint instead)
//   npx tsx scripts/torch_roundtrip.ts reference --weights CKPT --out REF [--size 128 --batch 1 --seed 1 --gpu]
//       REF holds a seeded input x and our eval-mode forward `out` (float32 CPU device, or WebGPU with --gpu), and the
//       model options
//   npx tsx scripts/torch_roundtrip.ts check --weights BACK --reference REF [--strip-prefixes --gpu]
//       loads what PyTorch wrote back (a checkpoint, or a plain PyTorch state dict: the options come from REF) and
//       prints the max |ours(BACK) - REF.out|
//   npx tsx scripts/torch_roundtrip.ts onnx --model FILE.onnx --reference REF
//       runs an exported model in ONNX Runtime (onnxruntime-node, CPU, graph optimisation 'all') on REF's x and
//       prints the max |onnxruntime - REF.out|
import { parseArgs } from 'node:util';
import { choiceFlag, intFlag } from '../src/cli/args.js';
import { ArgumentError } from '../src/core/errors.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_KEY, checkpointTensors, cpuDevice, loadSafetensors, loadSegModel, manualSeed, openNodeDevice, noGrad, randn, saveCheckpoint, saveSafetensors, tensor, UNet, withDevice, type UNetOptions } from '../src/node.js';
import { Rng } from '../src/tensor/random.js';

const dev = cpuDevice();
/** The float32 CPU device, or WebGPU (Dawn) with --gpu. */
const deviceFor = async (gpu: boolean) => (gpu ? openNodeDevice({ setDefault: false }) : dev);
const [mode, ...argv] = process.argv.slice(2);

async function demoCheckpoint(): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: { out: { type: 'string' }, width: { type: 'string', default: '16' }, depth: { type: 'string', default: '4' }, padding: { type: 'string', default: 'same' }, bilinear: { type: 'boolean', default: false }, classes: { type: 'string', default: '1' }, in: { type: 'string', default: '1' }, seed: { type: 'string', default: '1' } } });
  if (!v.out) throw new ArgumentError('demo-checkpoint', '--out is required');
  manualSeed(intFlag('demo-checkpoint', 'seed', v.seed, 0));
  const opts: UNetOptions = { inChannels: intFlag('demo-checkpoint', 'in', v.in), classes: intFlag('demo-checkpoint', 'classes', v.classes), width: intFlag('demo-checkpoint', 'width', v.width), depth: intFlag('demo-checkpoint', 'depth', v.depth), padding: choiceFlag('demo-checkpoint', 'padding', v.padding, ['same', 'valid'] as const), bilinear: v.bilinear };
  const model = withDevice(dev, () => new UNet(opts));
  // BatchNorm state as after training: weights around 1, biases and means around 0, variances in [0.5, 2].
  const r = new Rng(intFlag('demo-checkpoint', 'seed', v.seed, 0));
  const draw = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r.uniform());
  const sd = model.stateDict();
  const bn: Record<string, ReturnType<typeof tensor>> = {};
  for (const [k, t] of Object.entries(sd)) {
    const range = k.endsWith('running_var') ? [0.5, 2] : k.endsWith('running_mean') ? [-0.3, 0.3] : /double_conv\.[14]\.weight$/.test(k) ? [0.5, 1.5] : /double_conv\.[14]\.bias$/.test(k) ? [-0.3, 0.3] : null;
    if (range) bn[k] = tensor(draw(t.numel, range[0]!, range[1]!), [...t.shape], { device: dev });
  }
  model.loadStateDict(bn, { strict: false });
  const classes = Math.max(2, opts.classes);
  await saveCheckpoint(v.out, checkpointTensors(model), {
    format: CHECKPOINT_FORMAT,
    model: model.config,
    data: { channels: opts.inChannels, classes, mapping: { values: classes === 2 ? [0, 255] : Array.from({ length: classes }, (_, i) => i) }, normalization: { mean: [0.5], std: [0.25] } },
  });
  console.log(`wrote ${v.out}: ${JSON.stringify(model.config)}`);
}

async function reference(): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: { weights: { type: 'string' }, out: { type: 'string' }, size: { type: 'string', default: '128' }, batch: { type: 'string', default: '1' }, seed: { type: 'string', default: '1' }, gpu: { type: 'boolean', default: false } } });
  if (!v.weights || !v.out) throw new ArgumentError('reference', '--weights and --out are required');
  const on = await deviceFor(v.gpu);
  const { model } = await loadSegModel(v.weights, { device: on });
  const size = intFlag('reference', 'size', v.size);
  const shape = [intFlag('reference', 'batch', v.batch), model.config.inChannels, size, size];
  const x = withDevice(on, () => randn(shape, { seed: intFlag('reference', 'seed', v.seed, 0) }));
  const t0 = performance.now();
  const out = noGrad(() => model.forward(x));
  await saveSafetensors(v.out, { x, out }, { config: JSON.stringify(model.config), device: on.description });
  console.log(`wrote ${v.out}: x ${JSON.stringify(shape)} -> out ${JSON.stringify(out.shape)} (our forward, eval mode, ${on.description}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  if (on !== dev) await on.destroy();
}

async function check(): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: { weights: { type: 'string' }, reference: { type: 'string' }, 'strip-prefixes': { type: 'boolean', default: false }, gpu: { type: 'boolean', default: false } } });
  if (!v.weights || !v.reference) throw new ArgumentError('check', '--weights and --reference are required');
  const on = await deviceFor(v.gpu);
  const ref = await loadSafetensors(v.reference, { device: on });
  const file = await loadSafetensors(v.weights, { device: on });
  let model: UNet;
  if (file.metadata[CHECKPOINT_KEY]) {
    const loaded = (await loadSegModel(v.weights, { device: on, stripPrefixes: v['strip-prefixes'] })).model;
    if (!(loaded instanceof UNet)) throw new ArgumentError('check', `${v.weights} holds another family model; the round trip is milesial's U-Net`);
    model = loaded;
  }
  else {
    // A plain PyTorch state dict (milesial's keys): the options are the reference's.
    model = withDevice(on, () => new UNet(JSON.parse(ref.metadata.config!) as UNetOptions));
    model.loadStateDict(file.tensors, { stripPrefixes: v['strip-prefixes'] });
    model.eval();
  }
  const got = await noGrad(() => model.forward(ref.tensors.x!)).toArray();
  const want = await ref.tensors.out!.toArray();
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
  console.log(`${v.weights} (${file.metadata[CHECKPOINT_KEY] ? 'checkpoint' : 'plain state dict'}, ${Object.keys(file.tensors).length} tensors) loaded; max |ours - reference| = ${d.toExponential(2)} over ${want.length} logits`);
  if (on !== dev) await on.destroy();
  if (!(d <= 1e-5)) process.exitCode = 1;
}

async function onnx(): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: { model: { type: 'string' }, reference: { type: 'string' } } });
  if (!v.model || !v.reference) throw new ArgumentError('onnx', '--model and --reference are required');
  const ort = await import('onnxruntime-node');
  const ref = await loadSafetensors(v.reference, { device: dev });
  const x = ref.tensors.x!;
  const s = await ort.InferenceSession.create(v.model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const t0 = performance.now();
  const res = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(await x.toArray()), [...x.shape]) });
  const ms = performance.now() - t0;
  const got = res[s.outputNames[0]!]!.data as Float32Array;
  const want = await ref.tensors.out!.toArray();
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
  console.log(`${v.model} in onnxruntime-node ${ort.env.versions.node} (CPU, ${ms.toFixed(0)} ms): max |onnxruntime - unet-webgpu| = ${d.toExponential(2)} over ${want.length} logits`);
  await s.release();
  if (!(d <= 1e-4)) process.exitCode = 1;
}

const MODES: Record<string, () => Promise<void>> = { 'demo-checkpoint': demoCheckpoint, reference, check, onnx };
if (!mode || !MODES[mode]) {
  console.error(`usage: npx tsx scripts/torch_roundtrip.ts ${Object.keys(MODES).join(' | ')} [flags] (see the header of this file)`);
  process.exit(2);
}
await MODES[mode]!();
