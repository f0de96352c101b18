import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from './batch_norm.js';
import { ReLU } from './layers.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/**
 * A BatchNorm2d directly followed by a ReLU runs as one fused op (BatchNorm2d.forwardRelu) unless either forward
 * was replaced (a subclass, or a hook patched onto the instance, e.g. summary()): then both run as written.
 */
const fusesWithRelu = (m: Module, next: Module | undefined): m is BatchNorm2d =>
  m instanceof BatchNorm2d && next instanceof ReLU && m.forward === BatchNorm2d.prototype.forward && next.forward === ReLU.prototype.forward;

/** Modules held in order and registered as children "0".."n-1" (what Sequential and ModuleList share). */
abstract class IndexedModules extends Module {
  readonly #items: Module[];

  constructor(modules: Iterable<Module>) {
    super();
    this.#items = [...modules];
  }

  override namedChildren(): [string, Module][] {
    return [...this.#items.map((m, i): [string, Module] => [String(i), m]), ...super.namedChildren()];
  }

  get length(): number {
    return this.#items.length;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): Module | undefined {
    return this.#items.at(i);
  }

  /** Appends a module (named by its index); returns this. */
  append(m: Module): this {
    this.#items.push(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#items[Symbol.iterator]();
  }
}

/**
 * Modules applied in order (torch.nn.Sequential). Children are named "0".."n-1", parameterless ones
 * included, so state-dict keys match PyTorch's (`1.running_mean`, `4.weight`). forward() disposes the
 * intermediate handles as it goes (autograd keeps its own references to what backward needs).
 */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[]) {
    super(modules);
  }

  /** x -> m0 -> m1 -> ... ; x [N, ...] as the first module expects. BatchNorm2d -> ReLU pairs run fused. */
  forward(x: Tensor): Tensor {
    let y = x;
    const items = [...this];
    for (let i = 0; i < items.length; i++) {
      const m = items[i]!;
      let next: Tensor;
      if (fusesWithRelu(m, items[i + 1])) {
        next = m.forwardRelu(y);
        i++;
      } else {
        next = m.forward(y) as Tensor;
      }
      if (y !== x && y !== next && !(y instanceof Parameter)) y.dispose();
      y = next;
    }
    return y;
  }
}

/** A list of modules registered as children "0".."n-1" (torch.nn.ModuleList); it has no forward of its own. */
export class ModuleList extends IndexedModules {
  constructor(modules: Iterable<Module> = []) {
    super(modules);
  }

  forward(): never {
    throw new TypeError('ModuleList: it has no forward(); iterate over its modules');
  }
}
