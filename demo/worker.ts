// The demo's engine, in a Web Worker: opens WebGPU, loads a checkpoint, segments images tile by tile, fine-tunes,
// saves safetensors and checks kernel families against the CPU reference. Everything comes from the package's
// browser entry ('unet-webgpu'); the page only draws.
import {
  adapterFingerprint,
  argmaxClasses,
  clearTuningInIndexedDB,
  checkpointMetadata,
  checkpointTensors,
  cpuDevice,
  createModel,
  decodeImage,
  defaultTile,
  disposeCheckpoint,
  encodePng,
  F,
  fit,
  GpuError,
  loadTuningFromIndexedDB,
  LimitError,
  manualSeed,
  modelSpecOf,
  nn,
  noGrad,
  normalizePage,
  openDevice,
  parseCheckpoint,
  planTiles,
  predictTiled,
  randn,
  saveTuningToIndexedDB,
  segDatasetFromFiles,
  segModelFromCheckpoint,
  setKernelPolicy,
  setTuning,
  tensor,
  tidy,
  tuneStep,
  UNet,
  withDevice,
  withKernelPolicy,
  type Device,
  type FamilyModel,
  type KernelPolicy,
  type SegCheckpointMeta,
  type Tensor,
  type TuningTable,
  type WebGpuDevice,
} from 'unet-webgpu';
import type { AdapterReport, CheckResult, ModelReport, Reply, Request, SegmentResult, TuningReport, WorkerEvent } from './protocol.js';

