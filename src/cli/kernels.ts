/// <reference types="node" />
// `unet-webgpu kernels list | check | bench | peak | tune`: the kernel lab (bench/KERNEL_LAB.md documents the output).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Constants, KernelSpec } from '../kernels/define_kernel.js';
import { KERNELS } from '../kernels/index.js';
import type { WebGpuBackend } from '../kernels/runtime/webgpu_backend.js';
import { cacheDir, loadShaderDir, openNodeDevice, readTuningFile, tuningPath, writeAtomic, writeTuningTable } from '../node.js';
import { ArgumentError } from '../core/errors.js';
import { CONFIGS, type ConfigName } from '../unet/configs.js';
import { choiceFlag, intFlag } from './args.js';
import { checkKernel } from '../bench/lab/check.js';
import { adapterFingerprint, measurePeak, type Peak } from '../bench/lab/peak.js';
import { describeLaunch, distinctLaunches, modelStep, recordCases, recordModel, recordShape, selectKernels } from '../bench/lab/record.js';
import { benchSpec, timeLaunch } from '../bench/lab/time.js';
import { tuneStep } from '../bench/lab/tune.js';
import { modelFlag } from './model_flag.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const exp = (x: number) => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : String(x));

/** `K=V,...` into constants: true / false become booleans, the rest numbers. */
export function parseConstants(s: string | undefined): Constants {
  const out: Constants = {};
  for (const kv of (s ?? '').split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new ArgumentError('kernels', `--constants: '${kv}' is not K=V`);
    if (v === 'true' || v === 'false') out[k] = v === 'true';
    else if (Number.isFinite(+v)) out[k] = +v;
    else throw new ArgumentError('kernels', `--constants: '${kv}' needs a number or true/false`);
  }
  return out;
}

/**
 * --constants of `cmd` for `specs`: they are applied to every one of them, so each name must be an override constant of
 * each (a typo would otherwise reach the pipeline as a validation error far from the flag).
 */
function checkConstantNames(cmd: string, specs: readonly KernelSpec[], constants: Constants): void {
  for (const k of Object.keys(constants)) {
    const lacking = specs.filter((s) => !Object.hasOwn(s.constants, k));
    if (!lacking.length) continue;
    const which = lacking.slice(0, 3).map((s) => `${s.name} (${Object.keys(s.constants).join(', ') || 'none'})`).join(', ');
    throw new ArgumentError(cmd, `--constants ${k}: not a constant of ${which}${lacking.length > 3 ? ` and ${lacking.length - 3} more` : ''}`);
  }
}

async function openDevice(shaders: string | undefined, niceMain = 0): Promise<WebGpuBackend> {
  if (shaders) log(`loaded shaders from ${shaders}: ${loadShaderDir(shaders).join(', ') || '(none)'}`);
  return openNodeDevice({ setDefault: false, niceMain });
}

/**
 * The --nice-main flag of the measuring subcommands: Dawn's node binding spin-waits on the JS thread while the GPU
 * works, so on lavapipe (whose workers share the CPU with it) timings are only comparable with it reniced (19).
 */
const NICE_MAIN = { 'nice-main': { type: 'string', default: '0' } } as const;
const niceMainOf = (cmd: string, v: { 'nice-main': string }) => intFlag(cmd, 'nice-main', v['nice-main'], -20, 19);

// ---------------------------------------------------------------------------------------------------------------
// list

const fields = (o: Readonly<Record<string, string>>) => Object.entries(o).map(([k, t]) => `${k}:${t}`).join(' ') || '-';
const fmtConstants = (c: Constants) => Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ') || '-';

