/// <reference types="node" />
// `unet-webgpu bench --config a|b|c|isbi`: one JSON line on stdout in the peers' format (../shared/peers/bench.mjs),
// progress on stderr.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { openNodeDevice } from '../node.js';
import { metaDevice, withDevice } from '../tensor/context.js';
import { CONFIGS, unetOptions, type ConfigName } from '../unet/configs.js';
import { UNet } from '../unet/unet.js';
import { createModel, outputSizeOf } from '../unet/family/index.js';
import { applyCheckpointing, modelFlag } from './model_flag.js';
import { benchModel, type BenchMode } from '../bench/bench_model.js';
import { choiceFlag, intFlag, numFlag } from './args.js';
import { kernelPolicyOf, KERNEL_FLAGS } from './kernel_flags.js';
import { tuningOf } from '../kernels/tuning.js';

export async function benchCmd(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', default: 'a' },
      modes: { type: 'string', default: 'fwd,fwd_eval,train' },
      reps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      'budget-s': { type: 'string', default: '170' },
      'nice-main': { type: 'string', default: '0' },
      lr: { type: 'string', default: '0.01' },
      profile: { type: 'boolean', default: false },
      checkpointing: { type: 'boolean', default: false },
      dawn: { type: 'string', default: '' },
      model: { type: 'string' },
      ...KERNEL_FLAGS,
    },
  });
  const name = choiceFlag<ConfigName>('bench', 'config', v.config, CONFIGS);
  const cfg = CONFIGS[name];
  const modes = v.modes.split(',').map((m) => choiceFlag<BenchMode>('bench', 'modes', m.trim(), ['fwd', 'fwd_eval', 'train']));
  const niceMain = intFlag('bench', 'nice-main', v['nice-main'], -20, 19);
  const reps = intFlag('bench', 'reps', v.reps);
  const warmup = intFlag('bench', 'warmup', v.warmup);
  const budgetS = numFlag('bench', 'budget-s', v['budget-s'], 0, false);
  const lr = numFlag('bench', 'lr', v.lr, 0, false);
  // Other models of the family take the config's channels, classes, width, batch and size (their own 'same' padding).
  const modelName = modelFlag('bench', v.model);
  const build = () => {
    const m = modelName === 'unet' ? new UNet(unetOptions(name)) : createModel(modelName, { inChannels: cfg.channels, classes: cfg.classes, width: cfg.width });
    return applyCheckpointing('bench', m, modelName, v.checkpointing);
  };
  outputSizeOf(withDevice(metaDevice(), build), cfg.size); // a size the model cannot take fails before the GPU opens
  const log = (msg: string) => process.stderr.write(`[bench ${name}${modelName === 'unet' ? '' : ` ${modelName}`}] ${msg}\n`);
  const dev = await openNodeDevice({ niceMain, dawnFlags: v.dawn ? v.dawn.split(',') : [], kernels: kernelPolicyOf(v) });
  const conv = { fwd: dev.policy.convForward, wgrad: dev.policy.convWeightGrad };
  const model = withDevice(dev, build);
  const params = model.parameters().reduce((s, p) => s + p.numel, 0);
  log(`${dev.description}; ${params.toLocaleString('en-US')} parameters`);
  const r = await benchModel(model, [cfg.batch, cfg.channels, cfg.size, cfg.size], dev, {
    modes,
    reps,
    warmup,
    budgetS,
    lr,
    log,
    profile: v.profile,
  });
  const ru = process.resourceUsage();
  const line = {
    peer: 'unet-webgpu',
    backend: 'webgpu',
    config: name,
    ...cfg,
    ...(modelName === 'unet' ? {} : { model: modelName, padding: 'same' }),
    params,
    layout: 'NCHW',
    out_shape: r.out_shape,
    conv_gmacs_fwd: r.conv_gmacs_fwd,
    modes: r.modes,
    nice_main: niceMain,
    conv_variants: conv,
    matmul_variant: dev.policy.matmul,
    // The measured choices 'auto' took (kernels tune), or null.
    tuning: tuningOf(dev) ? { measured_at: tuningOf(dev)!.measuredAt, buckets: Object.keys(tuningOf(dev)!.entries).length } : null,
    checkpointing: v.checkpointing,
    webgpu_flags: { nice_main: niceMain, dawn: v.dawn || undefined },
    adapter: r.adapter,
    gpu_peak_mb: Math.round(r.gpu_peak_bytes / 2 ** 20),
    gpu_pooled_mb: Math.round(r.gpu_pooled_bytes / 2 ** 20),
    maxrss_mb: Math.round(ru.maxRSS / 1024),
    rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
    ...(r.profile ? { profile: r.profile } : {}),
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(LP_|MESA_|GALLIVM_)/.test(k))),
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
  };
  process.stdout.write(JSON.stringify(line) + '\n');
  model.dispose();
  await dev.destroy();
}
