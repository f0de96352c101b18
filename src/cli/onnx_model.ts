/// <reference types="node" />
// `predict --onnx MODEL`: an exported model served by ONNX Runtime (onnxruntime-node, CPU provider) as predictTiled's
// TileModel, with the U-Net options, classes, mask values and normalisation from the model's metadata (written by
// `unet-webgpu export`). onnxruntime-node is an optional peer dependency, loaded only here.
import { readFile } from 'node:fs/promises';
import { ArgumentError, FormatError } from '../core/errors.js';
import { onnxCheckpointMeta } from '../onnx/metadata.js';
import { decodeModel } from '../onnx/proto.js';
import type { SegCheckpointMeta } from '../seg/checkpoint.js';
import type { TileModel } from '../seg/predict.js';

export interface OnnxSegModel {
  model: TileModel;
  meta: Pick<SegCheckpointMeta, 'format' | 'model' | 'data'>;
  close(): Promise<void>;
}

/** The exported model at `path` as a TileModel; FormatError when it lacks our metadata or has fixed sizes. */
export async function loadOnnxSegModel(path: string, threads?: number): Promise<OnnxSegModel> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    throw new ArgumentError('predict', '--onnx runs the model in ONNX Runtime: install it with `npm install onnxruntime-node`');
  }
  const bytes = await readFile(path);
  const decoded = decodeModel(bytes);
  const meta = onnxCheckpointMeta(Object.fromEntries((decoded.metadata_props ?? []).map((p) => [p.key, p.value])), path);
  const dims = decoded.graph.input[0]?.type.tensor_type.shape.dim ?? [];
  if (dims.length !== 4 || [0, 2, 3].some((i) => !('dim_param' in dims[i]!))) {
    throw new FormatError(`predict: ${path} has fixed input sizes; tiles need a model exported with dynamic sizes (export without --fixed)`);
  }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) });
  const [input, output] = [session.inputNames[0]!, session.outputNames[0]!];
  return {
    meta,
    model: {
      // `export` writes U-Nets and TransUNets ('same' padding, pad merge): the tiling geometry from their options.
      config: tileGeometryOf(meta.model as Partial<TileModel['config']>),
      // Host memory, not a GPU binding: tiles and batches are bounded by predictTiled's memory budget.
      limits: { maxBindingBytes: 2 ** 31 },
      async logits(x, shape) {
        const res = await session.run({ [input]: new ort.Tensor('float32', x, [...shape]) });
        return res[output]!.data as Float32Array;
      },
    },
    close: () => session.release(),
  };
}

/** The tile geometry of exported model options (a UNet's config, or a TransUNet's options: 'same' padding, pad merge). */
function tileGeometryOf(o: Partial<TileModel['config']>): TileModel['config'] {
  const { inChannels, classes, width, depth, padding = 'same', merge = 'pad' } = o;
  return { inChannels: inChannels!, classes: classes!, width: width!, depth: depth!, padding, merge };
}
