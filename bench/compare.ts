// npm run bench:compare -- --config a [--procs 2] [--modes fwd,train] [--reps 3] [--warmup 1] [--peers torch,tfjs,jax]
// Runs our engine and the peers one process at a time, interleaved (rotating the order each round), every
// WebGPU process with its JS main thread reniced (--nice-main 19) so Dawn's spin-wait is equal for all;
// then prints one markdown table of medians with ratios against unet-webgpu. Raw lines go to results/.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const peersDir = join(root, 'bench', 'peers');
const { values: v } = parseArgs({
  options: {
    config: { type: 'string', default: 'a' },
    procs: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'fwd,fwd_eval,train' },
    reps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    peers: { type: 'string', default: 'torch,tfjs,jax' },
    'nice-main': { type: 'string', default: '19' },
    'timeout-s': { type: 'string', default: '1500' },
    'budget-s': { type: 'string', default: '170' },
    out: { type: 'string' },
  },
});
const log = (m: string) => process.stderr.write(`[compare] ${m}\n`);
// One file per run: the configs and the start time to the second (two runs in one minute once shared a file).
const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 17);
const outFile = v.out ?? join(root, 'results', `compare-${v.config.replace(/,/g, '+')}-${stamp}.jsonl`);
mkdirSync(dirname(outFile), { recursive: true });

if (v.peers.includes('tfjs') || v.peers.includes('jax')) {
  if (!existsSync(join(peersDir, 'node_modules', '@tensorflow', 'tfjs'))) {
    log('installing the peers harness packages (npm ci in bench/peers)');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peersDir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

type Engine = { name: string; cmd: string; args: (config: string) => string[] };
const common = (modes: string) => ['--modes', modes, '--reps', v.reps, '--warmup', v.warmup, '--budget-s', v['budget-s']];
const nice = ['--nice-main', v['nice-main']];
const jaxModes = v.modes.split(',').filter((m) => m !== 'fwd_eval').join(',');
const engines: Engine[] = [{ name: 'unet-webgpu', cmd: 'node', args: (c) => [join(root, 'bin', 'unet-webgpu.mjs'), 'bench', '--config', c, ...common(v.modes), ...nice] }];
if (v.peers.includes('torch')) {
  if (hasTorch) engines.push({ name: 'torch', cmd: '/usr/bin/python3', args: (c) => [join(peersDir, 'torch_unet.py'), '--config', c, ...common(v.modes)] });
  else log('PyTorch not found in /usr/bin/python3 (apt-get install python3-torch): skipping the torch peer');
}
if (v.peers.includes('tfjs')) engines.push({ name: 'tfjs', cmd: 'node', args: (c) => [join(peersDir, 'bench.mjs'), '--config', c, ...common(v.modes), ...nice] });
if (v.peers.includes('jax') && jaxModes) engines.push({ name: 'jax-js', cmd: 'node', args: (c) => [join(peersDir, 'bench.mjs'), '--config', c, '--backend', 'jax-webgpu', ...common(jaxModes), ...nice] });

interface Line { peer?: string; config?: string; modes?: Record<string, { median_ms: number }>; error?: string }
const results: { engine: string; config: string; line: Line }[] = [];
const configs = v.config.split(',');
const procs = +v.procs;
for (let round = 0; round < procs; round++) {
  for (const config of configs) {
    const order = engines.map((_, i) => engines[(i + round) % engines.length]!);
    for (const e of order) {
      log(`round ${round + 1}/${procs} config ${config}: ${e.name}`);
      const r = spawnSync(e.cmd, e.args(config), {
        cwd: root,
        encoding: 'utf8',
        timeout: +v['timeout-s'] * 1000,
        env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
        maxBuffer: 64 * 2 ** 20,
      });
      const last = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
      let line: Line = { error: `exit ${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ''}` };
      if (last) {
        try {
          line = JSON.parse(last) as Line;
        } catch {}
      }
      appendFileSync(outFile, JSON.stringify({ engine: e.name, round, ...line }) + '\n');
      results.push({ engine: e.name, config, line });
      if (line.error) log(`${e.name} ${config}: ${line.error}`);
    }
  }
}

const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number) => (ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 100 ? 1 : 0)} ms`);
let adapter = '';
try {
  adapter = JSON.parse(execFileSync('node', [join(root, 'scripts', 'probe_gpu.mjs')], { encoding: 'utf8' })).description ?? '';
} catch {}
const lines = [
  `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, WebGPU: ${adapter || 'n/a'}`,
  `command: npm run bench:compare -- ${process.argv.slice(2).join(' ')}   (${procs} process(es) per engine, interleaved; medians of the per-process medians, range = min-max of those)`,
  '',
  '| config | mode | engine | median | range | vs unet-webgpu |',
  '|---|---|---|---|---|---|',
];
for (const config of configs) {
  for (const mode of v.modes.split(',')) {
    const ours = results.filter((r) => r.engine === 'unet-webgpu' && r.config === config).map((r) => r.line.modes?.[mode]?.median_ms).filter((x): x is number => x !== undefined);
    const oursMed = ours.length ? med(ours) : NaN;
    for (const e of engines) {
      const xs = results.filter((r) => r.engine === e.name && r.config === config).map((r) => r.line.modes?.[mode]?.median_ms).filter((x): x is number => x !== undefined);
      if (!xs.length) continue;
      const m = med(xs);
      const ratio = e.name === 'unet-webgpu' ? '1' : !Number.isFinite(oursMed) ? '?' : m >= oursMed ? `${(m / oursMed).toFixed(2)}x slower` : `${(oursMed / m).toFixed(2)}x faster`;
      lines.push(`| ${config} | ${mode} | ${e.name} | ${fmt(m)} | ${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))} | ${ratio} |`);
    }
  }
}
console.log(lines.join('\n'));
log(`raw JSON lines: ${outFile}`);
