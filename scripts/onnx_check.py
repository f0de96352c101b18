#!/usr/bin/python3
"""The ONNX project's own checker on exported models: /usr/bin/python3 scripts/onnx_check.py MODEL.onnx [...]

onnx.checker.check_model(full_check=True) (the IR and operator rules, then shape inference) and strict type-checked
shape inference; prints each model's IR version, opset, node count, inferred output shape and metadata keys; exits 1
on the first failure. Needs the onnx Python package (Debian: apt-get install python3-onnx, 1.12 = opsets <= 17).
Not run by the tests (they never call Python); test/onnx_export/checker.ts holds the structural rules in TypeScript.
"""
import sys

import onnx
from onnx import shape_inference


def dims(t):
    return [d.dim_param or d.dim_value for d in t.type.tensor_type.shape.dim]


for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    print(f'{path}: ok (onnx {onnx.__version__}): IR {m.ir_version}, opset {[o.version for o in m.opset_import]}, '
          f'{len(m.graph.node)} nodes, input {dims(m.graph.input[0])} -> output {dims(inferred.graph.output[0])}, '
          f'metadata {[p.key for p in m.metadata_props]}')
