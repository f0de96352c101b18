#!/usr/bin/env node
// Turns JSON lines from bench.mjs / torch_unet.py into a markdown table.
//   node peers/summarize.mjs peers/results/*.jsonl
//   python3 peers/torch_unet.py --config a | node peers/summarize.mjs
import fs from 'node:fs';

const files = process.argv.slice(2);
const text = files.length ? files.map(f => fs.readFileSync(f, 'utf8')).join('\n') : fs.readFileSync(0, 'utf8');
const rows = [];
for (const line of text.split('\n')) {
  if (!line.trim().startsWith('{')) continue;
  let r; try { r = JSON.parse(line); } catch { continue; }
  if (!r.modes) { if (r.error) rows.push(`| ${r.backend ?? '?'} | ${r.config ?? '?'} | error: ${r.error} | | | | | |`); continue; }
  const who = r.peer === 'unet-webgpu' ? `unet-webgpu ${r.backend}${r.nice_main ? ' nice' : ''}`
    : r.peer === 'torch' ? `torch ${r.torch_version} cpu ${r.threads}t`
    : r.peer === 'jax-js' ? `jax-js ${r.backend}${r.nice_main ? ' nice' : ''}`
    : `tfjs ${r.backend}${r.webgpu_flags?.nice_main ? ' nice' : ''}`;
  for (const [mode, m] of Object.entries(r.modes)) {
    const s = x => (x >= 10000 ? (x / 1000).toFixed(1) + ' s' : x.toFixed(x < 100 ? 1 : 0) + ' ms');
    rows.push(`| ${who} | ${r.config} | ${mode} | ${s(m.median_ms)} | ${s(m.min_ms)} – ${s(m.max_ms)} | ${m.n} | ${s(m.first_ms)} | ${m.finite === false ? 'NON-FINITE' : 'ok'} |`);
  }
}
console.log('| peer | config | mode | median | min – max | n | first (cold) | finite |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
