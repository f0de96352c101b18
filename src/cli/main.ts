#!/usr/bin/env node
// The unet-webgpu command line. `npx unet-webgpu help` lists the commands; README.md documents them.
import { parseArgs } from 'node:util';
import { cpuDevice, metaDevice, openNodeDevice, randn, setDefaultDevice, stats, Tensor, bceWithLogits, noGrad, rand, gt } from '../node.js';
import { ArgumentError } from '../core/errors.js';
import { choiceFlag, intFlag } from './args.js';
import { kernelPolicyOf, KERNEL_FLAGS } from './kernel_flags.js';
import { setKernelPolicy } from '../kernels/policy.js';
import { summary } from '../nn/summary.js';
import { UNet, type UNetOptions } from '../unet/unet.js';
import { createModel, outputSizeOf, type ModelName } from '../unet/family/index.js';
import { familyOptions, MODEL_FLAG, MODEL_HELP, modelFlag } from './model_flag.js';

// The U-Net-only flags (padding, merge, bilinear, no-bias) have no parseArgs default, so summary can tell a flag
// given to a model that has not got it (--model attention-unet --padding valid) from one left out.
const MODEL_FLAGS = {
  in: { type: 'string', default: '1' },
  classes: { type: 'string', default: '1' },
  width: { type: 'string' },
  depth: { type: 'string' },
  padding: { type: 'string' },
  bilinear: { type: 'boolean' },
  'no-bias': { type: 'boolean' },
  merge: { type: 'string' },
  size: { type: 'string' },
  batch: { type: 'string', default: '1' },
} as const;

type ModelArgs = { in: string; classes: string; width?: string; depth?: string; padding?: string; bilinear?: boolean; 'no-bias'?: boolean; merge?: string; size?: string; batch: string };

/** The U-Net-only options of the flags, undefined where not given. */
const unetSpecific = (cmd: string, v: ModelArgs) => ({
  padding: v.padding === undefined ? undefined : choiceFlag(cmd, 'padding', v.padding, ['same', 'valid'] as const),
  bilinear: v.bilinear,
  bias: v['no-bias'] === undefined ? undefined : !v['no-bias'],
  merge: v.merge === undefined ? undefined : choiceFlag(cmd, 'merge', v.merge, ['pad', 'crop'] as const),
});

function modelOptions(cmd: string, v: ModelArgs): UNetOptions {
  const s = unetSpecific(cmd, v);
  return {
    inChannels: intFlag(cmd, 'in', v.in),
    classes: intFlag(cmd, 'classes', v.classes),
    width: intFlag(cmd, 'width', v.width ?? '64'),
    depth: intFlag(cmd, 'depth', v.depth ?? '4', 0),
    padding: s.padding ?? 'valid',
    bilinear: s.bilinear ?? false,
    bias: s.bias ?? true,
    merge: s.merge ?? 'pad',
  };
}

/** The input shape [batch, in, size, size] of the model flags (size: 572 for the U-Net, else 256). */
const inputShape = (cmd: string, v: ModelArgs, model: ModelName = 'unet') => {
  const size = intFlag(cmd, 'size', v.size ?? (model === 'unet' ? '572' : '256'));
  return [intFlag(cmd, 'batch', v.batch), intFlag(cmd, 'in', v.in), size, size];
};

/** `summary`: torchinfo's table for a model of the family, computed on the meta device (no GPU needed). */
async function summaryCmd(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...MODEL_FLAGS, ...MODEL_FLAG, depthShown: { type: 'string', default: '3' } } });
  const cmd = 'summary';
  const model = modelFlag(cmd, values.model);
  const meta = metaDevice();
  setDefaultDevice(meta);
  // Every flag checked against the model; the U-Net then gets the seed's defaults (width 64, valid padding).
  const opts = familyOptions(cmd, model, {
    inChannels: intFlag(cmd, 'in', values.in),
    classes: intFlag(cmd, 'classes', values.classes),
    width: values.width === undefined ? undefined : intFlag(cmd, 'width', values.width),
    depth: values.depth === undefined ? undefined : intFlag(cmd, 'depth', values.depth),
  }, { ...unetSpecific(cmd, values), deepSupervision: values['deep-supervision'] });
  const net = createModel(model, model === 'unet' ? modelOptions(cmd, values) : opts);
  const x = Tensor.empty(inputShape(cmd, values, model), 'f32', meta);
  outputSizeOf(net, x.shape[2]!); // a size the model cannot take is a usage error
  console.log(summary(net, x, { depth: intFlag('summary', 'depthShown', values.depthShown, 0) }).text);
}

const ms = (t: number) => (t >= 10000 ? `${(t / 1000).toFixed(1)} s` : `${t.toFixed(0)} ms`);