function listCmd(argv: string[]): void {
  const { values: v, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  const specs = selectKernels(positionals);
  const all = Object.values(KERNELS as Record<string, KernelSpec>);
  for (const k of specs) {
    const variants = k.family ? all.filter((o) => o.family === k.family).map((o) => o.name) : [];
    if (v.json) {
      console.log(JSON.stringify({
        kernel: k.name, group: k.group ?? null, family: k.family ?? null, variants, shader: `shaders/${k.shader}.wgsl`,
        description: k.description, reads: k.reads, writes: k.writes, in_place: k.inPlace ?? [], params: k.params, constants: k.constants,
        slots: k.slots ?? null, cost: !!k.cost, constant_variants: k.labConstants ?? [],
      }));
      continue;
    }
    const fam = k.family ? `family ${k.family} (${variants.length} variant${variants.length === 1 ? '' : 's'}: ${variants.join(', ')})` : 'no family';
    console.log(`${k.name}  ${fam}  shaders/${k.shader}.wgsl  group ${k.group ?? '-'}${k.cost ? '' : '  [no cost model]'}`);
    console.log(`  computes   ${k.description}`);
    console.log(`  reads      ${fields(k.reads)}`);
    console.log(`  writes     ${fields(k.writes)}${k.inPlace?.length ? `  (in place: ${k.inPlace.join(' ')})` : ''}`);
    console.log(`  params     ${fields(k.params)}`);
    console.log(`  constants  ${fmtConstants(k.constants)}`);
    if (k.slots) console.log(`  slots      ${Object.entries(k.slots).map(([s, e]) => `${s} = ${e}`).join('; ')}`);
    if (k.labConstants) console.log(`  checked    with the ops' constants and ${k.labConstants.map(fmtConstants).join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// check

async function checkCmd(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      shaders: { type: 'string' },
      seed: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '2' },
      'max-cases': { type: 'string', default: '4' },
      constants: { type: 'string' },
      strict: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const specs = selectKernels(positionals);
  const constants = parseConstants(v.constants);
  checkConstantNames('kernels check', specs, constants);
  const seed = intFlag('kernels check', 'seed', v.seed, 0);
  const cases = recordCases(specs, seed, intFlag('kernels check', 'rounds', v.rounds), intFlag('kernels check', 'max-cases', v['max-cases']));
  const dev = await openDevice(v.shaders);
  let fail = 0;
  let noCase = 0;
  try {
    if (!v.json) {
      console.log(`kernels check: ${specs.length} kernel(s) on ${dev.description} (seed ${seed})`);
      console.log(`${'KERNEL'.padEnd(34)} ${'CASES'.padStart(5)}  ${'MAX_ABS'.padStart(8)}  ${'MAX_REL'.padStart(8)}  RESULT  VARIANTS`);
    }
    for (const spec of specs) {
      const r = await checkKernel(dev, spec, cases.get(spec.name) ?? [], constants, seed);
      const result = r.noCases ? 'NOCASE' : r.ok ? 'PASS' : 'FAIL';
      if (result === 'FAIL') fail++;
      if (result === 'NOCASE') noCase++;
      if (v.json) {
        console.log(JSON.stringify({ kernel: r.kernel, cases: r.cases, max_abs: r.maxAbs, max_rel: r.maxRel, result, variants: r.variants, error: r.error ?? null,
          failures: r.failures.slice(0, 3).map((f) => ({ write: f.write, detail: f.detail, constants: f.constants, params: f.params })) }));
        continue;
      }
      console.log(`${r.kernel.padEnd(34)} ${String(r.cases).padStart(5)}  ${exp(r.maxAbs).padStart(8)}  ${exp(r.maxRel).padStart(8)}  ${result.padEnd(6)}  ${r.noCases ? '' : r.variants.join(' ')}`);
      if (r.error) console.log(`    error: ${r.error.split('\n')[0]!.slice(0, 400)}`);
      for (const f of r.failures.slice(0, 2)) {
        console.log(`    ${f.write}${f.detail}  constants ${fmtConstants(f.constants)}  params ${JSON.stringify(f.params)}`);
      }
    }
  } finally {
    await dev.destroy();
  }
  const pass = specs.length - fail - noCase;
  if (!v.json) console.log(`summary: ${pass} PASS, ${fail} FAIL, ${noCase} NOCASE`);
  if (fail || (v.strict && noCase)) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------------------------
// peak


interface PeakFile {
  version: 1;
  adapters: Record<string, Peak>;
}

function readPeaks(path: string): PeakFile {
  try {
    const f = JSON.parse(readFileSync(path, 'utf8')) as PeakFile;
    if (f.version === 1 && f.adapters && typeof f.adapters === 'object') return f;
  } catch {
    /* missing or unreadable: start afresh */
  }
  return { version: 1, adapters: {} };
}

/** This adapter's peak from the cache (peaks.json, keyed by adapter fingerprint), measured and stored when absent or `remeasure`. */
export async function adapterPeak(dev: WebGpuBackend, remeasure: boolean): Promise<{ peak: Peak; cached: boolean; path: string; fingerprint: string }> {
  const path = join(cacheDir(), 'peaks.json');
  const fingerprint = adapterFingerprint(dev, process.env);
  const file = readPeaks(path);
  const hit = file.adapters[fingerprint];
  if (hit && !remeasure) return { peak: hit, cached: true, path, fingerprint };
  log(`measuring this adapter's peak (lab_peak_fma, lab_peak_copy); cached in ${path}`);
  const peak = await measurePeak(dev, { log: (s) => log(`  ${s}`) });
  const fresh = readPeaks(path);
  fresh.adapters[fingerprint] = peak;
  mkdirSync(dirname(path), { recursive: true });
  await writeAtomic(path, `${JSON.stringify(fresh, null, 2)}\n`);
  return { peak, cached: false, path, fingerprint };
}

async function peakCmd(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: { remeasure: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, ...NICE_MAIN } });
  const dev = await openDevice(undefined, niceMainOf('kernels peak', v));
  try {
    const { peak, cached, path, fingerprint } = await adapterPeak(dev, v.remeasure);
    if (v.json) return console.log(JSON.stringify({ fingerprint, cached, path, ...peak }));
    console.log(`adapter      ${fingerprint}`);
    console.log(`peak         ${peak.gflops.toFixed(1)} GFLOP/s (lab_peak_fma: ${Object.entries(peak.fma).map(([k, x]) => `${k} ${x.toFixed(1)}`).join(', ')})`);
    console.log(`bandwidth    ${peak.gbps.toFixed(2)} GB/s (lab_peak_copy over ${peak.copy_mb} MiB, read + write)`);
    console.log(`measured     ${peak.measured_at} (${peak.source}, median of ${peak.reps}) ${cached ? 'from the cache' : 'now'}: ${path}`);
  } finally {
    await dev.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// bench

async function benchCmd(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      variant: { type: 'string' },
      constants: { type: 'string' },
      shape: { type: 'string', multiple: true },
      config: { type: 'string', default: 'c' },
      reps: { type: 'string', default: '3' },
      shaders: { type: 'string' },
      remeasure: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'max-shapes': { type: 'string', default: '1000' },
      ...NICE_MAIN,
    },
  });
  const [name, ...extra] = positionals;
  if (!name || extra.length) throw new ArgumentError('kernels bench', 'usage: kernels bench <kernel> [--variant v] [--constants K=V,...] [--shape NxCxHxW[:k=v,...]] [--config a|b|c|isbi] [--reps N] [--json]');
  const spec = benchSpec(name, v.variant);
  const constants = parseConstants(v.constants);
  checkConstantNames('kernels bench', [spec], constants);
  const reps = intFlag('kernels bench', 'reps', v.reps);
  const dev = await openDevice(v.shaders, niceMainOf('kernels bench', v));
  try {
    const { peak } = await adapterPeak(dev, v.remeasure);
    const launches = v.shape?.length ? v.shape.flatMap((s) => recordShape(name, s, dev.limits, dev.adapter)) : recordModel(choiceFlag<ConfigName>('kernels bench', 'config', v.config, CONFIGS), dev.limits, dev.adapter);
    const shapes = distinctLaunches(launches, name).slice(0, intFlag('kernels bench', 'max-shapes', v['max-shapes']));
    if (!shapes.length) throw new ArgumentError('kernels bench', `${name} is not launched by ${v.shape?.length ? `--shape ${v.shape.join(' ')}` : `a training step of config ${v.config}`}`);
    const where = v.shape?.length ? `--shape ${v.shape.join(' ')}` : `config ${v.config} training step`;
    // A variant runs with the recorded launches' constants it declares (timeLaunch); these it does not.
    const dropped = [...new Set(shapes.flatMap(({ launch }) => Object.keys(launch.constants).filter((k) => !Object.hasOwn(spec.constants, k))))].sort();
    const label = `${spec.name}${spec.name !== name ? ` (on ${name}'s launches)` : ''}${Object.keys(constants).length ? ` [${fmtConstants(constants)}]` : ''}`;
    if (!v.json) {
      console.log(`kernels bench ${label}: ${shapes.length} shape(s) from ${where}, ${reps} rep(s), on ${dev.description}`);
      console.log(`peak ${peak.gflops.toFixed(1)} GFLOP/s, ${peak.gbps.toFixed(2)} GB/s (lab_peak_fma / lab_peak_copy, ${peak.measured_at.slice(0, 10)})`);
      if (dropped.length) console.log(`not applied: the recorded launches' ${dropped.join(', ')} (${spec.name} declares none of them)`);
      console.log(`${'SHAPE'.padEnd(44)} ${'CALLS'.padStart(5)} ${'MEDIAN_MS'.padStart(10)} ${'GFLOP/S'.padStart(8)} ${'GB/S'.padStart(7)} ${'%PEAK_FLOP'.padStart(10)} ${'%PEAK_BW'.padStart(8)}`);
    }
    let totalMs = 0;
    let source = '';
    for (const { launch, calls } of shapes) {
      const t = await timeLaunch(dev, spec, launch, constants, reps);
      const gflops = t.flops / t.median_ms / 1e6;
      const gbps = t.bytes / t.median_ms / 1e6;
      const row = {
        kernel: spec.name, shape: describeLaunch(launch), calls, median_ms: t.median_ms, min_ms: t.min_ms, gflops, gbps,
        pct_peak_flops: (100 * gflops) / peak.gflops, pct_peak_bw: (100 * gbps) / peak.gbps,
      };
      totalMs += calls * t.median_ms;
      source = t.source;
      if (v.json) {
        console.log(JSON.stringify({
          ...row, recorded_kernel: name, constants: t.constants, not_applied: dropped, params: launch.params, reps, samples_ms: t.samples,
          flops: t.flops, bytes: t.bytes, source: t.source, peak_gflops: peak.gflops, peak_gbps: peak.gbps, adapter: dev.description, from: where,
        }));
      } else {
        const pct = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)}%` : '-');
        console.log(
          `${row.shape.padEnd(44)} ${String(calls).padStart(5)} ${t.median_ms.toFixed(2).padStart(10)} ${gflops.toFixed(2).padStart(8)} ${gbps.toFixed(2).padStart(7)} ${pct(row.pct_peak_flops).padStart(10)} ${pct(row.pct_peak_bw).padStart(8)}`,
        );
      }
    }
    if (!v.json) console.log(`total ${totalMs.toFixed(1)} ms per step over these shapes (median x calls; ${source})`);
  } finally {
    await dev.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// tune

async function tuneCmd(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'trans-unet' },
      config: { type: 'string', default: 'a' },
      reps: { type: 'string', default: '5' },
      print: { type: 'boolean', default: false },
      reset: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...NICE_MAIN,
    },
  });
  const path = tuningPath();
  if (v.reset) {
    const had = existsSync(path);
    rmSync(path, { force: true });
    return console.log(had ? `removed ${path}` : `no tuning table at ${path}`);
  }
  if (v.print) {
    const f = readTuningFile(path);
    if (v.json) return console.log(JSON.stringify({ path, ...f }));
    const adapters = Object.values(f.adapters);
    console.log(adapters.length ? `${path}: ${adapters.length} adapter(s)` : `no tuning table at ${path} (run: unet-webgpu kernels tune)`);
    for (const t of adapters) {
      console.log(`\nadapter ${t.fingerprint}\nmeasured ${t.measuredAt}`);
      for (const [key, e] of Object.entries(t.entries)) console.log(`  ${key.padEnd(44)} -> ${e.choice.padEnd(8)} ${Object.entries(e.ms).map(([c, ms]) => `${c} ${ms.toFixed(3)}`).join('  ')} ms`);
    }
    return;
  }
  const model = modelFlag('kernels tune', v.model);
  const config = choiceFlag<ConfigName>('kernels tune', 'config', v.config, CONFIGS);
  const reps = intFlag('kernels tune', 'reps', v.reps);
  // The table being measured must not steer the recording: open without the cached one.
  const dev = await openNodeDevice({ setDefault: false, tuning: false, niceMain: niceMainOf('kernels tune', v) });
  try {
    if (!v.json) console.log(`kernels tune: matmul and direct-conv buckets of a ${model} config ${config} training step, ${reps} rep(s) each, on ${dev.description} (GPU ms, median (min-max))`);
    const table = await tuneStep(dev, () => modelStep(config, model), { reps, env: process.env, log: v.json ? () => {} : (s) => console.log(`  ${s}`) });
    const { fingerprint, entries } = table;
    await writeTuningTable(table, path);
    if (v.json) console.log(JSON.stringify({ path, fingerprint, model, config, reps, entries }));
    else console.log(`wrote ${Object.keys(entries).length} bucket(s) for this adapter to ${path}; 'auto' takes them on every device opened here (UNET_WEBGPU_TUNING=off: not)`);
  } finally {
    await dev.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------

const SUB: Record<string, [(argv: string[]) => Promise<void> | void, string]> = {
  list: [listCmd, 'every kernel: family and variants, shader, reads / writes, params, constants [name|family ...] [--json]'],
  check: [checkCmd, 'kernels vs their CPU references on recorded random cases [name|family ...] [--shaders dir --seed N --constants K=V --strict --json]'],
  bench: [benchCmd, 'time one kernel over the U-Net step\'s shapes: <kernel> [--config c --shape NxCxHxW[:k=v] --variant v --constants K=V --reps N --nice-main 19 --json --shaders dir]'],
  peak: [peakCmd, "this adapter's measured FMA / copy peak (cached per adapter) [--remeasure --nice-main 19 --json]"],
  tune: [tuneCmd, "measure the matmul and direct-conv kernel choices of a model's step on this adapter, cached for 'auto' [--model trans-unet --config a --reps 5 --nice-main 19 --print --reset --json]"],
};

/** `unet-webgpu kernels <list|check|bench|peak|tune> ...` */
export async function kernelsCmd(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const entry = sub ? SUB[sub] : undefined;
  if (!entry) {
    console.log('usage: unet-webgpu kernels <subcommand> [flags]\n');
    for (const [n, [, doc]] of Object.entries(SUB)) console.log(`  ${n.padEnd(6)} ${doc}`);
    if (sub && sub !== 'help' && sub !== '--help') process.exitCode = 2;
    return;
  }
  await entry[0](rest);
}
