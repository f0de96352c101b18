#!/usr/bin/env node
// The unet-webgpu command line: `demo` (npm start) and the commands documented in README.md.
import { openNodeDevice, randn, stats, tidy } from './node.js';

async function demo(): Promise<void> {
  const dev = await openNodeDevice();
  console.log(`device: ${dev.description}`);
  // A tiny regression fitted by gradient descent: y = x w, learned on the GPU.
  const x = randn([64, 8], { seed: 1 });
  const wTrue = randn([8, 1], { seed: 2 });
  const y = x.matmul(wTrue);
  const w = randn([8, 1], { seed: 3 }).requiresGrad_();
  for (let step = 0; step <= 50; step++) {
    const loss = tidy(() => x.matmul(w).sub(y).pow(2).mean());
    loss.backward();
    const next = tidy(() => w.sub(w.grad!.mul(0.2)));
    if (step % 10 === 0) console.log(`step ${step}: loss ${(await loss.item()).toExponential(3)}`);
    loss.dispose();
    w.grad!.dispose();
    w.grad = null;
    await next.toArray().then((v) => dev.upload(w.storage(), v));
    next.dispose();
  }
  console.log(stats(dev));
  await dev.destroy();
}

const [cmd = 'demo'] = process.argv.slice(2);
const commands: Record<string, () => Promise<void>> = { demo };
const run = commands[cmd];
if (!run) {
  console.error(`unknown command '${cmd}'; commands: ${Object.keys(commands).join(', ')}`);
  process.exit(2);
}
await run();
