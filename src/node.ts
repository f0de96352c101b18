/// <reference types="node" />
// unet-webgpu/node: WebGPU in Node through Dawn (the `webgpu` package), and loading edited shaders from disk.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { DeviceOptions } from './device.js';
import { SHADERS, type ShaderName } from './kernels/shaders.gen.js';
import { overrideShader, type ShaderFile } from './kernels/shader_source.js';
import { checkOpenOptions, openWebGpu, type OpenOptions } from './kernels/runtime/open.js';
import type { OptionKeys } from './core/options.js';
import { withUnquantizedTimestamps } from './kernels/runtime/profiler.js';
import type { WebGpuBackend } from './kernels/runtime/webgpu_backend.js';
import { setDefaultDevice } from './tensor/context.js';
import { ArgumentError, GpuUnavailableError } from './core/errors.js';
import { adapterFingerprint, setTuning, type TuningTable } from './kernels/tuning.js';
import type { Backend } from './kernels/backend.js';
import type { StateDict } from './nn/module.js';
import type { Tensor } from './tensor/tensor.js';
import { decodeImage, type RasterImage } from './data/image.js';
import { segDatasetFromFiles, type MaskOptions, type SegDataset } from './data/dataset.js';
import { checkpointMetadata, disposeCheckpoint, parseCheckpoint, segModelFromCheckpoint, type SegCheckpoint, type SegCheckpointMeta } from './seg/checkpoint.js';
import type { RunStore } from './seg/trainer.js';
import type { FamilyModel } from './unet/family/index.js';
import { deserializeSafetensors, serializeSafetensors, type SafetensorsFile, type SerializeOptions } from './nn/safetensors.js';

export * from './index.js';

const FIX =
  'In Node, run `npm run setup` (installs Mesa >= 25 lavapipe on Debian/Ubuntu), or install a Vulkan driver that Dawn accepts; ' +
  'Debian bookworm needs mesa-vulkan-drivers from bookworm-backports (Mesa 22 is refused by Dawn).';

export interface NodeDeviceOptions extends DeviceOptions {
  /** Dawn toggles passed to create(), e.g. ['enable-dawn-features=skip_validation'] (timestamp_quantization is always disabled unless named). */
  dawnFlags?: string[];
  /** Renice the JS main thread after the device exists (Dawn spin-waits while GPU work is pending). */
  niceMain?: number;
  /**
   * Load this adapter's tuning table from the cache (`kernels tune` writes it; default true, or false when
   * UNET_WEBGPU_TUNING=off): 'auto' then takes the measured kernel choices.
   */
  tuning?: boolean;
}

const NODE_KEYS: OptionKeys<Omit<NodeDeviceOptions, keyof OpenOptions>> = { setDefault: true, dawnFlags: true, niceMain: true, tuning: true };

/** Opens a WebGPU device through Dawn's node binding; `device.destroy()` lets Node exit. */
export async function openNodeDevice(opts: NodeDeviceOptions = {}): Promise<WebGpuBackend> {
  checkOpenOptions('openNodeDevice', opts, Object.keys(NODE_KEYS));
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  let create: (flags: string[]) => GPU;
  try {
    ({ create } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU });
  } catch (e) {
    throw new GpuUnavailableError(`openNodeDevice: cannot load Dawn's node binding (npm package 'webgpu'): ${(e as Error).message}. Run \`npm install webgpu@0.6.2\`.`);
  }
  // Unquantized timestamps: Dawn rounds them to 65.5 us by default (a browser guard), too coarse for the profiler.
  let gpu: GPU | null = create(withUnquantizedTimestamps(opts.dawnFlags ?? []));
  const dev = await openWebGpu(gpu, FIX, opts);
  // Dawn keeps Node's event loop alive while its instance is referenced: drop ours when the device goes.
  const destroy = dev.destroy.bind(dev);
  dev.destroy = async () => {
    await destroy();
    gpu = null;
  };
  if (opts.niceMain) os.setPriority(0, opts.niceMain);
  if (opts.tuning ?? process.env.UNET_WEBGPU_TUNING !== 'off') loadTuning(dev);
  if (opts.setDefault ?? true) setDefaultDevice(dev);
  return dev;
}

// ---- the per-machine cache: the kernel lab's peaks, the tuning tables ----

/** The folder of unet-webgpu's per-machine cache: $UNET_WEBGPU_CACHE_DIR, else ~/.cache/unet-webgpu. */
export function cacheDir(): string {
  return process.env.UNET_WEBGPU_CACHE_DIR || join(os.homedir(), '.cache', 'unet-webgpu');
}

