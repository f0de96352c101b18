// Writes the model-only copy of a training checkpoint (no optimizer moments, no training history): what the demo
// ships. Usage: npx tsx demo/models/model_only.ts IN.safetensors OUT.safetensors
import { checkpointMetadata, cpuDevice, loadCheckpoint, saveSafetensors } from '../../src/node.js';

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) throw new Error('usage: model_only.ts IN.safetensors OUT.safetensors');
const ck = await loadCheckpoint(inPath, { device: cpuDevice() });
const { train, ...meta } = ck.meta;
const best = train?.best;
const tensors = new Map(Object.entries(ck.model).map(([k, t]) => [`model.${k}`, t] as const));
await saveSafetensors(outPath, tensors, checkpointMetadata({ ...meta, extra: { ...(meta.extra ?? {}), from: inPath, step: best?.step ?? train?.step, valForegroundDice: best?.score } }));
console.log(`${outPath}: ${tensors.size} tensors (model only), best step ${best?.step}, held-out foreground Dice ${best?.score?.toFixed(4)}`);
