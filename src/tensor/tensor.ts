import type { Backend, Storage } from '../kernels/backend.js';
import { anomalyChecksPending, checkAnomalies } from './anomaly.js';
import { backward as runBackward, type Node } from './autograd.js';
import { countHandle, getDefaultDevice } from './context.js';
import type { DType, NumArray } from '../core/dtype.js';
import { DisposedTensorError, DTypeError, MetaTensorError, ShapeError } from '../core/errors.js';
import { MetaBackend } from '../kernels/runtime/meta_backend.js';
import { ops } from './op_table.js';
import { trackInScope } from './scope.js';
import { checkShape, fmt, inferReshape, numel, type Shape } from './shape.js';

const DTYPES: readonly DType[] = ['f32', 'i32', 'u32'];

/** Refcounted ownership of one backend storage; the last release frees it. */
export class StorageRef {
  refs = 1;
  constructor(readonly storage: Storage, readonly backend: Backend) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0 && !this.backend.destroyed) this.backend.free(this.storage);
  }
}

// Where Symbol.dispose is missing (older browsers) it must exist before Tensor's [Symbol.dispose] key is
// evaluated below; index.ts's own polyfill runs only after its imports (this module) are evaluated.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');

let nextId = 1;

/**
 * An n-dimensional array on a device (NCHW for images). A handle: `dispose()` (or `using`) drops its reference
 * on the storage; views (reshape) and autograd's saved tensors hold their own references.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Backend;
  #ref: StorageRef | null;
  /** Gradient accumulated by backward() (leaves only), as in PyTorch. */
  grad: Tensor | null = null;
  /** The op application that produced this tensor (null for leaves and detached tensors). */
  node: Node | null = null;
  #requiresGrad = false;

  /** Internal: wraps a storage reference. `track` = false for handles that no tidy() scope may dispose. */
  constructor(ref: StorageRef, shape: Shape, dtype: DType, track = true) {
    this.#ref = ref;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = ref.backend;
    countHandle(this.device, 1);
    if (track) trackInScope(this);
  }

  /**
   * A new tensor of uninitialised storage on `device`. Every creation path (tensor, full, random, the ops' outputs)
   * allocates here, so this is where shapes and dtypes are checked: a NaN, negative or fractional dim never allocates.
   */
  static empty(shape: Shape, dtype: DType = 'f32', device: Backend = getDefaultDevice()): Tensor {
    checkShape('Tensor.empty', shape);
    if (!DTYPES.includes(dtype)) throw new DTypeError('Tensor.empty', `unknown dtype '${String(dtype)}' (expected f32, i32 or u32)`);
    return new Tensor(new StorageRef(device.alloc(numel(shape), dtype), device), shape, dtype);
  }

  get numel(): number {
    return numel(this.shape);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get disposed(): boolean {
    return this.#ref === null;
  }
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  set requiresGrad(v: boolean) {
    this.#requiresGrad = v;
  }

  /** Marks a leaf as requiring gradients; returns this. */
  requiresGrad_(v = true): this {
    this.#requiresGrad = v;
    return this;
  }

  /** The storage; throws DisposedTensorError after dispose(). */
  storage(op = 'tensor'): Storage {
    if (!this.#ref) throw new DisposedTensorError(op, `tensor #${this.id} ${fmt(this.shape)} was used after dispose()`);
    return this.#ref.storage;
  }

  /** Internal: another reference on the same storage, for views and saved tensors. */
  shareRef(op = 'tensor'): StorageRef {
    if (!this.#ref) throw new DisposedTensorError(op, `tensor #${this.id} ${fmt(this.shape)} was used after dispose()`);
    return this.#ref.retain();
  }

  /** Reads the data back: Float32Array (Float64Array on a float64 CPU device), Uint32Array or Int32Array. */
  async toArray(): Promise<NumArray> {
    return this.#read('toArray');
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.numel !== 1) throw new ShapeError('item', `item() needs a one-element tensor, got ${fmt(this.shape)}`, [this.shape]);
    return (await this.#read('item'))[0]!;
  }

  async #read(op: string): Promise<NumArray> {
    const s = this.storage(op);
    if (anomalyChecksPending()) await checkAnomalies();
    if (this.device instanceof MetaBackend) {
      throw new MetaTensorError(op, `tensor #${this.id} ${fmt(this.shape)} is on the meta device, which holds shapes but no data: create it on cpuDevice() or a WebGPU device to read values`);
    }
    return this.device.download(s);
  }

  /** Drops this handle's reference; idempotent. The storage is freed when no view or saved copy holds it. */
  dispose(): void {
    if (!this.#ref) return;
    this.#ref.release();
    this.#ref = null;
    countHandle(this.device, -1);
    // The node stays reachable from this object: consumers' nodes still walk through it in backward().
    this.node?.unref();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A handle on the same storage with no autograd history. */
  detach(): Tensor {
    return new Tensor(this.shareRef('detach'), this.shape, this.dtype);
  }

  /** Runs backpropagation from this tensor; `grad` defaults to 1 for one-element tensors (PyTorch rule). */
  backward(grad?: Tensor): void {
    runBackward(this, grad);
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.device.kind}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- shape ----
  /** A view with another shape (one dim may be -1); shares storage. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as readonly number[];
    return ops().reshape(this, inferReshape('reshape', this.shape, s));
  }
  view(...shape: number[] | [readonly number[]]): Tensor {
    return this.reshape(...shape);
  }
  flatten(): Tensor {
    return ops().reshape(this, [this.numel]);
  }

  // ---- elementwise (broadcasting like PyTorch) ----
  add(b: Tensor | number): Tensor {
    return ops().add(this, b);
  }
  sub(b: Tensor | number): Tensor {
    return ops().sub(this, b);
  }
  mul(b: Tensor | number): Tensor {
    return ops().mul(this, b);
  }
  div(b: Tensor | number): Tensor {
    return ops().div(this, b);
  }
  pow(b: Tensor | number): Tensor {
    return ops().pow(this, b);
  }
  neg(): Tensor {
    return ops().neg(this);
  }
  exp(): Tensor {
    return ops().exp(this);
  }
  log(): Tensor {
    return ops().log(this);
  }
  sqrt(): Tensor {
    return ops().sqrt(this);
  }
  abs(): Tensor {
    return ops().abs(this);
  }
  relu(): Tensor {
    return ops().relu(this);
  }
  sigmoid(): Tensor {
    return ops().sigmoid(this);
  }
  tanh(): Tensor {
    return ops().tanh(this);
  }

  // ---- reductions ----
  sum(dims?: number | readonly number[], keepdim = false): Tensor {
    return ops().sum(this, dims, keepdim);
  }
  mean(dims?: number | readonly number[], keepdim = false): Tensor {
    return ops().mean(this, dims, keepdim);
  }
  max(dims?: number | readonly number[], keepdim = false): Tensor {
    return ops().max(this, dims, keepdim);
  }
  matmul(b: Tensor): Tensor {
    return ops().matmul(this, b);
  }
}
