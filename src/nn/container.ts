import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/**
 * Modules applied in order (torch.nn.Sequential). Children are named "0".."n-1", parameterless ones
 * included, so state-dict keys match PyTorch's (`1.running_mean`, `4.weight`). forward() disposes the
 * intermediate handles as it goes (autograd keeps its own references to what backward needs).
 */
export class Sequential extends Module {
  readonly #items: Module[];

  constructor(...modules: Module[]) {
    super();
    this.#items = modules;
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

  /** x -> m0 -> m1 -> ... ; x [N, ...] as the first module expects. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.#items) {
      const next = m.forward(y) as Tensor;
      if (y !== x && y !== next && !(y instanceof Parameter)) y.dispose();
      y = next;
    }
    return y;
  }
}

/** A list of modules registered as children "0".."n-1" (torch.nn.ModuleList); it has no forward of its own. */
export class ModuleList extends Module {
  readonly #items: Module[];

  constructor(modules: Iterable<Module> = []) {
    super();
    this.#items = [...modules];
  }

  override namedChildren(): [string, Module][] {
    return [...this.#items.map((m, i): [string, Module] => [String(i), m]), ...super.namedChildren()];
  }

  get length(): number {
    return this.#items.length;
  }

  at(i: number): Module | undefined {
    return this.#items.at(i);
  }

  append(m: Module): this {
    this.#items.push(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#items[Symbol.iterator]();
  }

  forward(): never {
    throw new TypeError('ModuleList: it has no forward(); iterate over its modules');
  }
}
