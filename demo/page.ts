// The demo page: UI only. The engine runs in worker.ts (a module Web Worker), so tiling and training never block
// the page. State for tests and curious users is on window.__demo.
import type { AdapterReport, CheckResult, ModelReport, Reply, Request, SegmentResult, TuningReport, WorkerEvent } from './protocol.js';

const DEFAULT_CKPT = 'models/isbi-w8.safetensors';
const EXAMPLE_IMAGE = 'examples/isbi2012/images/0.png';
const EXAMPLE_TRAIN = [0, 1, 2, 3];

interface DemoState {
  phase: 'init' | 'ready' | 'error';
  busy: string | null;
  adapter: AdapterReport | null;
  model: ModelReport | null;
  error: string | null;
  segment: (Omit<SegmentResult, 'rgba' | 'maskPng'> & { name: string }) | null;
  segments: number;
  fineTune: { losses: number[]; ms: number; done: boolean; error: string | null } | null;
  check: { result: CheckResult | null; error: string | null } | null;
  tuning: TuningReport | null;
  saved: number | null;
  messages: string[];
}
const state: DemoState = { phase: 'init', busy: null, adapter: null, model: null, error: null, segment: null, segments: 0, fineTune: null, check: null, tuning: null, saved: null, messages: [] };
(window as unknown as { __demo: DemoState }).__demo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const setStatus = (text: string, kind: '' | 'warn' | 'error' = '') => {
  status.textContent = text;
  status.className = `status ${kind}`;
};

// The worker and its request / reply protocol.
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
worker.onmessage = (e: MessageEvent<Reply | WorkerEvent>) => {
  const m = e.data;
  if ('event' in m) return onEvent(m);
  const w = waiting.get(m.id);
  waiting.delete(m.id);
  if (!w) return;
  if (m.ok) w.resolve(m.result);
  else w.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
};
worker.onerror = (e) => fail(`the worker failed: ${e.message}`);
function call<T>(r: Request, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, ...r }, transfer);
  });
}

const segProgress = $<HTMLProgressElement>('seg-progress');
const ftProgress = $<HTMLProgressElement>('ft-progress');
function onEvent(ev: WorkerEvent): void {
  if (ev.event === 'progress') {
    const bar = ev.task === 'segment' ? segProgress : ftProgress;
    bar.max = ev.total;
    bar.value = ev.done;
  } else if (ev.event === 'loss') {
    state.fineTune?.losses.push(ev.loss);
    drawLoss();
    $('ft-info').textContent = `step ${ev.step}: loss ${ev.loss.toFixed(4)} (${(ev.ms / ev.step).toFixed(0)} ms/step)`;
  }
}

function fail(message: string): void {
  state.messages.push(message);
  setStatus(message, 'error');
}

const fetchBytes = async (url: string): Promise<ArrayBuffer> => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
};

// Buttons are enabled only while nothing runs in the worker (it does one thing at a time).
const actionButtons = ['segment', 'ft-start', 'ft-save', 'check', 'use-example', 'tune', 'untune'];
function setBusy(what: string | null): void {
  state.busy = what;
  for (const id of actionButtons) $<HTMLButtonElement>(id).disabled = what !== null || state.phase !== 'ready' || (id === 'ft-save' && !state.fineTune?.done);
  $<HTMLButtonElement>('ft-stop').disabled = what !== 'finetune';
}
async function busy<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  setBusy(what);
  try {
    return await fn();
  } catch (e) {
    fail(`${what}: ${(e as Error).message}`);
    return undefined;
  } finally {
    setBusy(null);
  }
}

