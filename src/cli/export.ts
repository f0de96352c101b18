/// <reference types="node" />
// `unet-webgpu export --weights CKPT --onnx FILE`: a checkpoint's U-Net as an ONNX model (for ONNX Runtime, Triton),
// with the checkpoint's classes, mask values and normalisation as model metadata. Runs on the CPU device: no GPU.
import { parseArgs } from 'node:util';
import { ArgumentError } from '../core/errors.js';
import { cpuDevice, loadSegModel, writeAtomic } from '../node.js';
import { exportOnnx, ONNX_OPSETS } from '../onnx/export.js';
import { checkpointOnnxMetadata } from '../onnx/metadata.js';
import { UNet } from '../unet/unet.js';
import { intFlag } from './args.js';

export const EXPORT_HELP = `usage: unet-webgpu export --weights CKPT --onnx FILE [flags]

Writes the checkpoint's U-Net (eval mode: BatchNorm on its running statistics) as a standard ONNX model: Conv,
BatchNormalization, Relu, MaxPool, ConvTranspose or Resize, Pad, Concat, with the weights as initializers named by
their state-dict keys, and the checkpoint's classes, mask values and normalisation as metadata. Input 'input'
[N, C, H, W] float32 (normalised as in training), output 'output' the logits [N, classes, H', W'].

  --weights CKPT     a checkpoint written by \`unet-webgpu train\` (or the PyTorch round trip script)
  --onnx FILE        the model to write (atomically)
  --opset N          ai.onnx opset, ${ONNX_OPSETS.min}..${ONNX_OPSETS.max} (default ${ONNX_OPSETS.default})
  --fixed            fix batch and spatial sizes to --batch / --size (default: dynamic batch, height and width)
  --size N           input height and width to trace at and check (default: the smallest the model runs on, >= 64)
  --batch N          input batch (default 1)
  --strip-prefixes   accept state-dict keys with PyTorch wrapper prefixes (module. from DDP, _orig_mod. from torch.compile)
`;

/** The smallest size >= 64 that a U-Net of these options runs on (valid padding needs more). */
function defaultSize(model: UNet): number {
  for (let s = 64; s <= 8192; s++) {
    try {
      UNet.outputSize(s, model.config);
      return s;
    } catch {
      // too small for this depth and padding: try the next
    }
  }
  throw new ArgumentError('export', 'no input size up to 8192 fits this model; give --size');
}

export async function exportCmd(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      weights: { type: 'string' }, onnx: { type: 'string' }, opset: { type: 'string' }, fixed: { type: 'boolean', default: false },
      size: { type: 'string' }, batch: { type: 'string', default: '1' }, 'strip-prefixes': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(EXPORT_HELP);
  for (const k of ['weights', 'onnx'] as const) if (!v[k]) throw new ArgumentError('export', `--${k} is required (see --help)`);
  const opset = v.opset === undefined ? ONNX_OPSETS.default : intFlag('export', 'opset', v.opset, ONNX_OPSETS.min, ONNX_OPSETS.max);
  const batch = intFlag('export', 'batch', v.batch);
  const requested = v.size === undefined ? undefined : intFlag('export', 'size', v.size);
  const dev = cpuDevice();
  const { model, meta } = await loadSegModel(v.weights!, { device: dev, stripPrefixes: v['strip-prefixes'] });
  try {
    if (!(model instanceof UNet)) throw new ArgumentError('export', `${v.weights} holds a '${meta.modelName}' model; ONNX export maps the U-Net and TransUNet (--model unet, trans-unet) only so far`);
    const size = requested ?? defaultSize(model);
    const shape = [batch, model.config.inChannels, size, size];
    const bytes = await exportOnnx(model, shape, { opset, dynamicAxes: !v.fixed, metadata: checkpointOnnxMetadata(meta) });
    await writeAtomic(v.onnx!, bytes);
    const input = v.fixed ? shape.join('x') : `batch x ${model.config.inChannels} x height x width (traced at ${shape.join('x')})`;
    console.log(`wrote ${v.onnx} (${(bytes.length / 1e6).toFixed(2)} MB, opset ${opset}): input ${input}, ${meta.data.classes} classes, ${model.config.classes} output channel(s)`);
  } finally {
    model.dispose();
  }
}
