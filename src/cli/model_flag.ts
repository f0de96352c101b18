// `--model unet|attention-unet|res-unet|trans-unet|unet++|plain-conv-unet`: which model of the U-Net family a command builds, and the options
// it gets from the model flags. A flag that model has not (`--padding` for attention-unet) is an ArgumentError.
import { ArgumentError } from '../core/errors.js';
import { MODEL_NAMES, type ModelName, type ModelOptionsOf } from '../unet/family/index.js';
import { UNet } from '../unet/unet.js';
import { choiceFlag } from './args.js';

export const MODEL_FLAG = { model: { type: 'string' }, 'deep-supervision': { type: 'boolean' } } as const;

/** The help text of --model. */
export const MODEL_HELP = `--model ${MODEL_NAMES.join('|')} (unet)`;

/** --model's value (default unet), one of the family's names. */
export const modelFlag = (cmd: string, v: string | undefined): ModelName => choiceFlag(cmd, 'model', v ?? 'unet', MODEL_NAMES);

/** The options each model takes beyond inChannels / classes / width / depth, with the flag that sets it. */
const SPECIFIC: Record<ModelName, readonly string[]> = {
  unet: ['padding', 'bilinear', 'bias', 'merge'],
  'attention-unet': [],
  'res-unet': ['bias'],
  'trans-unet': ['bilinear', 'bias'],
  'unet++': ['deepSupervision'],
  'plain-conv-unet': [],
};
const FLAG_OF: Record<string, string> = { padding: '--padding', bilinear: '--bilinear', bias: '--no-bias', merge: '--merge', deepSupervision: '--deep-supervision' };

/**
 * The options of `model`: the common ones, plus those of `specific` that were given (undefined: not given) and that
 * model has; a given one it has not is an ArgumentError naming the flag and the models that take it.
 */
export function familyOptions<K extends ModelName>(
  cmd: string,
  model: K,
  common: { inChannels: number; classes: number; width?: number; depth?: number },
  specific: Record<string, unknown>,
): ModelOptionsOf[K] {
  const out: Record<string, unknown> = { ...common };
  for (const [k, v] of Object.entries(specific)) {
    if (v === undefined) continue;
    if (!SPECIFIC[model].includes(k)) {
      const takers = MODEL_NAMES.filter((m) => SPECIFIC[m].includes(k));
      throw new ArgumentError(cmd, `${FLAG_OF[k] ?? k} applies to --model ${takers.join(', ')}, not ${model}`);
    }
    out[k] = v;
  }
  for (const k of ['width', 'depth']) if (out[k] === undefined) delete out[k];
  return out as unknown as ModelOptionsOf[K];
}

/** `--checkpointing`: activation checkpointing on every DoubleConv (U-Net, ResUNet, TransUNet); other models are an ArgumentError. */
export function applyCheckpointing<M>(cmd: string, model: M, modelName: ModelName, on: boolean | undefined): M {
  if (!on) return model;
  if (!(model instanceof UNet)) throw new ArgumentError(cmd, `--checkpointing applies to --model unet, res-unet, trans-unet, not ${modelName}`);
  model.setCheckpointing(true);
  return model;
}
