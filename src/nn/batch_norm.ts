import { isRecomputing } from '../tensor/checkpoint.js';
import { getDefaultDevice } from '../tensor/context.js';
import { ArgumentError, ShapeError } from '../core/errors.js';
import { checkBoolean, checkNumber, checkOptions, show } from '../core/options.js';
import { batchNorm, batchNormRelu } from '../tensor/ops/batch_norm.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { noteScalar, scalarOf, uploadInto } from './assign.js';
import { newParameter } from './conv.js';
import { checkFits, constant_, isMeta } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average (default 0.1); null: cumulative average (1 / num_batches_tracked). */
  momentum?: number | null;
  /** Learnable weight (init 1) and bias (init 0) (default true). */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked and normalise with them in eval mode (default true). */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over [N, C, H, W] per channel (torch.nn.BatchNorm2d). Training: batch statistics
 * normalise; running_mean / running_var move by `momentum` (running_var from the unbiased variance) and
 * num_batches_tracked (i32, torch's int64) counts training forwards. Eval: the running statistics normalise.
 */
export class BatchNorm2d extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare readonly running_mean: Tensor | null;
  declare readonly running_var: Tensor | null;
  declare readonly num_batches_tracked: Tensor | null;
  readonly numFeatures: number;
  eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  // The host's copy of num_batches_tracked, so counting needs no readback; null while a loaded value is
  // being read back (then `#pending` counts the forwards to add once it arrives).
  #count: number | null = 0;
  #pending = 0;
  #loads = 0;

  constructor(numFeatures: number, opts?: BatchNorm2dOptions) {
    super();
    const op = 'BatchNorm2d';
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true } = checkOptions(op, opts, { eps: true, momentum: true, affine: true, trackRunningStats: true });
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new ArgumentError(op, `num_features must be a positive integer, got ${numFeatures}`);
    // eps <= 0 divides by a zero variance; a momentum outside [0, 1] extrapolates the running statistics.
    checkNumber(op, 'eps', eps, { min: 0, minExclusive: true });
    if (momentum !== null && !(typeof momentum === 'number' && momentum >= 0 && momentum <= 1)) {
      throw new ArgumentError(op, `momentum must be a finite number >= 0 and <= 1 (or null), got ${show(momentum)}`);
    }
    checkBoolean(op, 'affine', affine);
    checkBoolean(op, 'trackRunningStats', trackRunningStats);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    const dev = getDefaultDevice();
    const param = (what: string, v: number) => {
      const p = newParameter(op, what, [numFeatures]);
      constant_(p, v);
      return p;
    };
    this.weight = affine ? param('weight', 1) : null;
    this.bias = affine ? param('bias', 0) : null;
    const buffer = (what: string, shape: number[], v: number, dtype: 'f32' | 'i32' = 'f32') => {
      checkFits(op, what, shape, dev);
      const t = Tensor.empty(shape, dtype, dev);
      if (!isMeta(t)) uploadInto(t, new Array<number>(t.numel).fill(v));
      return t;
    };
    this.registerBuffer('running_mean', trackRunningStats ? buffer('running_mean', [numFeatures], 0) : null);
    this.registerBuffer('running_var', trackRunningStats ? buffer('running_var', [numFeatures], 1) : null);
    this.registerBuffer('num_batches_tracked', trackRunningStats ? buffer('num_batches_tracked', [], 0, 'i32') : null);
    if (this.num_batches_tracked) noteScalar(this.num_batches_tracked, 0);
  }

  /** x [N, C, H, W] -> same shape. */
  forward(x: Tensor): Tensor {
    return this.#run(x, false);
  }

  /**
   * relu(this.forward(x)) as one fused op (batchNormRelu: less memory, fewer passes), with the same running
   * statistics and num_batches_tracked updates. Sequential uses it for a BatchNorm2d directly followed by a ReLU.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.#run(x, true);
  }

  #run(x: Tensor, relu: boolean): Tensor {
    const op = 'BatchNorm2d';
    if (x.ndim !== 4) throw new ShapeError(op, `expected 4D input [N, C, H, W], got ${fmt(x.shape)}`, [x.shape]);
    // A checkpointed block's recompute (inside backward) normalises with the same batch statistics but must not
    // move the running ones a second time.
    const recompute = isRecomputing();
    const counting = this.training && this.trackRunningStats && !recompute;
    let momentum = this.momentum ?? 0;
    if (counting && this.momentum === null) {
      if (this.#count === null) throw new ArgumentError(op, 'momentum=null needs num_batches_tracked, whose loaded value is still being read back: await a readback (e.g. of any tensor) first');
      momentum = 1 / (this.#count + 1);
    }
    const running = recompute && this.training;
    const y = (relu ? batchNormRelu : batchNorm)(x, running ? null : this.running_mean, running ? null : this.running_var, this.weight, this.bias, {
      training: this.training || !this.trackRunningStats,
      momentum,
      eps: this.eps,
    });
    if (counting) this.#increment();
    return y;
  }

  #increment(): void {
    const t = this.num_batches_tracked!;
    if (this.#count === null) {
      this.#pending++;
      return;
    }
    this.#count++;
    uploadInto(t, [this.#count], 'BatchNorm2d');
    noteScalar(t, this.#count);
  }

  protected override optionalOnLoad(name: string): boolean {
    // torch fills a missing num_batches_tracked with 0 when the state dict has no version metadata.
    return name === 'num_batches_tracked';
  }

  protected override afterLoad(name: string, src: Tensor | null): void {
    if (name !== 'num_batches_tracked' || !this.num_batches_tracked) return;
    const t = this.num_batches_tracked;
    const load = ++this.#loads;
    this.#pending = 0;
    const known = src ? scalarOf(src) : 0;
    if (!src) uploadInto(t, [0], 'loadStateDict');
    if (known !== undefined) {
      this.#count = known;
      noteScalar(t, known);
      return;
    }
    // A device tensor of unknown value: read it back once; training forwards meanwhile are added afterwards.
    this.#count = null;
    t.toArray().then(
      (a) => {
        if (load !== this.#loads || t.disposed) return;
        this.#count = a[0]! + this.#pending;
        if (this.#pending) uploadInto(t, [this.#count], 'BatchNorm2d');
        this.#pending = 0;
        noteScalar(t, this.#count);
      },
      () => {},
    );
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum ?? 'None'}, affine=${this.affine ? 'True' : 'False'}, track_running_stats=${this.trackRunningStats ? 'True' : 'False'}`;
  }
}
