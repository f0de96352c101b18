// The checkpoint's conventions as ONNX model metadata (metadata_props), so a server knows how to feed the model and
// read its output without our checkpoint: the U-Net options, the classes and their mask values, the input
// normalisation. Every value is a string (ONNX's rule); structured values are JSON.
import { FormatError } from '../core/errors.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_KEY, type SegCheckpointMeta } from '../seg/checkpoint.js';

/** metadata_props of a checkpoint: 'unet-webgpu' (the checkpoint's JSON less its training state) and plain keys. */
export function checkpointOnnxMetadata(meta: SegCheckpointMeta): Record<string, string> {
  const { data, model } = meta;
  const out: Record<string, string> = {
    [CHECKPOINT_KEY]: JSON.stringify({ format: meta.format, model, data }),
    in_channels: String(model.inChannels),
    classes: String(data.classes),
    out_channels: String(model.classes),
    mask_values: JSON.stringify(data.mapping.values),
    normalization: JSON.stringify(data.normalization),
  };
  if (data.classNames) out.class_names = JSON.stringify(data.classNames);
  return out;
}

/** The checkpoint metadata an exported model carries (the inverse of checkpointOnnxMetadata); FormatError without it. */
export function onnxCheckpointMeta(props: Record<string, string>, name = 'model'): Pick<SegCheckpointMeta, 'format' | 'model' | 'data'> {
  const json = props[CHECKPOINT_KEY];
  if (!json) throw new FormatError(`onnx: ${name} has no '${CHECKPOINT_KEY}' metadata (not exported from a unet-webgpu checkpoint)`);
  const meta = JSON.parse(json) as Pick<SegCheckpointMeta, 'format' | 'model' | 'data'>;
  if (meta.format !== CHECKPOINT_FORMAT) throw new FormatError(`onnx: ${name} has format ${String(meta.format)}, this version reads ${CHECKPOINT_FORMAT}`);
  return meta;
}
