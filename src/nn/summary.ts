// A model summary in torchinfo's format and by its counting rules, so our table and PyTorch users' agree.
import { checkNumber, checkOptions } from '../core/options.js';
import { noGrad } from '../tensor/context.js';
import { numel } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface SummaryRow {
  /** The module's class name (Conv2d, DoubleConv, ...). */
  layer: string;
  /** Dotted path from the root ('' for the root). */
  path: string;
  depth: number;
  /** 1-based index among the rows of the same depth, in execution order (torchinfo's depth-idx). */
  index: number;
  outputShape: number[];
  /** Parameters of the module and its descendants. */
  params: number;
  trainableParams: number;
  isLeaf: boolean;
  /** torchinfo's multiply-accumulates (leaf layers with parameters; see summary()). */
  macs: number;
  outputBytes: number;
}

export interface SummaryResult {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  totalMacs: number;
  inputBytes: number;
  /** Forward/backward pass size: output bytes x 2 of every leaf layer that has parameters. */
  forwardBackwardBytes: number;
  paramBytes: number;
  /** The formatted table (torchinfo's default columns: Output Shape, Param #; depth 3). */
  text: string;
}

export interface SummaryOptions {
  /** Rows deeper than this are hidden (they still count in the totals). */
  depth?: number;
}

function shapeOf(v: unknown): number[] {
  if (v instanceof Tensor) return [...v.shape];
  if (Array.isArray(v) && v[0] instanceof Tensor) return [...v[0].shape];
  return [];
}

/**
 * Runs one forward pass of `model` on `input` (no gradients) and reports, per module in execution order,
 * the output shape and parameters, with torchinfo's totals: mult-adds count params x N x out-H x out-W for
 * every class whose name contains "Conv" (ConvTranspose2d too, as torchinfo does) and N x params for other
 * parameterised leaves. Use a meta device (metaDevice()) for an instant summary of a big model.
 */
export function summary(model: Module, input: Tensor, opts?: SummaryOptions): SummaryResult {
  const { depth = 3 } = checkOptions('summary', opts, { depth: true });
  checkNumber('summary', 'depth', depth, { integer: true, min: 0 });
  const mods = model.namedModules();
  const depthOf = new Map<Module, number>();
  const pathOf = new Map<Module, string>();
  for (const [p, m] of mods) {
    depthOf.set(m, p === '' ? 0 : p.split('.').length);
    pathOf.set(m, p);
  }
  const rows: SummaryRow[] = [];
  const counters: number[] = [];
  const originals: [Module, unknown][] = [];
  for (const [, m] of mods) {
    const own = Object.prototype.hasOwnProperty.call(m, 'forward') ? (m as unknown as { forward: unknown }).forward : undefined;
    originals.push([m, own]);
    const fwd = m.forward.bind(m);
    (m as unknown as { forward: unknown }).forward = (...args: unknown[]) => {
      const d = depthOf.get(m)!;
      counters[d] = (counters[d] ?? 0) + 1;
      const params = m.parameters();
      const row: SummaryRow = {
        layer: m.constructor.name,
        path: pathOf.get(m)!,
        depth: d,
        index: counters[d]!,
        outputShape: [],
        params: params.reduce((s, p) => s + p.numel, 0),
        trainableParams: params.reduce((s, p) => s + (p.requiresGrad ? p.numel : 0), 0),
        isLeaf: m.children().length === 0,
        macs: 0,
        outputBytes: 0,
      };
      rows.push(row);
      const out = fwd(...args);
      row.outputShape = shapeOf(out);
      row.outputBytes = numel(row.outputShape) * 4;
      if (row.isLeaf) {
        const [n = 1, , ...spatial] = row.outputShape;
        for (const p of params) row.macs += /Conv/.test(row.layer) ? p.numel * n * numel(spatial) : n * p.numel;
      }
      return out;
    };
  }
  try {
    const out = noGrad(() => model.forward(input));
    if (out instanceof Tensor) out.dispose();
  } finally {
    for (const [m, own] of originals) {
      if (own === undefined) delete (m as unknown as { forward?: unknown }).forward;
      else (m as unknown as { forward: unknown }).forward = own;
    }
  }
  const leaves = rows.filter((r) => r.isLeaf);
  const totalParams = model.parameters().reduce((s, p) => s + p.numel, 0);
  const trainableParams = model.parameters().reduce((s, p) => s + (p.requiresGrad ? p.numel : 0), 0);
  const res: Omit<SummaryResult, 'text'> = {
    rows,
    totalParams,
    trainableParams,
    totalMacs: leaves.reduce((s, r) => s + r.macs, 0),
    inputBytes: input.numel * 4,
    forwardBackwardBytes: leaves.reduce((s, r) => s + (r.params > 0 ? r.outputBytes * 2 : 0), 0),
    paramBytes: totalParams * 4,
  };
  return { ...res, text: formatSummary(res, depth) };
}