/** The tuning tables of this machine by adapter fingerprint (cacheDir()/tuning.json). */
export interface TuningFile {
  version: 1;
  adapters: Record<string, TuningTable>;
}

export const tuningPath = (): string => join(cacheDir(), 'tuning.json');

/** The tuning file, or an empty one when it is missing; a file that is not one is an ArgumentError naming it. */
export function readTuningFile(path = tuningPath()): TuningFile {
  if (!existsSync(path)) return { version: 1, adapters: {} };
  let f: TuningFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as TuningFile;
  } catch (e) {
    throw new ArgumentError('tuning', `${path} is not JSON (${(e as Error).message}); remove it or run \`unet-webgpu kernels tune --reset\``);
  }
  if (f?.version !== 1 || typeof f.adapters !== 'object' || !f.adapters) {
    throw new ArgumentError('tuning', `${path} is not a tuning file (version 1 with adapters); remove it or run \`unet-webgpu kernels tune --reset\``);
  }
  return f;
}

/** Stores `table` under its fingerprint, keeping the other adapters' tables (writeAtomic). */
export async function writeTuningTable(table: TuningTable, path = tuningPath()): Promise<void> {
  const f = readTuningFile(path);
  f.adapters[table.fingerprint] = table;
  await mkdir(dirname(path), { recursive: true });
  await writeAtomic(path, `${JSON.stringify(f, null, 2)}\n`);
}

/** Sets this adapter's table from the cache on `dev`, if there is one; a broken file is reported on stderr and skipped. */
function loadTuning(dev: WebGpuBackend): void {
  try {
    const t = readTuningFile().adapters[adapterFingerprint(dev, process.env)];
    if (t) setTuning(dev, t);
  } catch (e) {
    process.stderr.write(`unet-webgpu: tuning table not loaded: ${(e as Error).message}\n`);
  }
}

/** Loads every `NAME.wgsl` in `dir` (and `dir/lib/NAME.wgsl`) over the embedded shader of that name (kernel edits without a rebuild). */
export function loadShaderDir(dir: string): ShaderFile[] {
  const loaded: ShaderFile[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.wgsl')) continue;
    const name = f.slice(0, -5);
    if (!(name in SHADERS)) throw new GpuUnavailableError(`loadShaderDir: ${join(dir, f)} matches no kernel shader (known: ${Object.keys(SHADERS).join(', ')})`);
    overrideShader(name as ShaderName, readFileSync(join(dir, f), 'utf8'));
    loaded.push(name as ShaderName);
  }
  // DIR/lib/*.wgsl (laid out as shaders/): an edited lib file reaches every kernel that includes it.
  const lib = join(dir, 'lib');
  for (const f of existsSync(lib) ? readdirSync(lib) : []) {
    if (!f.endsWith('.wgsl')) continue;
    const name = `lib/${f.slice(0, -5)}` as ShaderFile;
    overrideShader(name, readFileSync(join(lib, f), 'utf8'));
    loaded.push(name);
  }
  return loaded;
}

// Temporary files of saves: `.<name>.<pid>.<random>.tmp` beside the target. A killed save leaves one behind;
// the next save of the same target removes those whose writer is gone (no such pid, or our own pid but not
// one of our saves in flight: a restarted container reuses pids), and any not touched for STALE_MS (the pid
// may have been reused by another process). A live writer's fresh temp is left alone.
const STALE_MS = 30_000;
const inFlight = new Set<string>();