const post = (m: Reply | WorkerEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

let dev: WebGpuDevice | null = null;
let model: UNet | null = null;
let meta: SegCheckpointMeta | null = null;
let modelName = '';
let stopAsked = false;

const gpu = (): WebGpuDevice => {
  if (!dev) throw new Error('WebGPU is not open (init failed)');
  return dev;
};
const net = (): { model: UNet; meta: SegCheckpointMeta } => {
  if (!model || !meta) throw new Error('no checkpoint loaded');
  return { model, meta };
};

async function init(): Promise<AdapterReport> {
  dev = await openDevice();
  const a = dev.adapter!;
  // isFallbackAdapter is on the adapter's info (Chrome 121+); SwiftShader says so, and is a CPU rasteriser anyway.
  const info = (await navigator.gpu.requestAdapter())?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  const software = !!info?.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${a.vendor} ${a.architecture} ${a.description}`);
  return {
    vendor: a.vendor,
    architecture: a.architecture,
    description: a.description,
    features: [...a.features],
    subgroupMinSize: a.subgroupMinSize ?? null,
    subgroupMaxSize: a.subgroupMaxSize ?? null,
    maxBindingBytes: dev.limits.maxBindingBytes,
    software,
    convGflops: await convSpeed(dev),
    tuning: await loadTuning(dev),
  };
}

// ---- kernel tuning: measured per adapter, kept in IndexedDB ----
const tuningReport = (t: TuningTable | null, source: TuningReport['source'], storeError: string | null = null): TuningReport => ({
  source: t ? source : 'none',
  measuredAt: t?.measuredAt ?? null,
  entries: t ? Object.entries(t.entries).map(([key, e]) => ({ key, choice: e.choice, ms: { ...e.ms } })) : [],
  storeError,
});

/** This adapter's table from IndexedDB, applied to the device ('auto' then takes its measured choices). */
async function loadTuning(d: WebGpuDevice): Promise<TuningReport> {
  try {
    const t = await loadTuningFromIndexedDB(adapterFingerprint(d));
    setTuning(d, t);
    return tuningReport(t, 'cache');
  } catch (e) {
    return tuningReport(null, 'none', (e as Error).message);
  }
}

/**
 * Times the conv and matmul kernel candidates of the loaded architecture's steps on this adapter: a fine-tuning step
 * at the page's crop and batch and a segmentation forward at its tile (auto: the largest); applies and stores the
 * table.
 */
async function tune(r: Extract<Request, { kind: 'tune' }>): Promise<TuningReport> {
  const d = gpu();
  const { model: m } = net();
  const c = m.config;
  const tile = r.tile ?? defaultTile(c, d.limits);
  // The step is recorded with the rules' choices and each candidate timed on its own: the device's table meanwhile
  // does not matter (and stays if tuning fails).
  const t = await tuneStep(d, () => {
    const u = new UNet(c);
    u.train();
    u.forward(randn([r.batch, c.inChannels, r.crop, r.crop])).sum().backward();
    u.eval();
    noGrad(() => u.forward(randn([1, c.inChannels, tile, tile])));
  }, { reps: r.reps });
  setTuning(d, t);
  try {
    await saveTuningToIndexedDB(t);
    return tuningReport(t, 'measured');
  } catch (e) {
    return tuningReport(t, 'measured', (e as Error).message);
  }
}

async function untune(): Promise<TuningReport> {
  setTuning(gpu(), null);
  await clearTuningInIndexedDB();
  return tuningReport(null, 'none');
}

/** GFLOP/s of a 3x3 convolution, 8 -> 8 channels on 256 x 256 (one warm-up, then three timed). */
async function convSpeed(d: Device): Promise<number> {
  const x = randn([1, 8, 256, 256], { device: d });
  const w = randn([8, 8, 3, 3], { device: d });
  const run = () => tidy(() => F.conv2d(x, w, null, { padding: 1 }).sum());
  try {
    await run().item();
    const n = 3;
    const t0 = performance.now();
    const outs: Tensor[] = [];
    for (let i = 0; i < n; i++) outs.push(run());
    for (const o of outs) await o.item();
    const s = (performance.now() - t0) / 1000;
    outs.forEach((o) => o.dispose());
    return (2 * 8 * 8 * 9 * 256 * 256 * n) / s / 1e9;
  } finally {
    x.dispose();
    w.dispose();
  }
}

function load(name: string, bytes: ArrayBuffer): ModelReport {
  const file = nn.deserializeSafetensors(bytes, { device: gpu() });
  const ck = parseCheckpoint(file, name);
  let loaded;
  try {
    loaded = segModelFromCheckpoint(ck);
  } finally {
    disposeCheckpoint(ck);
  }
  if (!(loaded.model instanceof UNet)) {
    loaded.model.dispose();
    throw new Error(`${name} holds a '${loaded.meta.modelName}' model; this page runs U-Net checkpoints (unet, res-unet, trans-unet)`);
  }
  model?.dispose();
  model = loaded.model;
  meta = loaded.meta;
  modelName = name;
  const c = model.config;
  const params = model.parameters().reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const names = meta.data.classNames;
  const shown = c.classes === 1 ? 1 : c.classes - 1;
  return {
    name,
    width: c.width,
    depth: c.depth,
    padding: c.padding,
    bilinear: c.bilinear,
    inChannels: c.inChannels,
    classes: meta.data.classes,
    parameters: params,
    className: names?.[shown] ?? `class ${shown} (mask value ${meta.data.mapping.values[shown]})`,
    maxTile: defaultTile(c, gpu().limits),
  };
}

/** The image as RGBA bytes for a canvas (grey, or its first three channels). */
function displayRgba(img: { width: number; height: number; channels: number; data: Float32Array; maxValue: number }): Uint8ClampedArray {
  const n = img.width * img.height;
  const out = new Uint8ClampedArray(4 * n);
  const s = 255 / img.maxValue;
  const c3 = img.channels >= 3;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = img.data[(c3 ? c : 0) * n + i]! * s;
    out[4 * i + 3] = 255;
  }
  return out;
}

async function segment(name: string, bytes: ArrayBuffer, tileAsked: number | null, tta: boolean): Promise<SegmentResult> {
  const { model: m, meta: mt } = net();
  const d = gpu();
  const t0 = performance.now();
  const pages = decodeImage(new Uint8Array(bytes), name);
  const notes: string[] = [];
  if (pages.length > 1) notes.push(`${name} has ${pages.length} pages: segmenting the first`);
  let page = pages[0]!;
  if (m.config.inChannels === 1 && page.channels >= 3) {
    // A colour image for a grey model: its luminance (Rec. 601), as the page says.
    const n = page.width * page.height;
    const grey = new Float32Array(n);
    for (let i = 0; i < n; i++) grey[i] = 0.299 * page.data[i]! + 0.587 * page.data[n + i]! + 0.114 * page.data[2 * n + i]!;
    page = { ...page, channels: 1, data: grey };
    notes.push('a colour image for a one-channel model: segmenting its luminance');
  }
  const t1 = performance.now();
  const x = normalizePage(page, mt.data.normalization, m.config.inChannels, name);
  const t2 = performance.now();
  const largest = defaultTile(m.config, d.limits);
  let tile = tileAsked ?? largest;
  if (tile > largest) {
    notes.push(`tile ${tile} is more than this adapter takes in one forward (${largest}: ${(d.limits.maxBindingBytes / 2 ** 20).toFixed(0)} MiB bindings, 1 GiB per forward); using ${largest}`);
    tile = largest;
  }
  let probs: Float32Array | null = null;
  let plan = planTiles(m.config, page.height, page.width, d.limits, { tile });
  if (plan.tiles > 1) notes.push(`${page.width} x ${page.height} is larger than one ${plan.y.tileIn} x ${plan.x.tileIn} tile: ${plan.tiles} overlapping tiles, ${plan.batch} per forward`);
  // A tile the device refuses (a binding over its limit, out of memory) is retried at half the size.
  for (;;) {
    try {
      probs = await predictTiled(m, x, { tile, tta, onProgress: (done, total) => post({ event: 'progress', task: 'segment', done, total }) });
      break;
    } catch (e) {
      const smaller = Math.floor(tile / 2);
      if (!(e instanceof LimitError || e instanceof GpuError) || e.name === 'DeviceLostError' || smaller < 16) throw e;
      notes.push(`tile ${tile} was refused by the device (${(e as Error).message.slice(0, 160)}); retrying with ${smaller}`);
      tile = smaller;
      plan = planTiles(m.config, page.height, page.width, d.limits, { tile });
    }
  }
  const t3 = performance.now();
  const K = m.config.classes;
  const n = page.width * page.height;
  const shown = K === 1 ? probs : probs.slice((K - 1) * n, K * n);
  const values = mt.data.mapping.values;
  // Binary nets: class 1 where its probability > 0.5; K > 2: the most probable class.
  const labels = argmaxClasses(probs, K);
  const maskPng = encodePng({ width: page.width, height: page.height, channels: 1, data: Array.from(labels, (k) => values[k] ?? k) }, Math.max(...values) > 255 ? 16 : 8);
  const t4 = performance.now();
  return {
    width: page.width,
    height: page.height,
    probs: shown,
    rgba: displayRgba(page),
    maskPng,
    tile: plan.y.tileIn,
    tiles: plan.tiles,
    batch: plan.batch,
    timings: { decodeMs: t1 - t0, normalizeMs: t2 - t1, predictMs: t3 - t2, encodeMs: t4 - t3, totalMs: t4 - t0 },
    notes,
  };
}

async function finetune(r: Extract<Request, { kind: 'finetune' }>): Promise<{ losses: number[]; ms: number }> {
  const { model: m, meta: mt } = net();
  const bytesOf = (list: { name: string; bytes: ArrayBuffer }[]) => new Map(list.map((f) => [f.name, new Uint8Array(f.bytes)]));
  const ds = segDatasetFromFiles(bytesOf(r.images), bytesOf(r.masks), { values: mt.data.mapping.values });
  stopAsked = false;
  const t0 = performance.now();
  const losses: number[] = [];
  const res = await fit(
    m,
    { train: ds, normalization: mt.data.normalization },
    { steps: r.steps, lr: r.lr, crop: r.crop, batch: r.batch, logEvery: 1, augment: {}, seed: 0, store: null },
    {
      onStep: (s) => {
        losses.push(s.loss);
        post({ event: 'loss', step: s.step, loss: s.loss, ms: performance.now() - t0 });
        post({ event: 'progress', task: 'finetune', done: s.step, total: r.steps });
        return stopAsked ? 'stop' : undefined;
      },
    },
  );
  m.eval();
  return { losses: res.losses, ms: performance.now() - t0 };
}

async function save(): Promise<Uint8Array> {
  const { model: m, meta: mt } = net();
  const { train: _drop, ...rest } = mt;
  return nn.serializeSafetensors(checkpointTensors(m), checkpointMetadata({ ...rest, extra: { ...(mt.extra ?? {}), fineTunedFrom: modelName, savedBy: 'unet-webgpu demo' } }));
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
};
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/**
 * Sets the kernel policy (refused when the adapter cannot run a forced family), then compares conv2d forward and
 * both gradients, and the loaded U-Net's probabilities, with the CPU reference on the same values; restores the
 * previous policy afterwards.
 */
async function check(policy: Record<string, string>): Promise<CheckResult> {
  const d = gpu();
  const prev = setKernelPolicy(d, policy as Partial<KernelPolicy>);
  const cpu = cpuDevice();
  try {
    manualSeed(7);
    // Odd sizes; no ReLU in the conv check, and the U-Net's sigmoid is smooth: nothing sits on a kink.
    const xs = await randn([2, 5, 19, 23], { device: cpu }).toArray();
    const ws = await randn([7, 5, 3, 3], { device: cpu }).toArray();
    const gs = await randn([2, 7, 19, 23], { device: cpu }).toArray();
    const conv = async (on: Device) => {
      const x = tensor(xs, [2, 5, 19, 23], { device: on }).requiresGrad_();
      const w = tensor(ws, [7, 5, 3, 3], { device: on }).requiresGrad_();
      const g = tensor(gs, [2, 7, 19, 23], { device: on });
      const y = F.conv2d(x, w, null, { padding: 1 });
      const loss = F.mul(y, g).sum();
      loss.backward();
      const out = { y: await y.toArray(), gx: await x.grad!.toArray(), gw: await w.grad!.toArray() };
      for (const t of [x, w, g, y, loss]) t.dispose();
      return out;
    };
    const [a, b] = [await conv(d), await conv(cpu)];
    const { model: m } = net();
    // The U-Net on the CPU with the same weights (and batch-norm statistics), on a 32 x 32 input.
    const host: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(m.stateDict())) host[k] = tensor(await t.toArray(), t.shape, { device: cpu, dtype: t.dtype });
    // The same model (a TransUNet too: its state has more than a UNet's) rebuilt from its spec on the CPU.
    const spec = modelSpecOf(m);
    const cpuModel = withDevice(cpu, () => createModel(spec.name, spec.options as never));
    cpuModel.loadStateDict(host);
    cpuModel.eval();
    const s = 32;
    const xin = await randn([1, m.config.inChannels, s, s], { device: cpu }).toArray();
    const fwd = async (n2: FamilyModel, on: Device) => {
      const p = noGrad(() => tidy(() => F.sigmoid(n2.forward(tensor(xin, [1, m.config.inChannels, s, s], { device: on })))));
      return p.toArray().finally(() => p.dispose());
    };
    const pg = await fwd(m, d);
    const pc = await fwd(cpuModel, cpu);
    cpuModel.dispose();
    // linear [37, 44] x [28, 44]ᵀ + b and both gradients (a·bᵀ, a·b, aᵀ·b) with each matmul family forced: every
    // launch is encoded before the first await, so the policy holds for all of them.
    const mx = await randn([37, 44], { device: cpu }).toArray();
    const mw = await randn([28, 44], { device: cpu }).toArray();
    const mg = await randn([37, 28], { device: cpu }).toArray();
    const lin = async (on: Device) => {
      const x = tensor(mx, [37, 44], { device: on }).requiresGrad_();
      const w = tensor(mw, [28, 44], { device: on }).requiresGrad_();
      const y = F.linear(x, w);
      const loss = F.mul(y, tensor(mg, [37, 28], { device: on })).sum();
      loss.backward();
      const out = [...(await y.toArray()), ...(await x.grad!.toArray()), ...(await w.grad!.toArray())];
      for (const t of [x, w, y, loss]) t.dispose();
      return out;
    };
    const lc = await lin(cpu);
    const matmul: Record<string, number> = {};
    for (const v of ['portable', 'reg', 'vec4', 'tiled'] as const) matmul[v] = maxAbsDiff(await withKernelPolicy(d, { matmul: v }, () => lin(d)), lc);
    return {
      policy: { ...d.policy },
      convForward: maxAbsDiff(a.y, b.y),
      convInputGrad: maxAbsDiff(a.gx, b.gx),
      convWeightGrad: maxAbsDiff(a.gw, b.gw),
      unetForward: maxAbsDiff(pg, pc),
      matmul,
      scale: { convForward: maxAbs(b.y), convInputGrad: maxAbs(b.gx), convWeightGrad: maxAbs(b.gw), unetForward: maxAbs(pc), matmul: maxAbs(lc) },
    };
  } finally {
    d.policy = prev;
  }
}

self.onmessage = async (e: MessageEvent<Request & { id: number }>) => {
  const { id, ...r } = e.data;
  if (r.kind === 'stop') {
    stopAsked = true;
    post({ id, ok: true, result: null });
    return;
  }
  try {
    let result: unknown;
    const transfer: Transferable[] = [];
    if (r.kind === 'init') result = await init();
    else if (r.kind === 'load') result = load(r.name, r.bytes);
    else if (r.kind === 'segment') {
      const s = await segment(r.name, r.bytes, r.tile, r.tta);
      transfer.push(s.probs.buffer, s.rgba.buffer, s.maskPng.buffer);
      result = s;
    } else if (r.kind === 'finetune') result = await finetune(r);
    else if (r.kind === 'save') {
      const b = await save();
      transfer.push(b.buffer);
      result = b;
    } else if (r.kind === 'check') result = await check(r.policy);
    else if (r.kind === 'tune') result = await tune(r);
    else if (r.kind === 'untune') result = await untune();
    post({ id, ok: true, result }, transfer);
  } catch (err) {
    const x = err as Error;
    post({ id, ok: false, error: { name: x?.name ?? 'Error', message: x?.message ?? String(err) } });
  }
};