const int = (n: number) => n.toLocaleString('en-US');

/** torchinfo's number display: ' (G): 233.39' with units chosen from the size, ' (MB): 2683.30', or ': 31,042,369'. */
function num(n: number, bytes: boolean, auto: boolean): string {
  let unit = '';
  let v = n;
  if (auto) {
    for (const [u, f] of [['T', 1e12], ['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) {
      if (n >= f) {
        unit = u;
        v = n / f;
        break;
      }
    }
  }
  if (bytes) {
    unit = 'M';
    v = n / 1e6;
  }
  // Counts with thousands separators, sizes and mult-adds as plain 0.2f (torchinfo 1.x: 'Forward/backward pass size (MB): 2683.30').
  const shown = !unit ? int(v) : v.toFixed(2);
  return `${unit ? ` (${unit}${bytes ? 'B' : ''})` : ''}: ${shown}`;
}

function formatSummary(s: Omit<SummaryResult, 'text'>, maxDepth: number): string {
  const colWidth = 25;
  let nameWidth = 40;
  const title = (r: SummaryRow) => (r.depth > 0 ? `${r.layer}: ${r.depth}-${r.index}` : r.layer);
  const longest = Math.max(...s.rows.map((r) => title(r).length + r.depth * 5 + 1));
  if (longest >= nameWidth) nameWidth = Math.ceil(longest / 5) * 5;
  const line = (name: string, cols: string[]) => `${name.padEnd(nameWidth)} ${cols.map((c) => c.padEnd(colWidth)).join(' ')}`.trimEnd();
  const divider = '='.repeat(nameWidth + 2 * colWidth);
  const prefix = (d: number) => (d === 0 ? '' : d === 1 ? '├─' : '│    '.repeat(d - 1) + '└─');
  const childrenOf = (i: number) => {
    const out: SummaryRow[] = [];
    for (let j = i + 1; j < s.rows.length && s.rows[j]!.depth > s.rows[i]!.depth; j++) out.push(s.rows[j]!);
    return out;
  };
  const body: string[] = [];
  s.rows.forEach((r, i) => {
    if (r.depth > maxDepth) return;
    let params: string;
    if (r.params === 0) params = '--';
    else if (r.depth === maxDepth || r.isLeaf) params = r.trainableParams ? int(r.params) : `(${int(r.params)})`;
    else {
      const kids = childrenOf(i).filter((c) => c.depth === r.depth + 1);
      const left = r.params - kids.reduce((t, c) => t + c.params, 0);
      params = left > 0 ? int(left) : '--';
    }
    body.push(line(prefix(r.depth) + title(r), [`[${r.outputShape.join(', ')}]`, params]));
  });
  // torchinfo draws the last sibling's branch as '└─' and inner ones as '├─' only at depth 1.
  return [
    divider,
    line('Layer (type:depth-idx)', ['Output Shape', 'Param #']),
    divider,
    ...body,
    divider,
    `Total params${num(s.totalParams, false, false)}`,
    `Trainable params${num(s.trainableParams, false, false)}`,
    `Non-trainable params${num(s.totalParams - s.trainableParams, false, false)}`,
    `Total mult-adds${num(s.totalMacs, false, true)}`,
    divider,
    `Input size${num(s.inputBytes, true, false)}`,
    `Forward/backward pass size${num(s.forwardBackwardBytes, true, false)}`,
    `Params size${num(s.paramBytes, true, false)}`,
    `Estimated Total Size${num(s.inputBytes + s.forwardBackwardBytes + s.paramBytes, true, false)}`,
    divider,
  ].join('\n');
}
