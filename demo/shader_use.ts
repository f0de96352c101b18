// Which WGSL shaders the demo's workloads compile on this machine's adapter (Node, Dawn): a 128-tile prediction of the
// 512 x 512 example, then two fine-tuning steps; against all embedded shaders (the bound of WGSL tree-shaking).
// Usage: npx tsx demo/shader_use.ts  (prints one JSON line)
import { readFileSync } from 'node:fs';
import { SHADERS, decodeImage, normalizePage, predictTiled, fit, segDatasetFromFiles } from '../src/index.js';
import { SHADER_LIB } from '../src/kernels/shaders.gen.js';
import { loadSegModel, openNodeDevice } from '../src/node.js';
const dev = await openNodeDevice();
const used = new Set<string>();
const d = (dev as unknown as { device: GPUDevice }).device;
const orig = d.createShaderModule.bind(d);
(d as unknown as { createShaderModule: unknown }).createShaderModule = (desc: GPUShaderModuleDescriptor) => { used.add(desc.label!); return orig(desc); };
const { model, meta } = await loadSegModel('demo/models/isbi-w8.safetensors', { device: dev });
const img = decodeImage(readFileSync('examples/isbi2012/images/0.png'))[0]!;
await predictTiled(model, normalizePage(img, meta.data.normalization, 1), { tile: 128 });
const inferUsed = new Set(used);
const b = readFileSync('examples/isbi2012/images/1.png'), m = readFileSync('examples/isbi2012/labels/1.png');
await fit(model, { train: segDatasetFromFiles(new Map([['1.png', b]]), new Map([['1.png', m]]), { values: meta.data.mapping.values }), normalization: meta.data.normalization }, { steps: 2, crop: 64, batch: 1, store: null, logEvery: 1 });
const size = (names: Iterable<string>) => [...names].reduce((s, n) => s + ((SHADERS as Record<string, string>)[n]?.length ?? 0), 0);
const all = size(Object.keys(SHADERS));
const lib = Object.values(SHADER_LIB as Record<string, string>).reduce((s, v) => s + v.length, 0);
console.log(JSON.stringify({ shaders: Object.keys(SHADERS).length, allChars: all, libChars: lib, inferenceUsed: inferUsed.size, inferenceChars: size(inferUsed), trainUsed: used.size, trainChars: size(used), unknownLabels: [...used].filter((n) => !(n in SHADERS)) }));
await dev.destroy();
