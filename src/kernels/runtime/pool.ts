import { BufferUsage } from './gpu_constants.js';

/** Tuning of the buffer pool (defaults suit lavapipe, whose buffers are host memory, and discrete GPUs alike). */
export interface BufferPoolOptions {
  /** Above this many pooled bytes, released buffers are destroyed instead of kept (default 2 GiB). */
  maxPooledBytes?: number;
  /** A request may take a pooled buffer up to this factor larger than its own bucket (default 1.5). */
  fit?: number;
  /**
   * A request that finds no pooled buffer to fit destroys pooled buffers idle for at least this many submits
   * (least recently released first) until as many bytes as it allocates are freed (default 64, a few training
   * steps of the U-Net): sizes no longer used (another shape, train -> eval) give their memory back, while the
   * sizes every step reuses are never destroyed and re-created (on lavapipe a fresh buffer costs ~1 ms per MB).
   */
  evictIdleSubmits?: number;
  /** Pooled bytes that are never evicted for a miss (default 256 MiB): small models keep every size, no churn. */
  keepPooledBytes?: number;
}

interface Pooled {
  buf: GPUBuffer;
  /** The submit count when the buffer became reusable. */
  since: number;
}

/**
 * Storage buffers kept for reuse, in size buckets (<= 12.5% waste). A released buffer may still be read by
 * commands in the open encoder, and `queue.writeBuffer` runs before those commands: so reuse waits until
 * the encoder is submitted (`afterSubmit`). A request takes the smallest pooled buffer of at least its bucket
 * (up to `fit` times larger); on a miss it first destroys idle pooled buffers of other sizes, so the memory held
 * (live + pooled) stays near the peak of live bytes instead of growing with every size seen.
 */
export class BufferPool {
  /** Pooled buffers by size, each list in release order (oldest first). */
  readonly #free = new Map<number, Pooled[]>();
  #sizes: number[] = [];
  #pending: GPUBuffer[] = [];
  #submits = 0;
  pooledBytes = 0;
  pendingBytes = 0;
  allocations = 0;
  /** Pooled buffers destroyed to make room (evictions and the cap), for stats and tests. */
  evictions = 0;
  maxPooledBytes: number;
  fit: number;
  evictIdleSubmits: number;
  keepPooledBytes: number;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferBytes: number,
    opts: BufferPoolOptions = {},
  ) {
    this.maxPooledBytes = opts.maxPooledBytes ?? 2 * 1024 ** 3;
    this.fit = opts.fit ?? 1.5;
    this.evictIdleSubmits = opts.evictIdleSubmits ?? 64;
    this.keepPooledBytes = opts.keepPooledBytes ?? 256 * 1024 ** 2;
  }

  static bucket(bytes: number): number {
    const b = Math.max(256, Math.ceil(bytes / 256) * 256);
    if (b <= 65536) return b;
    const granule = 2 ** (Math.floor(Math.log2(b)) - 3);
    return Math.ceil(b / granule) * granule;
  }

  acquire(bytes: number): GPUBuffer {
    let size = BufferPool.bucket(bytes);
    if (size > this.maxBufferBytes) size = Math.ceil(bytes / 4) * 4;
    const hit = this.#take(size);
    if (hit) return hit;
    this.#evict(size);
    this.allocations++;
    return this.device.createBuffer({ size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  }

  /** The most recently released buffer of the smallest pooled size in [size, size * fit]. */
  #take(size: number): GPUBuffer | undefined {
    const max = size * this.fit;
    for (const s of this.#sizes) {
      if (s < size) continue;
      if (s > max) return undefined;
      const list = this.#free.get(s)!;
      const p = list.pop()!;
      if (!list.length) this.#drop(s);
      this.pooledBytes -= s;
      return p.buf;
    }
    return undefined;
  }

  /** Destroys idle pooled buffers, least recently released first, until `bytes` are freed or none is idle. */
  #evict(bytes: number): void {
    const idle = this.#submits - this.evictIdleSubmits;
    let freed = 0;
    while (freed < bytes && this.pooledBytes > this.keepPooledBytes) {
      let oldest: number | undefined;
      for (const s of this.#sizes) {
        const p = this.#free.get(s)![0]!;
        if (p.since <= idle && (oldest === undefined || p.since < this.#free.get(oldest)![0]!.since)) oldest = s;
      }
      if (oldest === undefined) return;
      const list = this.#free.get(oldest)!;
      list.shift()!.buf.destroy();
      if (!list.length) this.#drop(oldest);
      this.pooledBytes -= oldest;
      this.evictions++;
      freed += oldest;
    }
  }

  #drop(size: number): void {
    this.#free.delete(size);
    this.#sizes = this.#sizes.filter((s) => s !== size);
  }

  release(buf: GPUBuffer): void {
    this.#pending.push(buf);
    this.pendingBytes += buf.size;
  }

  /** Called right after queue.submit: released buffers become reusable. */
  afterSubmit(): void {
    this.#submits++;
    for (const b of this.#pending) {
      if (this.pooledBytes + b.size > this.maxPooledBytes) {
        b.destroy();
        this.evictions++;
        continue;
      }
      let list = this.#free.get(b.size);
      if (!list) {
        this.#free.set(b.size, (list = []));
        this.#sizes.push(b.size);
        this.#sizes.sort((x, y) => x - y);
      }
      list.push({ buf: b, since: this.#submits });
      this.pooledBytes += b.size;
    }
    this.#pending = [];
    this.pendingBytes = 0;
  }

  /** Destroys every pooled buffer (not the pending ones, which the open encoder may use). */
  trim(): void {
    for (const list of this.#free.values()) for (const p of list) p.buf.destroy();
    this.#free.clear();
    this.#sizes = [];
    this.pooledBytes = 0;
  }
}

/**
 * Uniform `Params` slots for one submit: each dispatch bump-allocates an aligned slot in a CPU mirror of a
 * 64 KiB chunk; `upload` writes the used ranges just before the submit. Queue order makes reuse after submit safe.
 */
export class UniformArena {
  static readonly CHUNK = 65536;
  readonly #chunks: { buf: GPUBuffer; mirror: ArrayBuffer }[] = [];
  #chunk = 0;
  #offset = 0;

  constructor(private readonly device: GPUDevice, private readonly align: number) {}

  alloc(data: ArrayBuffer): { buffer: GPUBuffer; offset: number; size: number } {
    const size = Math.max(16, data.byteLength);
    if (this.#offset + size > UniformArena.CHUNK) {
      this.#chunk++;
      this.#offset = 0;
    }
    if (this.#chunk === this.#chunks.length) {
      this.#chunks.push({
        buf: this.device.createBuffer({ size: UniformArena.CHUNK, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST }),
        mirror: new ArrayBuffer(UniformArena.CHUNK),
      });
    }
    const c = this.#chunks[this.#chunk]!;
    const offset = this.#offset;
    new Uint8Array(c.mirror, offset, data.byteLength).set(new Uint8Array(data));
    this.#offset = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: c.buf, offset, size };
  }

  /** Uploads the used part of every chunk and starts over. */
  upload(queue: GPUQueue): void {
    for (let i = 0; i <= this.#chunk && i < this.#chunks.length; i++) {
      const used = i < this.#chunk ? UniformArena.CHUNK : this.#offset;
      if (used > 0) queue.writeBuffer(this.#chunks[i]!.buf, 0, this.#chunks[i]!.mirror, 0, used);
    }
    this.#chunk = 0;
    this.#offset = 0;
  }

  destroy(): void {
    for (const c of this.#chunks) c.buf.destroy();
    this.#chunks.length = 0;
  }
}
