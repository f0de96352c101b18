// The ONNX file format: the subset of onnx.proto an exported inference model uses, as a protobufjs (8.8.1, BSD-3-Clause)
// reflection descriptor, and the encoder of a ModelProto. Field names and numbers are copied from onnx/onnx.proto3
// (github.com/onnx/onnx, MIT licence, Copyright (c) ONNX Project Contributors); fields we never write are left out,
// which protobuf readers accept (absent = default). protobufjs does the wire encoding (varints, packed repeats, int64).
import protobuf from 'protobufjs/light.js';

/** TensorProto.DataType values we write. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values we write. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule } : { id, type });

/** onnx.proto3's messages (the subset), in protobufjs's JSON descriptor form. */
const DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f(1, 'string'), type: f(20, 'int32'), f: f(2, 'float'), i: f(3, 'int64'), s: f(4, 'bytes'),
            floats: f(7, 'float', 'repeated'), ints: f(8, 'int64', 'repeated'), strings: f(9, 'bytes', 'repeated'),
          },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), doc_string: f(3, 'string') } },
        NodeProto: {
          fields: {
            input: f(1, 'string', 'repeated'), output: f(2, 'string', 'repeated'), name: f(3, 'string'), op_type: f(4, 'string'),
            domain: f(7, 'string'), attribute: f(5, 'AttributeProto', 'repeated'), doc_string: f(6, 'string'),
          },
        },
        ModelProto: {
          fields: {
            ir_version: f(1, 'int64'), opset_import: f(8, 'OperatorSetIdProto', 'repeated'), producer_name: f(2, 'string'),
            producer_version: f(3, 'string'), domain: f(4, 'string'), model_version: f(5, 'int64'), doc_string: f(6, 'string'),
            graph: f(7, 'GraphProto'), metadata_props: f(14, 'StringStringEntryProto', 'repeated'),
          },
        },
        StringStringEntryProto: { fields: { key: f(1, 'string'), value: f(2, 'string') } },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'), name: f(2, 'string'), initializer: f(5, 'TensorProto', 'repeated'), doc_string: f(10, 'string'),
            input: f(11, 'ValueInfoProto', 'repeated'), output: f(12, 'ValueInfoProto', 'repeated'), value_info: f(13, 'ValueInfoProto', 'repeated'),
          },
        },
        TensorProto: {
          fields: {
            dims: f(1, 'int64', 'repeated'), data_type: f(2, 'int32'), float_data: f(4, 'float', 'repeated'), int64_data: f(7, 'int64', 'repeated'),
            name: f(8, 'string'), doc_string: f(12, 'string'), raw_data: f(9, 'bytes'),
          },
        },
        TensorShapeProto: {
          fields: { dim: f(1, 'Dimension', 'repeated') },
          nested: { Dimension: { oneofs: { value: { oneof: ['dim_value', 'dim_param'] } }, fields: { dim_value: f(1, 'int64'), dim_param: f(2, 'string'), denotation: f(3, 'string') } } },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: { tensor_type: f(1, 'Tensor'), denotation: f(6, 'string') },
          nested: { Tensor: { fields: { elem_type: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } } },
        },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
      },
    },
  },
};

let root: protobuf.Root | null = null;
/** The message type `name` (e.g. 'ModelProto'), from the descriptor (built once). */
export function onnxType(name: string): protobuf.Type {
  root ??= protobuf.Root.fromJSON(DESCRIPTOR);
  return root.lookupType(`onnx.${name}`);
}

/** Plain-object forms of the messages (snake_case fields as in onnx.proto; int64 as numbers). */
export interface AttributeJson { name: string; type: number; f?: number; i?: number; s?: Uint8Array; floats?: number[]; ints?: number[] }
export interface NodeJson { input: string[]; output: string[]; name: string; op_type: string; attribute: AttributeJson[] }
export interface TensorJson { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }
export type DimJson = { dim_value: number } | { dim_param: string };
export interface ValueInfoJson { name: string; type: { tensor_type: { elem_type: number; shape: { dim: DimJson[] } } } }
export interface ModelJson {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: { node: NodeJson[]; name: string; initializer: TensorJson[]; input: ValueInfoJson[]; output: ValueInfoJson[] };
  metadata_props: { key: string; value: string }[];
}

/** The ModelProto bytes of `model` (verified against the descriptor first). */
export function encodeModel(model: ModelJson): Uint8Array {
  const T = onnxType('ModelProto');
  const err = T.verify(model);
  if (err) throw new Error(`exportOnnx: the model does not fit onnx.ModelProto (${err})`);
  return T.encode(T.fromObject(model)).finish();
}

/** Parses ModelProto bytes back into plain objects (int64 as numbers, bytes as Uint8Array): for checks and tests. */
export function decodeModel(bytes: Uint8Array): ModelJson {
  const T = onnxType('ModelProto');
  return T.toObject(T.decode(bytes), { longs: Number, defaults: false, arrays: true }) as ModelJson;
}
