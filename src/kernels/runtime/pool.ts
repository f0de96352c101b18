import { BufferUsage } from './gpu_constants.js';

/**
 * Storage buffers kept for reuse, in size buckets (<= 12.5% waste). A released buffer may still be read by
 * commands in the open encoder, and `queue.writeBuffer` runs before those commands: so reuse waits until
 * the encoder is submitted (`afterSubmit`).
 */
export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  #pending: GPUBuffer[] = [];
  pooledBytes = 0;
  pendingBytes = 0;
  allocations = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferBytes: number,
    /** Above this many pooled bytes, released buffers are destroyed instead of kept. */
    public maxPooledBytes = 4 * 1024 ** 3,
  ) {}

  static bucket(bytes: number): number {
    const b = Math.max(256, Math.ceil(bytes / 256) * 256);
    if (b <= 65536) return b;
    const granule = 2 ** (Math.floor(Math.log2(b)) - 3);
    return Math.ceil(b / granule) * granule;
  }

  acquire(bytes: number): GPUBuffer {
    let size = BufferPool.bucket(bytes);
    if (size > this.maxBufferBytes) size = Math.ceil(bytes / 4) * 4;
    const list = this.#free.get(size);
    const hit = list?.pop();
    if (hit) {
      this.pooledBytes -= size;
      return hit;
    }
    this.allocations++;
    return this.device.createBuffer({ size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  }

  release(buf: GPUBuffer): void {
    this.#pending.push(buf);
    this.pendingBytes += buf.size;
  }

  /** Called right after queue.submit: released buffers become reusable. */
  afterSubmit(): void {
    for (const b of this.#pending) {
      if (this.pooledBytes + b.size > this.maxPooledBytes) {
        b.destroy();
        continue;
      }
      let list = this.#free.get(b.size);
      if (!list) this.#free.set(b.size, (list = []));
      list.push(b);
      this.pooledBytes += b.size;
    }
    this.#pending = [];
    this.pendingBytes = 0;
  }

  /** Destroys every pooled buffer (not the pending ones, which the open encoder may use). */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
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
