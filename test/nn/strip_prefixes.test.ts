// State dicts saved from PyTorch wrappers: DistributedDataParallel prefixes every key with 'module.', torch.compile
// with '_orig_mod.' (both, in either order, when combined). A safetensors file with such keys (written here, as
// PyTorch's save_file would: F32 tensors, I64 num_batches_tracked) loads with stripPrefixes; unknown keys still error.
import { describe, expect, test } from 'vitest';
import { ArgumentError, manualSeed, StateDictError, withDevice } from '../../src/index.js';
import { deserializeSafetensors, serializeSafetensors } from '../../src/nn/safetensors.js';
import { stripKeyPrefixes, type Module, type StateDict } from '../../src/nn/module.js';
import { checkpointMetadata, CHECKPOINT_FORMAT, parseCheckpoint, segModelFromCheckpoint } from '../../src/seg/checkpoint.js';
import { UNet, type UNetOptions } from '../../src/unet/unet.js';
import { cpu32 } from '../helpers/gpu.js';

const OPTS: UNetOptions = { inChannels: 1, classes: 2, width: 2, depth: 2 };

function trained(seed: number): UNet {
  manualSeed(seed);
  return withDevice(cpu32, () => new UNet(OPTS));
}

/** The safetensors bytes of `net`'s state dict with each key as `rename(key)`, parsed back on the CPU. */
async function fileWith(net: UNet, rename: (k: string) => string, extra: StateDict = {}): Promise<StateDict> {
  const sd: StateDict = {};
  for (const [k, t] of Object.entries(net.stateDict())) sd[rename(k)] = t;
  return deserializeSafetensors(await serializeSafetensors({ ...sd, ...extra }), { device: cpu32 }).tensors;
}

async function expectSameState(a: Module, b: Module): Promise<void> {
  const sa = a.stateDict(), sb = b.stateDict();
  expect(Object.keys(sb)).toEqual(Object.keys(sa));
  for (const k of Object.keys(sa)) expect([...(await sb[k]!.toArray())], k).toEqual([...(await sa[k]!.toArray())]);
}

describe('loadStateDict stripPrefixes', () => {
  const wrappers: [string, (k: string) => string][] = [
    ['DDP (module.)', (k) => `module.${k}`],
    ['torch.compile (_orig_mod.)', (k) => `_orig_mod.${k}`],
    ['DDP of a compiled model (module._orig_mod.)', (k) => `module._orig_mod.${k}`],
    ['compiled DDP (_orig_mod.module.)', (k) => `_orig_mod.module.${k}`],
  ];
  test.each(wrappers)('%s: loads with stripPrefixes: true, not without', async (_, rename) => {
    const src = trained(1);
    const file = await fileWith(src, rename);
    const dst = trained(2);
    expect(() => dst.loadStateDict(file)).toThrow(StateDictError);
    const res = dst.loadStateDict(file, { stripPrefixes: true });
    expect(res).toEqual({ missing: [], unexpected: [] });
    await expectSameState(src, dst);
  });

  test('unknown keys still error after stripping; a custom prefix list; collisions and bad values are errors', async () => {
    const src = trained(3);
    const withExtra = await fileWith(src, (k) => `module.${k}`, { 'module.head.weight': src.outc.conv.weight });
    expect(() => trained(4).loadStateDict(withExtra, { stripPrefixes: true })).toThrow(/unexpected keys: head\.weight/);
    // Non-strict: the unknown key is reported, the rest loads.
    const loose = trained(4);
    expect(loose.loadStateDict(withExtra, { stripPrefixes: true, strict: false }).unexpected).toEqual(['head.weight']);
    await expectSameState(src, loose);
    // Custom prefixes: 'net.' is stripped, 'module.' is then left alone (an unexpected key).
    const custom = await fileWith(src, (k) => `net.${k}`);
    const dst = trained(5);
    dst.loadStateDict(custom, { stripPrefixes: ['net.'] });
    await expectSameState(src, dst);
    const ddp = await fileWith(src, (k) => `module.${k}`);
    expect(() => trained(5).loadStateDict(ddp, { stripPrefixes: ['net.'] })).toThrow(StateDictError);
    const w = src.outc.conv.weight;
    expect(() => stripKeyPrefixes({ 'module.a': w, a: w }, ['module.'])).toThrow(/'module\.a' and 'a' both become 'a'/);
    expect(() => trained(6).loadStateDict(custom, { stripPrefixes: [''] })).toThrow(ArgumentError);
    expect(() => trained(6).loadStateDict(custom, { stripPrefixes: 'module.' as unknown as string[] })).toThrow(ArgumentError);
  });

  test('a segmentation checkpoint whose model keys carry the prefixes loads with segModelFromCheckpoint(ck, { stripPrefixes })', async () => {
    const src = trained(7);
    const tensors: StateDict = {};
    for (const [k, t] of Object.entries(src.stateDict())) tensors[`model.module._orig_mod.${k}`] = t;
    const meta = { format: CHECKPOINT_FORMAT, model: src.config, data: { channels: 1, classes: 2, mapping: { values: [0, 255] }, normalization: { mean: [0.5], std: [0.25] } } };
    const bytes = await serializeSafetensors(tensors, checkpointMetadata(meta as never));
    const ck = parseCheckpoint(deserializeSafetensors(bytes, { device: cpu32 }));
    expect(() => segModelFromCheckpoint(ck)).toThrow(StateDictError);
    const { model } = segModelFromCheckpoint(ck, { stripPrefixes: true });
    await expectSameState(src, model);
  });
});
