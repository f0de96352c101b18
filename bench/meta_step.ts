// The JS-side cost of a training step: forward, BCE loss, backward and an SGD step of a benchmark config's U-Net on
// the meta device (ops, autograd, split planning and the launch path run; no kernel does). Run from a checkout:
//   npx tsx bench/meta_step.ts [--config a|b|c] [--reps 30]
// One JSON line: median, min and max milliseconds per step, and the launches per step.
import { parseArgs } from 'node:util';
import { bceWithLogits, metaDevice, SGD, stats, Tensor, UNet, UNET_CONFIGS, unetOptions, withDevice } from '../src/index.js';

const { values } = parseArgs({ options: { config: { type: 'string', default: 'a' }, reps: { type: 'string', default: '30' } } });
const name = values.config as keyof typeof UNET_CONFIGS;
const cfg = UNET_CONFIGS[name];
if (!Object.hasOwn(UNET_CONFIGS, name)) throw new Error(`--config must be one of ${Object.keys(UNET_CONFIGS).join(', ')}`);
const dev = metaDevice();
const times: number[] = [];
let launches = 0;
withDevice(dev, () => {
  const net = new UNet(unetOptions(name));
  const opt = new SGD(net.parameters(), { lr: 0.01 });
  const x = Tensor.empty([cfg.batch, cfg.channels, cfg.size, cfg.size]);
  const t = Tensor.empty([cfg.batch, cfg.classes, cfg.size, cfg.size]);
  for (let i = 0; i < +values.reps + 3; i++) {
    const d0 = stats(dev).dispatches;
    const t0 = performance.now();
    const loss = bceWithLogits(net.forward(x), t);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    loss.dispose();
    if (i >= 3) times.push(performance.now() - t0);
    launches = stats(dev).dispatches - d0;
  }
});
times.sort((a, b) => a - b);
const r = (v: number) => +v.toFixed(3);
console.log(JSON.stringify({ bench: 'meta_step', config: name, reps: times.length, median_ms: r(times[times.length >> 1]!), min_ms: r(times[0]!), max_ms: r(times.at(-1)!), launches_per_step: launches }));
