// Messages between the demo page and its worker (the engine runs in the worker, so the page stays responsive).
// The page sends a Request with an id; the worker answers with a Reply of the same id, and sends Events meanwhile.

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  features: string[];
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
  maxBindingBytes: number;
  /** The adapter says it is a software fallback (GPUAdapterInfo.isFallbackAdapter), or is a known CPU rasteriser. */
  software: boolean;
  /** A 3x3 convolution's speed on this adapter (8 -> 8 channels, 256 x 256), GFLOP/s. */
  convGflops: number;
  /** This adapter's kernel tuning table from this browser's IndexedDB, applied to the device (or none). */
  tuning: TuningReport;
}

/** The device's measured kernel choices: where they came from, and each bucket's choice and candidate times. */
export interface TuningReport {
  /** 'measured': tuned in this page now; 'cache': read from IndexedDB at start; 'none': 'auto' uses its rules. */
  source: 'measured' | 'cache' | 'none';
  measuredAt: string | null;
  entries: { key: string; choice: string; ms: Record<string, number> }[];
  /** Why the IndexedDB cache could not be read or written (private browsing, quota), if so. */
  storeError: string | null;
}

export interface ModelReport {
  name: string;
  width: number;
  depth: number;
  padding: string;
  bilinear: boolean;
  inChannels: number;
  classes: number;
  parameters: number;
  /** The class whose probability is shown (1 for a binary net). */
  className: string;
  /** The largest square input tile one forward takes on this adapter (binding limit and 1 GiB). */
  maxTile: number;
}

export interface Timings {
  decodeMs: number;
  normalizeMs: number;
  predictMs: number;
  encodeMs: number;
  totalMs: number;
}

export interface SegmentResult {
  width: number;
  height: number;
  /** The shown class's probability per pixel (row-major). */
  probs: Float32Array;
  /** The image as RGBA for display. */
  rgba: Uint8ClampedArray;
  /** The predicted mask as an 8-bit PNG (the checkpoint's mask values). */
  maskPng: Uint8Array;
  tile: number;
  tiles: number;
  batch: number;
  timings: Timings;
  /** Notes for the user (tiling of a large image, a smaller tile after a refused one). */
  notes: string[];
}

export interface CheckResult {
  policy: Record<string, string>;
  /** Max |WebGPU - CPU| of conv2d's output, input gradient and weight gradient, and of the U-Net's probabilities. */
  convForward: number;
  convInputGrad: number;
  convWeightGrad: number;
  unetForward: number;
  /** Max |WebGPU - CPU| over linear's output and both gradients, per matmul kernel family (forced). */
  matmul: Record<string, number>;
  /** Largest |value| of each reference, for scale. */
  scale: { convForward: number; convInputGrad: number; convWeightGrad: number; unetForward: number; matmul: number };
}

export type Request =
  | { kind: 'init' }
  | { kind: 'load'; name: string; bytes: ArrayBuffer }
  | { kind: 'segment'; name: string; bytes: ArrayBuffer; tile: number | null; tta: boolean }
  | { kind: 'finetune'; images: { name: string; bytes: ArrayBuffer }[]; masks: { name: string; bytes: ArrayBuffer }[]; steps: number; lr: number; crop: number; batch: number }
  | { kind: 'stop' }
  | { kind: 'save' }
  | { kind: 'check'; policy: Record<string, string> }
  | { kind: 'tune'; reps: number; crop: number; batch: number; tile: number | null }
  | { kind: 'untune' };

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; message: string } };

export type WorkerEvent =
  | { event: 'progress'; task: 'segment' | 'finetune'; done: number; total: number }
  | { event: 'loss'; step: number; loss: number; ms: number };