function adapterLine(a: AdapterReport): string {
  const name = [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ');
  const sg = a.subgroupMinSize ? `, subgroups of ${a.subgroupMinSize}${a.subgroupMaxSize !== a.subgroupMinSize ? `-${a.subgroupMaxSize}` : ''} lanes` : ', no subgroups';
  return `WebGPU adapter: ${name}${sg}, ${a.maxBindingBytes >= 2 ** 30 ? `${(a.maxBindingBytes / 2 ** 30).toFixed(0)} GiB` : `${(a.maxBindingBytes / 2 ** 20).toFixed(0)} MiB`} bindings, 3x3 conv ${a.convGflops.toFixed(1)} GFLOP/s`;
}

async function loadCheckpoint(name: string, bytes: ArrayBuffer): Promise<void> {
  const m = await call<ModelReport>({ kind: 'load', name, bytes }, [bytes]);
  state.model = m;
  state.fineTune = null;
  $('model-info').textContent = `${m.name}: U-Net width ${m.width}, depth ${m.depth}, ${m.padding}${m.bilinear ? ', bilinear' : ''}, ${m.parameters.toLocaleString('en')} parameters; shows ${m.className}; largest tile here ${m.maxTile}`;
}

async function start(): Promise<void> {
  if (!('gpu' in navigator)) {
    state.phase = 'error';
    state.error = 'no-webgpu';
    setStatus('This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113+, or Chromium with --enable-unsafe-webgpu; Firefox Nightly and Safari 18+ behind their WebGPU flags.', 'error');
    return;
  }
  try {
    const a = await call<AdapterReport>({ kind: 'init' });
    state.adapter = a;
    if (a.software) {
      setStatus(`${adapterLine(a)}. This is a software (CPU) fallback adapter, not your GPU: everything works, slowly (a real GPU is 10-100x faster). Enable hardware acceleration or use a browser with GPU WebGPU for speed.`, 'warn');
    } else setStatus(adapterLine(a));
    showTuning(a.tuning);
    await loadCheckpoint(DEFAULT_CKPT, await fetchBytes(DEFAULT_CKPT));
    state.phase = 'ready';
  } catch (e) {
    state.phase = 'error';
    state.error = (e as Error).message;
    fail(`WebGPU could not start: ${(e as Error).message}`);
  }
  setBusy(null);
}

// ---- segmentation ----
let current: { name: string; bytes: ArrayBuffer } | null = null;
let lastMask: { png: Uint8Array; name: string } | null = null;

function pickImage(name: string, bytes: ArrayBuffer): void {
  current = { name, bytes };
  $('seg-notes').textContent = `${name} (${(bytes.byteLength / 1024).toFixed(0)} KB) ready`;
}

async function segment(): Promise<void> {
  if (!current) pickImage(EXAMPLE_IMAGE, await fetchBytes(EXAMPLE_IMAGE));
  const { name, bytes } = current!;
  const tileSel = $<HTMLSelectElement>('tile').value;
  segProgress.value = 0;
  const t0 = performance.now();
  const r = await call<SegmentResult>({ kind: 'segment', name, bytes: bytes.slice(0), tile: tileSel ? Number(tileSel) : null, tta: $<HTMLInputElement>('tta').checked });
  const roundTrip = performance.now() - t0;
  draw(r);
  lastMask = { png: r.maskPng, name: name.replace(/^.*\//, '').replace(/\.[^.]+$/, '') + '_mask.png' };
  $<HTMLButtonElement>('download-mask').disabled = false;
  const { rgba: _r, maskPng: _m, ...rest } = r;
  state.segment = { ...rest, name };
  state.segments++;
  $('seg-notes').textContent = r.notes.join('; ');
  const t = r.timings;
  const rows: [string, number][] = [['decode', t.decodeMs], ['normalise', t.normalizeMs], [`predict (${r.tiles} tile${r.tiles > 1 ? 's' : ''} of ${r.tile}, ${r.batch} per forward)`, t.predictMs], ['mask PNG', t.encodeMs], ['worker total', t.totalMs], ['page round trip', roundTrip]];
  $('timings').innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(0)} ms</td></tr>`).join('') + `<tr><td>throughput</td><td>${((r.width * r.height) / (t.predictMs / 1000) / 1e6).toFixed(2)} MPixel/s</td></tr>`;
}

function draw(r: SegmentResult): void {
  const { width: w, height: h } = r;
  const img = $<HTMLCanvasElement>('image-canvas');
  const mask = $<HTMLCanvasElement>('mask-canvas');
  const prob = $<HTMLCanvasElement>('prob-canvas');
  for (const c of [img, mask, prob]) {
    c.width = w;
    c.height = h;
  }
  img.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(r.rgba), w, h), 0, 0);
  const m = new Uint8ClampedArray(4 * w * h);
  const p = new Uint8ClampedArray(4 * w * h);
  for (let i = 0; i < w * h; i++) {
    const v = r.probs[i]!;
    if (v > 0.5) {
      m[4 * i] = 255;
      m[4 * i + 1] = 40;
      m[4 * i + 2] = 60;
      m[4 * i + 3] = 255;
    }
    // A blue-to-yellow ramp.
    p[4 * i] = 255 * v;
    p[4 * i + 1] = 255 * Math.sqrt(v) * 0.85;
    p[4 * i + 2] = 255 * (1 - v) * 0.6;
    p[4 * i + 3] = 255;
  }
  mask.getContext('2d')!.putImageData(new ImageData(m, w, h), 0, 0);
  prob.getContext('2d')!.putImageData(new ImageData(p, w, h), 0, 0);
  mask.style.width = getComputedStyle(img).width;
  mask.style.opacity = $<HTMLInputElement>('opacity').value;
  $('prob-caption').textContent = `Probability of ${state.model?.className ?? 'the class'} (${w} x ${h})`;
}

function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- fine-tuning ----
function drawLoss(): void {
  const c = $<HTMLCanvasElement>('loss-canvas');
  const g = c.getContext('2d')!;
  const L = state.fineTune?.losses ?? [];
  g.clearRect(0, 0, c.width, c.height);
  g.fillStyle = '#445';
  g.font = '12px system-ui';
  g.fillText('training loss', 8, 14);
  if (L.length < 1) return;
  const lo = Math.min(...L), hi = Math.max(...L);
  const pad = 24;
  const X = (i: number) => pad + (i / Math.max(1, L.length - 1)) * (c.width - 2 * pad);
  const Y = (v: number) => c.height - pad - ((v - lo) / Math.max(1e-9, hi - lo)) * (c.height - 2 * pad);
  g.fillText(hi.toFixed(3), 4, pad - 4);
  g.fillText(lo.toFixed(3), 4, c.height - 6);
  g.strokeStyle = '#1f6feb';
  g.lineWidth = 2;
  g.beginPath();
  L.forEach((v, i) => (i ? g.lineTo(X(i), Y(v)) : g.moveTo(X(i), Y(v))));
  g.stroke();
}

async function fileBytes(input: HTMLInputElement): Promise<{ name: string; bytes: ArrayBuffer } | null> {
  const f = input.files?.[0];
  return f ? { name: f.name, bytes: await f.arrayBuffer() } : null;
}

async function fineTune(): Promise<void> {
  const im = await fileBytes($<HTMLInputElement>('ft-image'));
  const mk = await fileBytes($<HTMLInputElement>('ft-mask'));
  let images, masks;
  if (im && mk) {
    // Paired by base name in the engine: give both the image's name.
    images = [im];
    masks = [{ name: im.name.replace(/\.[^.]+$/, '') + '_mask' + mk.name.replace(/^.*(\.[^.]+)$/, '$1'), bytes: mk.bytes }];
  } else if (im || mk) throw new Error('give both an image and its mask (or neither, for the ISBI example)');
  else {
    images = await Promise.all(EXAMPLE_TRAIN.map(async (i) => ({ name: `${i}.png`, bytes: await fetchBytes(`examples/isbi2012/images/${i}.png`) })));
    masks = await Promise.all(EXAMPLE_TRAIN.map(async (i) => ({ name: `${i}.png`, bytes: await fetchBytes(`examples/isbi2012/labels/${i}.png`) })));
  }
  const steps = Number($<HTMLInputElement>('ft-steps').value);
  const lr = Number($<HTMLInputElement>('ft-lr').value);
  const crop = Number($<HTMLSelectElement>('ft-crop').value);
  const batch = Number($<HTMLInputElement>('ft-batch').value);
  state.fineTune = { losses: [], ms: 0, done: false, error: null };
  ftProgress.value = 0;
  drawLoss();
  try {
    const r = await call<{ losses: number[]; ms: number }>({ kind: 'finetune', images, masks, steps, lr, crop, batch }, [...images, ...masks].map((f) => f.bytes));
    state.fineTune.losses = r.losses;
    state.fineTune.ms = r.ms;
    state.fineTune.done = true;
    drawLoss();
    $('ft-info').textContent = `${r.losses.length} steps in ${(r.ms / 1000).toFixed(1)} s: loss ${r.losses[0]?.toFixed(4)} -> ${r.losses.at(-1)?.toFixed(4)}. Segment again to see the fine-tuned model.`;
  } catch (e) {
    state.fineTune.error = (e as Error).message;
    throw e;
  }
}

// ---- kernel check ----
async function check(): Promise<void> {
  const v = $<HTMLSelectElement>('policy').value;
  const out = $('check-out');
  state.check = null;
  try {
    const r = await call<CheckResult>({ kind: 'check', policy: { convForward: v, convWeightGrad: v } });
    state.check = { result: r, error: null };
    const f = (k: 'convForward' | 'convInputGrad' | 'convWeightGrad' | 'unetForward') => `${k}: max |WebGPU - CPU| ${r[k].toExponential(2)} (values up to ${r.scale[k].toFixed(2)})`;
    const mm = Object.entries(r.matmul).map(([k, d]) => `${k} ${d.toExponential(2)}`).join(', ');
    out.textContent = `policy ${JSON.stringify(r.policy)}\n${(['convForward', 'convInputGrad', 'convWeightGrad', 'unetForward'] as const).map(f).join('\n')}\nmatmul families (linear + gradients): max |WebGPU - CPU| ${mm} (values up to ${r.scale.matmul.toFixed(2)})`;
  } catch (e) {
    state.check = { result: null, error: (e as Error).message };
    out.textContent = `refused: ${(e as Error).message}`;
  }
}

// ---- kernel tuning ----
function showTuning(t: TuningReport): void {
  state.tuning = t;
  const when = t.measuredAt ? new Date(t.measuredAt).toLocaleString() : '';
  $('tune-info').textContent =
    t.source === 'none' ? "no tuning for this adapter in this browser: 'auto' uses its rules" :
    `${t.entries.length} shape bucket(s) ${t.source === 'cache' ? 'from this browser\'s cache' : 'measured now and kept in this browser'} (measured ${when})`;
  const rows = t.entries.map((e) => `${e.key.padEnd(44)} -> ${e.choice.padEnd(9)} ${Object.entries(e.ms).map(([c, ms]) => `${c} ${ms.toFixed(2)}`).join('  ')} ms`);
  $('tune-out').textContent = [...rows, ...(t.storeError ? [`IndexedDB: ${t.storeError}`] : [])].join('\n');
}

// ---- wiring ----
$('image-file').addEventListener('change', async (e) => {
  const f = await fileBytes(e.target as HTMLInputElement);
  if (f) pickImage(f.name, f.bytes);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) pickImage(f.name, await f.arrayBuffer());
});
$('use-example').addEventListener('click', () =>
  busy('example', async () => {
    $<HTMLInputElement>('image-file').value = '';
    pickImage(EXAMPLE_IMAGE, await fetchBytes(EXAMPLE_IMAGE));
    await segment();
  }),
);
$('ckpt-file').addEventListener('change', async (e) => {
  const f = await fileBytes(e.target as HTMLInputElement);
  if (f) await busy('load', () => loadCheckpoint(f.name, f.bytes));
});
$('segment').addEventListener('click', () => busy('segment', segment));
$('opacity').addEventListener('input', (e) => ($('mask-canvas').style.opacity = (e.target as HTMLInputElement).value));
$('download-mask').addEventListener('click', () => lastMask && download(lastMask.png, lastMask.name, 'image/png'));
$('ft-start').addEventListener('click', () => busy('finetune', fineTune));
$('ft-stop').addEventListener('click', () => void call({ kind: 'stop' }));
$('ft-save').addEventListener('click', () =>
  busy('save', async () => {
    const b = await call<Uint8Array>({ kind: 'save' });
    state.saved = b.byteLength;
    download(b, 'unet-finetuned.safetensors', 'application/octet-stream');
  }),
);
$('check').addEventListener('click', () => busy('check', check));
// Tuned for what the page runs: fine-tuning at the crop and batch chosen above, segmentation at the chosen tile.
$('tune').addEventListener('click', () =>
  busy('tune', async () => {
    const tile = $<HTMLSelectElement>('tile').value;
    const [crop, batch] = [Number($<HTMLSelectElement>('ft-crop').value), Number($<HTMLInputElement>('ft-batch').value)];
    showTuning(await call<TuningReport>({ kind: 'tune', reps: 3, crop, batch, tile: tile ? Number(tile) : null }));
  }),
);
$('untune').addEventListener('click', () => busy('untune', async () => showTuning(await call<TuningReport>({ kind: 'untune' }))));
window.addEventListener('resize', () => ($('mask-canvas').style.width = getComputedStyle($('image-canvas')).width));

void start();
