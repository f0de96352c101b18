// A small structural checker of exported models (the rules of onnx.checker that an exporter can break): IR version
// and an ai.onnx opset import present, unique value names, every node input defined before use (a graph input, an
// initializer, an earlier node's output, or '' for an omitted optional input), graph outputs produced, initializer
// data sized by dims and dtype, and attributes typed.
import { expect } from 'vitest';
import { AttributeType, DataType, type ModelJson } from '../../src/onnx/proto.js';

const ELEM_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.INT64]: 8 };

export function checkOnnxModel(m: ModelJson): void {
  expect(m.ir_version).toBeGreaterThanOrEqual(7);
  const opset = m.opset_import.find((o) => !o.domain);
  expect(opset, 'an ai.onnx opset import').toBeDefined();
  expect(opset!.version).toBeGreaterThanOrEqual(13);
  const g = m.graph;
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    expect(name, what).toBeTruthy();
    expect(defined.has(name), `${name} (${what}) defined twice`).toBe(false);
    defined.add(name);
  };
  for (const i of g.input) define(i.name, 'graph input');
  for (const t of g.initializer) {
    define(t.name, 'initializer');
    const n = (t.dims ?? []).reduce((a, b) => a * b, 1);
    expect(ELEM_BYTES[t.data_type], `${t.name} dtype`).toBeDefined();
    expect(t.raw_data?.length ?? 0, `${t.name} raw_data bytes`).toBe(n * ELEM_BYTES[t.data_type]!);
  }
  const nodeNames = new Set<string>();
  for (const node of g.node) {
    expect(node.op_type).toBeTruthy();
    expect(nodeNames.has(node.name), `node name ${node.name} twice`).toBe(false);
    nodeNames.add(node.name);
    for (const i of node.input ?? []) if (i !== '') expect(defined.has(i), `${node.name} (${node.op_type}) reads ${i} before it is defined`).toBe(true);
    for (const o of node.output) define(o, `output of ${node.name}`);
    for (const a of node.attribute ?? []) {
      expect(Object.values(AttributeType)).toContain(a.type);
      const field = { [AttributeType.FLOAT]: 'f', [AttributeType.INT]: 'i', [AttributeType.STRING]: 's', [AttributeType.FLOATS]: 'floats', [AttributeType.INTS]: 'ints' }[a.type]!;
      // proto3 leaves zeros out on the wire: a missing scalar is its default 0.
      if (field === 'ints' || field === 's') expect(a[field as 'ints'], `${node.name}.${a.name}`).toBeDefined();
    }
  }
  for (const o of g.output) expect(defined.has(o.name), `graph output ${o.name} produced`).toBe(true);
  for (const v of [...g.input, ...g.output]) expect(v.type.tensor_type.elem_type).toBe(DataType.FLOAT);
}
