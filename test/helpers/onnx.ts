import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OnnxTensor {
  name: string;
  dtype?: string;
  shape: number[];
  data: number[];
  absent?: boolean;
  from?: string;
}

export interface OnnxCase {
  test: string;
  op: string;
  opset: Record<string, number>;
  attributes: Record<string, unknown>;
  inputs: OnnxTensor[];
  outputs: OnnxTensor[];
}

const DIR = join(import.meta.dirname, '../fixtures/onnx-node');

/** Every committed ONNX conformance case of one op type (e.g. 'Conv', 'MaxPool'). */
export function onnxCases(op: string): OnnxCase[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as OnnxCase)
    .filter((c) => c.op === op)
    .sort((a, b) => a.test.localeCompare(b.test));
}