function writerGone(pid: number): boolean {
  if (pid === process.pid) return true; // callers skip our temps in flight
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function removeStaleTemps(path: string): Promise<void> {
  const folder = dirname(path);
  const escaped = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${escaped}\\.(\\d+)\\.[a-z0-9]+\\.tmp$`);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return; // no folder: the save itself will report it
  }
  const now = Date.now();
  await Promise.all(
    names.map(async (f) => {
      const m = pattern.exec(f);
      const tmp = join(folder, f);
      if (!m || inFlight.has(tmp)) return;
      let stale = writerGone(Number(m[1]));
      if (!stale) stale = await stat(tmp).then((st) => now - st.mtimeMs > STALE_MS, () => false);
      if (stale) await unlink(tmp).catch(() => {});
    }),
  );
}

/** A file-system error of a save, naming the final path (never the temporary file), keeping code and cause. */
function saveError(path: string, e: unknown, doing: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string') return e;
  const reason = String(err.message).split(', ')[0];
  return Object.assign(new Error(`saveSafetensors: cannot write ${path}: ${reason} (while ${doing})`, { cause: e }), {
    code: err.code,
    errno: err.errno,
    syscall: err.syscall,
    path,
  });
}

/**
 * Writes tensors to a safetensors file atomically: a temporary file in the same folder is written and
 * fsynced, then renamed over `path`, so a crash or an error leaves the old file (or none), never half a file.
 * Stale temporary files of earlier, killed saves of `path` are removed first; errors name `path`.
 */
export async function saveSafetensors(path: string, sd: StateDict | ReadonlyMap<string, Tensor>, metadata?: Record<string, string>, opts?: SerializeOptions): Promise<void> {
  await writeAtomic(path, await serializeSafetensors(sd, metadata, opts));
}

/**
 * Writes bytes or text to `path` through a fsynced temporary file in the same folder and a rename; stale temporary
 * files of earlier, killed writes of `path` are removed first; errors name `path`.
 */
export async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await removeStaleTemps(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  inFlight.add(tmp);
  try {
    let doing = 'creating its temporary file';
    let created = false;
    try {
      const fh = await open(tmp, 'wx');
      created = true;
      try {
        doing = 'writing its temporary file';
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      doing = 'renaming the temporary file over it';
      await rename(tmp, path);
    } catch (e) {
      if (created) await unlink(tmp).catch(() => {});
      throw saveError(path, e, doing);
    }
  } finally {
    inFlight.delete(tmp);
  }
  // Make the rename itself durable where the platform allows fsync on a directory.
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    /* best effort (not supported on every platform) */
  }
}

/** Reads a safetensors file into tensors on `device` (default: the default device) and its `__metadata__`. */
export async function loadSafetensors(path: string, opts: { device?: Backend } = {}): Promise<SafetensorsFile> {
  return deserializeSafetensors(await readFile(path), opts);
}

/** Reads a PNG, JPEG or TIFF file into its pages (every page of a TIFF stack); FormatError naming the file otherwise. */
export async function readImage(path: string): Promise<RasterImage[]> {
  return decodeImage(new Uint8Array(await readFile(path)), path);
}

const IMAGE_FILE = /\.(png|jpe?g|tiff?)$/i;

/** The PNG / JPEG / TIFF files of a folder (names relative to it). */
async function imageFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => IMAGE_FILE.test(f) && !f.startsWith('.'));
}

/**
 * A segmentation dataset from an images folder and a masks folder, paired by base name (every page of a TIFF
 * stack a sample); masks are checked (MaskError naming the file and the values found).
 */
export async function readSegDataset(imagesDir: string, masksDir: string, opts: MaskOptions = {}): Promise<SegDataset> {
  const read = async (dir: string) => new Map(await Promise.all((await imageFiles(dir)).map(async (f) => [join(dir, f), new Uint8Array(await readFile(join(dir, f)))] as const)));
  return segDatasetFromFiles(await read(imagesDir), await read(masksDir), opts);
}

/** A run folder as a RunStore (created if missing): checkpoints and the plot written atomically, the log appended. */
export async function runFolder(dir: string): Promise<RunStore> {
  await mkdir(dir, { recursive: true });
  return {
    saveTensors: (name, tensors, metadata) => saveSafetensors(join(dir, name), tensors, metadata),
    writeText: (name, text) => writeAtomic(join(dir, name), text),
    appendText: (name, text) => appendFile(join(dir, name), text),
  };
}

/** Writes a segmentation checkpoint (atomic). */
export async function saveCheckpoint(path: string, tensors: ReadonlyMap<string, Tensor>, meta: SegCheckpointMeta): Promise<void> {
  await saveSafetensors(path, tensors, checkpointMetadata(meta));
}

/** Reads a segmentation checkpoint (tensors on `device`, default the default device). */
export async function loadCheckpoint(path: string, opts: { device?: Backend } = {}): Promise<SegCheckpoint> {
  return parseCheckpoint(await loadSafetensors(path, opts), path);
}

/** The UNet of a checkpoint, weights loaded, in eval mode, with the metadata predict needs (normalisation, classes, mask values). */
export async function loadSegModel(path: string, opts: { device?: Backend; stripPrefixes?: boolean | readonly string[] } = {}): Promise<{ model: FamilyModel; meta: SegCheckpointMeta }> {
  const { stripPrefixes, ...load } = opts;
  const ck = await loadCheckpoint(path, load);
  try {
    return segModelFromCheckpoint(ck, stripPrefixes === undefined ? undefined : { stripPrefixes });
  } finally {
    disposeCheckpoint(ck);
  }
}
