// `unet-webgpu export` in a child process: a checkpoint made here (small U-Net, random BatchNorm state) becomes an
// ONNX model that ONNX Runtime runs to our forward's logits, with the checkpoint's metadata; --fixed fixes the sizes;
// --strip-prefixes takes DDP / torch.compile keys; unknown flags, missing flags and bad values are usage errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CHECKPOINT_FORMAT, type SegCheckpointMeta } from '../../src/seg/checkpoint.js';
import { saveCheckpoint } from '../../src/node.js';
import { onnxCheckpointMeta } from '../../src/onnx/metadata.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { UNet, type UNetOptions } from '../../src/unet/unet.js';
import { cpu32 } from '../helpers/gpu.js';
import { rng, uniformArray } from '../helpers/random.js';
import { checkOnnxModel } from '../onnx_export/checker.js';
import { maxAbs, net, ours, randomState, runOrt, session } from '../onnx_export/nets.js';

const BIN = join(import.meta.dirname, '../../bin/unet-webgpu.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'export', ...args], { encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'unet-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPTS: UNetOptions = { inChannels: 1, classes: 3, width: 4, depth: 2, padding: 'valid', bilinear: true };
const model = net(OPTS, randomState(OPTS, 31), cpu32);
const META: SegCheckpointMeta = {
  format: CHECKPOINT_FORMAT,
  model: model.config,
  data: { channels: 1, classes: 3, mapping: { values: [0, 128, 255] }, normalization: { mean: [0.41], std: [0.17] }, classNames: ['bg', 'cell', 'membrane'] },
};
const CKPT = join(dir, 'ck.safetensors');
const PREFIXED = join(dir, 'ddp.safetensors');
const tensors = (prefix: string) => new Map(Object.entries(model.stateDict()).map(([k, t]) => [`model.${prefix}${k}`, t]));
await saveCheckpoint(CKPT, tensors(''), META);
await saveCheckpoint(PREFIXED, tensors('module._orig_mod.'), META);

describe('export command', () => {
  test('--help, unknown and missing flags, bad values', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: unet-webgpu export --weights CKPT --onnx FILE/);
    const unknown = run('--weights', CKPT, '--onnx', join(dir, 'x.onnx'), '--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unet-webgpu export: Unknown option '--bogus'/);
    for (const [args, msg] of [
      [['--weights', CKPT], /--onnx is required/],
      [['--onnx', 'x.onnx'], /--weights is required/],
      [['--weights', CKPT, '--onnx', 'x.onnx', '--opset', '9'], /--opset must be an integer in \[13, 21\], got '9'/],
      [['--weights', CKPT, '--onnx', 'x.onnx', '--size', '20'], /an input of 20 cannot run with padding 'valid'/],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    expect(existsSync('x.onnx')).toBe(false);
    // A checkpoint with wrapper prefixes is refused without --strip-prefixes (exit 1: not a usage error).
    const prefixed = run('--weights', PREFIXED, '--onnx', join(dir, 'p.onnx'));
    expect(prefixed.status).toBe(1);
    expect(prefixed.stderr).toMatch(/unexpected keys: module\._orig_mod\.inc/);
  });

  test('writes a model ONNX Runtime runs to our logits at two sizes, with the checkpoint metadata', async () => {
    const file = join(dir, 'model.onnx');
    const r = run('--weights', CKPT, '--onnx', file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*model\.onnx .*opset 17.*batch x 1 x height x width/);
    const bytes = readFileSync(file);
    const decoded = decodeModel(bytes);
    checkOnnxModel(decoded);
    const props = Object.fromEntries(decoded.metadata_props.map((p) => [p.key, p.value]));
    expect(props.classes).toBe('3');
    expect(JSON.parse(props.normalization!)).toEqual(META.data.normalization);
    expect(JSON.parse(props.mask_values!)).toEqual([0, 128, 255]);
    expect(JSON.parse(props.class_names!)).toEqual(['bg', 'cell', 'membrane']);
    expect(onnxCheckpointMeta(props)).toEqual({ format: META.format, model: META.model, data: META.data });
    const s = await session(bytes);
    const r2 = rng(5);
    for (const shape of [[1, 1, 64, 64], [2, 1, 77, 69]]) {
      const x = uniformArray(r2, shape.reduce((a, b) => a * b), -1, 1);
      const got = await runOrt(s, x, shape);
      expect(got.dims).toEqual([shape[0], 3, UNet.outputSize(shape[2]!, OPTS), UNet.outputSize(shape[3]!, OPTS)]);
      expect(maxAbs(got.data, await ours(model, x, shape))).toBeLessThanOrEqual(1e-4);
    }
    await s.release();
  });

  test('--fixed --size --batch --opset 13 and --strip-prefixes', async () => {
    const file = join(dir, 'fixed.onnx');
    const r = run('--weights', PREFIXED, '--onnx', file, '--fixed', '--size', '68', '--batch', '2', '--opset', '13', '--strip-prefixes');
    expect(r.status, r.stderr).toBe(0);
    const decoded = decodeModel(readFileSync(file));
    expect(decoded.opset_import).toEqual([{ version: 13 }]);
    expect(decoded.ir_version).toBe(7);
    expect(decoded.graph.input[0]!.type.tensor_type.shape.dim).toEqual([{ dim_value: 2 }, { dim_value: 1 }, { dim_value: 68 }, { dim_value: 68 }]);
    const out = UNet.outputSize(68, OPTS);
    expect(decoded.graph.output[0]!.type.tensor_type.shape.dim).toEqual([{ dim_value: 2 }, { dim_value: 3 }, { dim_value: out }, { dim_value: out }]);
    const s = await session(readFileSync(file));
    const shape = [2, 1, 68, 68];
    const x = uniformArray(rng(6), 2 * 68 * 68, -1, 1);
    expect(maxAbs((await runOrt(s, x, shape)).data, await ours(model, x, shape))).toBeLessThanOrEqual(1e-4);
    await s.release();
  });
});
