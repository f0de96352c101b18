import { checkTensor, isAnomalyEnabled, modulePath, quietly } from './anomaly.js';
import { isGradEnabled, noGrad } from './context.js';
import { AutogradError, ShapeError } from '../core/errors.js';
import { fmt, sameShape } from './shape.js';
import { tidy, untrack } from './scope.js';
import { Tensor } from './tensor.js';
import { ops } from './op_table.js';

/** Returns one gradient per input (null where not needed or not differentiable). */
export type BackwardFn = (gy: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[];

/**
 * One op application in the graph. Refcounted by the handles of its output and by the nodes that consume
 * that output: when the last goes, the saved tensors are freed, so a graph that never runs backward is freed too.
 */
export class Node {
  refs = 1;
  consumed = false;
  /** The module path at record time, kept in anomaly mode only (names 'backward of <op>' anomalies). */
  module: string | null = null;
  #saved: Tensor[];

  constructor(readonly op: string, readonly inputs: readonly (Tensor | null)[], saved: Tensor[], readonly backwardFn: BackwardFn) {
    this.#saved = saved;
    for (const t of inputs) if (t?.node) t.node.refs++;
  }

  get saved(): readonly Tensor[] {
    return this.#saved;
  }

  freeSaved(): void {
    for (const t of this.#saved) t.dispose();
    this.#saved = [];
  }

  unref(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const t of this.inputs) t?.node?.unref();
  }
}

/**
 * Records `out` as the result of `op` when grad mode is on and some input requires grad. `save` lists the
 * tensors backward reads; they get their own storage references (freed as backward passes the node). In anomaly mode
 * every op's output is checked here for NaN / Inf, in grad mode or not.
 */
export function record(op: string, inputs: readonly (Tensor | null)[], out: Tensor, save: readonly Tensor[], backward: BackwardFn): Tensor {
  const anomaly = isAnomalyEnabled();
  if (anomaly) checkTensor(op, out);
  if (!isGradEnabled() || !inputs.some((t) => t?.requiresGrad)) return out;
  const saved = save.map((t) => new Tensor(t.shareRef(op), t.shape, t.dtype, false));
  out.node = new Node(op, inputs, saved, backward);
  if (anomaly) out.node.module = modulePath();
  out.requiresGrad = true;
  return out;
}

/** Tensors that have a node, inputs before outputs, pruned to paths that reach a requiresGrad tensor. */
function topoSort(root: Tensor): Tensor[] {
  const out: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      out.push(t);
      continue;
    }
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const x of t.node.inputs) if (x?.requiresGrad && x.node && !seen.has(x)) stack.push([x, false]);
  }
  return out;
}

function addGrad(prev: Tensor | undefined, g: Tensor): Tensor {
  if (!prev) return g;
  const s = ops().add(prev, g);
  prev.dispose();
  g.dispose();
  untrack(s);
  return s;
}

/** Backpropagation from `root`. Leaves accumulate into `.grad` (PyTorch semantics); the graph is freed as it goes. */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) throw new AutogradError(`backward: tensor ${fmt(root.shape)} does not require grad and has no grad_fn`);
  if (!seed && root.numel !== 1) throw new AutogradError(`backward: grad can be implicitly created only for one-element outputs, got ${fmt(root.shape)}`);
  if (seed && !sameShape(seed.shape, root.shape)) throw new ShapeError('backward', `seed ${fmt(seed.shape)} must match the output ${fmt(root.shape)}`, [seed.shape, root.shape]);
  if (root.node?.consumed) throw new AutogradError('backward: trying to backward through the graph a second time (its saved tensors were freed)');
  const anomaly = isAnomalyEnabled();
  noGrad(() => quietly(() => {
    const first = seed ? seed.detach() : ops().onesLike(root);
    untrack(first);
    if (!root.node) {
      accumulateLeaf(root, first);
      return;
    }
    const grads = new Map<Tensor, Tensor>([[root, first]]);
    const order = topoSort(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const node = t.node!;
      const gy = grads.get(t);
      grads.delete(t);
      if (!gy) continue;
      if (node.consumed) throw new AutogradError(`backward: the graph through '${node.op}' was already freed by an earlier backward()`);
      const needs = node.inputs.map((x) => !!x?.requiresGrad);
      // tidy() frees the temporaries a backward rule makes; the returned gradients survive it. In anomaly mode the
      // rule's inner ops (and the gradient sums) go unchecked (quietly) and its gradients are checked as 'backward of <op>'.
      const gs = tidy(() => node.backwardFn(gy, node.saved, needs));
      if (anomaly) gs.forEach((g, k) => g && needs[k] && checkTensor(`backward of ${node.op}`, g, `gradient of input ${k}`, node.module, true));
      node.freeSaved();
      node.consumed = true;
      const seen = new Set<Tensor>([gy]);
      gs.forEach((g0, k) => {
        if (!g0) return;
        // A rule may pass gy through (add) or return one tensor for two inputs: give each its own handle.
        const g = seen.has(g0) ? g0.detach() : g0;
        seen.add(g0);
        untrack(g);
        const x = node.inputs[k];
        if (!x || !needs[k]) return g.dispose();
        if (!sameShape(g.shape, x.shape)) throw new ShapeError(`${node.op} backward`, `gradient ${fmt(g.shape)} does not match input ${k} ${fmt(x.shape)}`);
        if (x.node) grads.set(x, addGrad(grads.get(x), g));
        else accumulateLeaf(x, g);
      });
      gy.dispose();
    }
    for (const g of grads.values()) g.dispose();
  }));
}

function accumulateLeaf(x: Tensor, g: Tensor): void {
  if (x.grad && !x.grad.disposed) {
    const s = ops().add(x.grad, g);
    x.grad.dispose();
    g.dispose();
    untrack(s);
    x.grad = s;
  } else {
    x.grad = g;
  }
}
