// Layers only know downward: every relative import under src/ goes to the same layer or a lower one
// (core < kernels < tensor < nn, data < unet < seg, bench < the entries and the CLI), and src/kernels has no import of the tensor
// layer. A new upward import fails here with the file and the import.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');
const RANK: Record<string, number> = { core: 0, kernels: 1, tensor: 2, nn: 3, data: 3, unet: 4, seg: 5, onnx: 5, bench: 5, cli: 6 };
/** The layer of a file: its first folder under src/, or 'entry' for src/index.ts, node.ts, device.ts. */
const layerOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? 'entry' : parts[0]!;
};
const rank = (layer: string) => RANK[layer] ?? 6;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** [from, to] for every relative import or re-export (type-only ones included) of a file. */
function importsOf(file: string): [string, string][] {
  const text = readFileSync(file, 'utf8');
  const out: [string, string][] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) {
    const spec = (m[1] ?? m[2])!;
    out.push([file, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))]);
  }
  return out;
}

describe('layers', () => {
  const all = files(SRC);
  test('the scan sees the tree (it can fail)', () => {
    expect(all.length).toBeGreaterThan(60);
    const edges = all.flatMap(importsOf);
    expect(edges.length).toBeGreaterThan(200);
    // A made-up upward edge is reported by the same rule.
    const up = ([from, to]: [string, string]) => rank(layerOf(to)) > rank(layerOf(from));
    expect(up([join(SRC, 'kernels/conv.ts'), join(SRC, 'tensor/tensor.ts')])).toBe(true);
  });

  test('no import from a lower layer to a higher one', () => {
    const bad = all.flatMap(importsOf)
      .filter(([from, to]) => rank(layerOf(to)) > rank(layerOf(from)))
      .map(([from, to]) => `${relative(SRC, from)} (${layerOf(from)}) imports ${relative(SRC, to)} (${layerOf(to)})`);
    expect(bad).toEqual([]);
  });
});