/** `run` (npm start): the seed U-Net's forward and backward on the GPU, with its summary and timings. */
async function runCmd(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...MODEL_FLAGS, steps: { type: 'string', default: '1' }, 'nice-main': { type: 'string', default: '0' } } });
  const opts = modelOptions('run', values);
  const steps = intFlag('run', 'steps', values.steps);
  const niceMain = intFlag('run', 'nice-main', values['nice-main'], -20, 19);
  const meta = metaDevice();
  setDefaultDevice(meta);
  const shape = inputShape('run', values);
  console.log(summary(new UNet(opts), Tensor.empty(shape, 'f32', meta)).text);
  const dev = await openNodeDevice({ niceMain });
  console.log(`\ndevice: ${dev.description}`);
  const net = new UNet(opts);
  const x = randn(shape, { seed: 1 });
  const outSize = UNet.outputSize(shape[2]!, opts);
  const target = noGrad(() => gt(rand([shape[0]!, opts.classes, outSize, outSize], { seed: 2 }), 0.5));
  for (let step = 1; step <= steps; step++) {
    const t0 = performance.now();
    const y = net.forward(x);
    const loss = bceWithLogits(y, target);
    const lossValue = await loss.item();
    const t1 = performance.now();
    loss.backward();
    const g = await net.outc.conv.weight.grad!.toArray();
    const t2 = performance.now();
    console.log(`step ${step}: forward+loss ${ms(t1 - t0)} (loss ${lossValue.toFixed(5)}), backward ${ms(t2 - t1)}, out ${JSON.stringify(y.shape)}, |grad outc| ${Math.hypot(...g).toExponential(3)}`);
    y.dispose();
    loss.dispose();
    net.zeroGrad();
  }
  const s = stats(dev);
  console.log(`live tensors ${s.liveTensors}, live ${(s.liveBytes / 1e6).toFixed(1)} MB, peak ${(s.peakBytes / 1e6).toFixed(1)} MB, dispatches ${s.dispatches}, submits ${s.submits}`);
  net.dispose();
  await dev.destroy();
}

/** `check-torch DUMP.safetensors [...]`: parity with PyTorch on the same weights (exit 1 on any failure). */
async function checkTorchCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { cpu: { type: 'boolean', default: false }, verbose: { type: 'boolean', short: 'v', default: false }, ...KERNEL_FLAGS } });
  if (!positionals.length) throw new Error('give one or more reference dumps (.safetensors), e.g. test/fixtures/unet/*.safetensors');
  const { readFile } = await import('node:fs/promises');
  const { checkTorch, formatCheck } = await import('../unet/check_torch.js');
  const dev = values.cpu ? cpuDevice() : await openNodeDevice();
  setKernelPolicy(dev, kernelPolicyOf(values));
  setDefaultDevice(dev);
  let ok = true;
  for (const f of positionals) {
    const r = await checkTorch(await readFile(f), dev, f);
    console.log(formatCheck(r, values.verbose));
    ok &&= r.ok;
  }
  await dev.destroy();
  if (!ok) process.exitCode = 1;
}

const COMMANDS: Record<string, [(argv: string[]) => Promise<void>, string]> = {
  train: [async (a) => (await import('./train.js')).trainCmd(a), 'train a U-Net on --images DIR --masks DIR (no arguments: the ISBI 2012 example, a short run); --help for the flags'],
  run: [runCmd, 'U-Net forward + backward on the GPU with summary and timings (flags: --size --width --padding ... --steps)'],
  bench: [async (a) => (await import('./bench.js')).benchCmd(a), `one JSON line in the peers format: --config a|b|c|isbi [${MODEL_HELP} --modes fwd,fwd_eval,train --reps 5 --warmup 2 --nice-main 19 --profile --conv-fwd V --conv-wgrad V --matmul V]`],
  'check-torch': [checkTorchCmd, 'DUMP.safetensors [...]: our U-Net (or a family model: test/fixtures/family) vs PyTorch on the same weights, per-tensor relative L2 (--cpu, -v, --conv-fwd auto|portable|subgroup|winograd|tiled, --conv-wgrad auto|portable|subgroup|winograd|tiled, --matmul auto|portable|reg|vec4|tiled)'],
  kernels: [async (a) => (await import('./kernels.js')).kernelsCmd(a), 'the kernel lab: list | check [name] | bench <kernel> [--config c --shape ... --reps N --json] | peak (see bench/KERNEL_LAB.md)'],
  predict: [async (a) => (await import('./predict.js')).predictCmd(a), 'segment images with a checkpoint: --weights CKPT --input FILE|DIR --out DIR [--tile N --overlap F --tta --overlay] (--help)'],
  evaluate: [async (a) => (await import('./evaluate.js')).evaluateCmd(a), 'Dice, IoU, pixel error, HD95 per image and mean: --pred DIR --masks DIR [--classes K --json] (--help)'],
  export: [async (a) => (await import('./export.js')).exportCmd(a), 'a checkpoint as an ONNX model for ONNX Runtime / Triton: --weights CKPT --onnx FILE [--opset 17 --fixed --size N --strip-prefixes] (--help)'],
  summary: [summaryCmd, `torchinfo's table: ${MODEL_HELP} --in 1 --classes 1 --width 64 --padding valid --size 572 [--bilinear --depth 4 --no-bias --merge crop; unet++: --deep-supervision]`],
};

const [cmd = 'run', ...rest] = process.argv.slice(2);
if (cmd === 'help' || cmd === '--help' || !COMMANDS[cmd]) {
  console.log('usage: unet-webgpu <command> [flags]\n');
  for (const [name, [, doc]] of Object.entries(COMMANDS)) console.log(`  ${name.padEnd(12)} ${doc}`);
  process.exit(cmd === 'help' || cmd === '--help' ? 0 : 2);
}
try {
  await COMMANDS[cmd]![0](rest);
} catch (e) {
  const msg = (e as Error).message;
  console.error(msg.startsWith(`${cmd}`) ? `unet-webgpu ${msg}` : `unet-webgpu ${cmd}: ${msg}`);
  // Bad usage (a flag's value, an unknown flag) exits 2, as usage errors do; anything else 1.
  const usage = e instanceof ArgumentError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.exit(usage ? 2 : 1);
}
