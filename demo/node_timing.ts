// The demo's two workloads in Node (Dawn), for the README's page-vs-Node table: segment the 512 x 512 ISBI example
// with the default checkpoint (auto tile, as the page), and five fine-tuning steps on a 64 x 64 crop, batch 1.
// Usage: npx tsx demo/node_timing.ts  (prints one JSON line)
import { readFileSync } from 'node:fs';
import { encodePng, fit, normalizePage, predictTiled, segDatasetFromFiles, decodeImage } from '../src/index.js';
import { loadSegModel, openNodeDevice } from '../src/node.js';

const dev = await openNodeDevice();
const { model, meta } = await loadSegModel('demo/models/isbi-w8.safetensors', { device: dev });
const img = decodeImage(readFileSync('examples/isbi2012/images/0.png'))[0]!;
const x = normalizePage(img, meta.data.normalization, 1);
await predictTiled(model, x); // warm-up: pipelines compile
const t0 = performance.now();
await predictTiled(model, x);
const predictMs = performance.now() - t0;
const crop = (f: string) => {
  const p = decodeImage(readFileSync(f))[0]!;
  const d = new Float32Array(64 * 64);
  for (let y = 0; y < 64; y++) for (let c = 0; c < 64; c++) d[y * 64 + c] = p.data[(96 + y) * p.width + 200 + c]!;
  return encodePng({ width: 64, height: 64, channels: 1, data: d });
};
const ds = segDatasetFromFiles(new Map([['ft.png', crop('examples/isbi2012/images/3.png')]]), new Map([['ft_mask.png', crop('examples/isbi2012/labels/3.png')]]), { values: meta.data.mapping.values });
const t1 = performance.now();
const r = await fit(model, { train: ds, normalization: meta.data.normalization }, { steps: 5, lr: 3e-3, crop: 64, batch: 1, logEvery: 1, augment: {}, seed: 0, store: null });
const fineTuneMs = performance.now() - t1;
console.log(JSON.stringify({ adapter: dev.adapter?.description, predict512Ms: Math.round(predictMs), fineTune5Ms: Math.round(fineTuneMs), losses: r.losses.map((l) => +l.toFixed(4)) }));
await dev.destroy();
