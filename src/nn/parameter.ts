import { Tensor } from '../tensor/tensor.js';

/**
 * A trainable leaf tensor (torch.nn.Parameter): requiresGrad by default, and never disposed by a tidy()
 * scope (it lives as long as its module). `new Parameter(t)` shares t's storage, as in PyTorch; the handle
 * `t` stays the caller's to dispose.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.shareRef('Parameter'), data.shape, data.dtype, false);
    this.requiresGrad_(requiresGrad);
  }

  override toString(): string {
    return `Parameter(${this.shape.length ? `[${this.shape.join(', ')}]` : '[]'}, ${this.dtype}, ${this.device.kind}${this.requiresGrad ? '' : ', frozen'})`;
  }
}
