// Which kernel family a convolution launch takes on a device: the device's kernel policy (under 'auto', a measured
// choice of the launch's bucket from the device's tuning table, else rules by adapter facts and shape, each measured)
// or a forced family, refused where the adapter does not meet its assumptions.
import type { Backend } from '../../kernels/backend.js';
import {
  conv2d_bwd_weight as bwdWeightKernel,
  conv2d_bwd_weight_few as bwdWeightFewKernel,
  conv2d_bwd_weight_k2s2 as bwdWeightK2s2Kernel,
  conv2d_bwd_weight_sg as bwdWeightSgKernel,
  conv2d_bwd_weight_tiled as bwdWeightTiledKernel,
  conv2d_fwd as conv2dKernel,
  conv2d_fwd_k2s2 as conv2dK2s2Kernel,
  conv2d_fwd_sg as conv2dSgKernel,
  conv2d_fwd_tiled as conv2dTiledKernel,
  conv_transpose2d_fwd as convTKernel,
  conv_transpose2d_fwd_k2s2 as convTK2s2Kernel,
  conv_transpose2d_fwd_sg as convTSgKernel,
  conv_transpose2d_fwd_tiled as convTTiledKernel,
} from '../../kernels/conv.js';
import { isK2S2, type Constants, type KernelSpec } from '../../kernels/define_kernel.js';
import { fixedSubgroups, subgroupWorkgroup, type ConvVariant, type DirectConvFamily } from '../../kernels/policy.js';
import { convFwdBucket, convWgradBucket, tunedChoice } from '../../kernels/tuning.js';
import type { Taps } from './conv_geometry.js';
import { shiftOf, vec4Rows } from './split.js';

/** A kernel and the constants it launches with. */
export interface KernelChoice {
  readonly spec: KernelSpec;
  readonly constants: Constants;
}

/**
 * The family of a direct launch under the policy setting v: a forced single-launch family as it is; under 'auto' the
 * device's measured choice for the bucket, else `rule`; 'winograd' (a launch Winograd did not take) the rule.
 */
function familyOf(dev: Backend, v: ConvVariant, bucket: () => string, rule: () => DirectConvFamily): DirectConvFamily {
  if (v === 'portable' || v === 'subgroup' || v === 'tiled') return v;
  return (v === 'auto' ? (tunedChoice(dev, bucket()) as DirectConvFamily | null) : null) ?? rule();
}

// ---------------------------------------------------------------------------------------------------------------
// Forward-kernel families: conv2d_fwd / conv_transpose2d_fwd (portable), their subgroup variants (*_sg: each lane
// loads the weights of one of 8 input channels, shared with subgroupBroadcast; measured ~1.5x on lavapipe) and their
// tiled variants (*_tiled: implicit GEMM in workgroup-memory tiles, the layout a GPU wants; 'auto' takes them only
// where the tuning table measured them fastest: on lavapipe they are ~2x slower than portable, bench/README).

/** What a forward launch's kernel depends on: its geometry (the tuning bucket), channel counts and window alignment. */
export type FwdLaunch = Parameters<typeof convFwdBucket>[0] & {
  readonly h: number; readonly w: number; readonly ph: number; readonly pw: number; readonly dh: number; readonly dw: number;
  readonly x_off: number; readonly x_ns: number; readonly y_off: number; readonly y_ns: number;
};

/**
 * Whether a launch meets conv2d_fwd_k2s2's assumptions: 2x2 taps at stride 2, no padding, dilation 1, the output
 * exactly 2x the input (transposed) or half of it (direct), rows of the small grid a multiple of 4 wide, and every
 * row of x and y starting on a multiple of 4 elements (vec4 loads and stores).
 */
function k2s2Fits(p: FwdLaunch, transposed: boolean): boolean {
  if (!isK2S2(p)) return false;
  const sizes = transposed ? p.oh === 2 * p.h && p.ow === 2 * p.w : p.oh === Math.floor(p.h / 2) && p.ow === Math.floor(p.w / 2);
  return sizes && vec4Rows(p.w, p.x_off, p.x_ns) && vec4Rows(p.ow, p.y_off, p.y_ns);
}

/**
 * The kernel and its constants for a forward launch `p` in `family`; `transposed` picks the transposed convolution's.
 * Portable and subgroup: 8 output channels per invocation (CO8), or 4 for launches with at most 4; subgroup: 16 (CO16)
 * for launches with more than 8, 2 outputs per lane (PX2) for rows wider than the workgroup, in workgroups of the
 * subgroup size (refused where the adapter cannot run them); the subgroup family's 2x2 stride-2 launches that fit
 * it take conv2d_fwd_k2s2 (4 columns x 8 or 16 channels per lane, vec4 loads and stores; kernel lab, same launches:
 * 10-13% less time than conv2d_fwd_sg at config isbi, 13-29% at config c; its direct kernel's blocks of 2 channels x
 * 4 taps then took the up-conv's input gradient from 110-114 to 79-80 ms per isbi step, 1362-1513 to 899-938 ms per
 * c step; CO = 32 there measured 70-77 and 971-981 ms, so 16 stays).
 */
export function fwdKernelFor(dev: Backend, family: DirectConvFamily, transposed: boolean, p: FwdLaunch): KernelChoice {
  const CO8 = p.cout > 4;
  if (family === 'portable') return { spec: transposed ? convTKernel : conv2dKernel, constants: { CO8 } };
  if (family === 'tiled') return { spec: transposed ? convTTiledKernel : conv2dTiledKernel, constants: {} };
  const WG = subgroupWorkgroup('conv', dev, 'the subgroup forward kernels');
  if (k2s2Fits(p, transposed)) {
    // Channel blocks no wider than the launch's channels; the transposed kernel holds 4 taps per channel (<= 8).
    const CO = p.cout <= 4 ? 4 : transposed || p.cout <= 8 ? 8 : 16;
    return { spec: transposed ? convTK2s2Kernel : conv2dK2s2Kernel, constants: { WG, CO } };
  }
  // One output per lane where a row (of one phase) has at most WG: with 2, half the row's lanes would idle (the U-Net's
  // 8 x 8 bottleneck on 8-lane subgroups).
  const PX2 = Math.ceil(p.ow / (transposed ? p.sw : 1)) > WG;
  return { spec: transposed ? convTSgKernel : conv2dSgKernel, constants: { WG, CO16: p.cout > 8, CO8, PX2 } };
}

/**
 * The kernel for one forward launch `p` on `dev` (`transposed`: the transposed convolution's). 'auto': the tuning
 * table's choice for the launch's bucket where measured, else the subgroup variant on adapters with the subgroups
 * feature and a fixed subgroup size of 8 or 16 (lavapipe; the variant's lane scheme is for SIMD-on-CPU, not 32-wide
 * GPUs) for launches with >= 8 input and > 8 output channels (fewer leave the lanes' shared weights or the 16-channel
 * block half empty: the portable kernel measured faster), else portable. A forced family takes every launch.
 */
export function fwdKernel(dev: Backend, transposed: boolean, p: FwdLaunch): KernelChoice {
  const family = familyOf(dev, dev.policy.convForward, () => convFwdBucket(p, transposed), () => (fixedSubgroups(dev.adapter) && p.cin >= 8 && p.cout > 8 ? 'subgroup' : 'portable'));
  return fwdKernelFor(dev, family, transposed, p);
}

// Winograd F(4x4, 3x3) is worth its extra memory passes where the channels make the contraction dominate:
// cin*cout/(cin + cout) >= WINOGRAD_MIN_CHANNELS (16x16 channels and up; measured on configs a and b).
const WINOGRAD_MIN_CHANNELS = 8;

/**
 * Whether Winograd takes a launch with taps k (3x3, stride 1, dilation 1) contracting ca with cb channels, under the
 * variant setting v (the forward or the weight-gradient one).
 */
export function winogradFor(dev: Backend, v: ConvVariant, k: Taps, ca: number, cb: number): boolean {
  if (!taps3x3Unit(k)) return false;
  if (v === 'winograd') return subgroupWorkgroup('conv', dev, 'the Winograd kernels') > 0;
  return v === 'auto' && fixedSubgroups(dev.adapter) && ca * cb >= WINOGRAD_MIN_CHANNELS * (ca + cb);
}

/** 3x3 taps at stride 1, dilation 1 (Winograd F(4x4, 3x3)'s geometry, and conv2d_bwd_weight_few's). */
const taps3x3Unit = (k: Taps) => k.kh === 3 && k.kw === 3 && k.sh === 1 && k.sw === 1 && k.dh === 1 && k.dw === 1;

/**
 * Whether 'auto' may give a forward launch that winogradFor's channel rule leaves to the direct kernels (few channels,
 * the U-Net's 1-channel first layer) to the one-pass Winograd kernel: the rule weighs the transformed data's memory
 * passes, which winograd_fused does not make; conv_winograd.ts takes it only where that kernel takes the whole launch.
 * GPU timestamps (`bench/conv_layer.ts --gpu`, five runs each): the ISBI recipe's first layer (4 x 1 -> 16 channels at
 * 256 x 256) conv2d_fwd 9.3-13.0 ms, winograd_fused 4.0-4.4 ms; 2 x 8 -> 8 at 64 x 64 1.1 against 0.4-0.6 ms; 2 x 4 -> 8
 * at 128 x 128 2.4-3.3 against 0.9-1.0; 2 x 8 -> 12 at 128 x 128 4.0-7.7 against 1.4-2.6 (the subgroup kernels slower).
 */
export function winogradFewFor(dev: Backend, v: ConvVariant, k: Taps): boolean {
  return v === 'auto' && taps3x3Unit(k) && fixedSubgroups(dev.adapter);
}

// ---------------------------------------------------------------------------------------------------------------
// Weight-gradient families: conv2d_bwd_weight (portable), conv2d_bwd_weight_sg (lanes over x channels, g pixels
// shared with subgroupBroadcast, a tap row's window of x in registers; measured ~4x on lavapipe) and
// conv2d_bwd_weight_tiled (workgroup-memory tiles; as the forward's tiled kernels, 'auto' takes it only where measured).

/** What a weight-gradient launch's kernel depends on: its geometry and slice (the tuning bucket), windows and alignment. */
export type WgradLaunch = Parameters<typeof convWgradBucket>[0] & {
  readonly gh: number; readonly xh: number; readonly xw: number;
  readonly ph: number; readonly pw: number; readonly dh: number; readonly dw: number;
  readonly g_off: number; readonly g_ns: number; readonly x_off: number; readonly x_ns: number;
};

/** Whether every row of a weight-gradient launch's g and x starts on a multiple of 4 elements (the vec4 kernels' loads). */
const vec4Wgrad = (p: WgradLaunch) => vec4Rows(p.gw, p.g_off, p.g_ns) && vec4Rows(p.xw, p.x_off, p.x_ns);

/**
 * Whether a weight-gradient launch meets conv2d_bwd_weight_k2s2's assumptions: 2x2 taps at stride 2, no padding,
 * dilation 1, x covering twice g's grid, and every row of g and x starting on a multiple of 4 elements (vec4 loads).
 */
function k2s2WgradFits(p: WgradLaunch): boolean {
  return isK2S2(p) && p.xh >= 2 * p.gh && p.xw >= 2 * p.gw && vec4Wgrad(p);
}

// x channels up to which conv2d_bwd_weight_few takes a 3x3 stride-1 weight gradient from conv2d_bwd_weight_sg (whose
// lanes run over x channels: with one, 7 lanes in 8 compute padding).
const FEW_WGRAD_CHANNELS = 4;

/**
 * Whether a weight-gradient launch meets conv2d_bwd_weight_few's assumptions and channel limit: 3x3 taps at stride 1,
 * dilation 1, at most FEW_WGRAD_CHANNELS x channels, rows of g and x a multiple of 4 wide from multiples of 4 (vec4).
 */
function fewWgradFits(p: WgradLaunch): boolean {
  return taps3x3Unit(p) && p.b <= FEW_WGRAD_CHANNELS && vec4Wgrad(p);
}

/**
 * The weight-gradient kernel and its constants in `family` for launch `p`. The subgroup variant runs in workgroups of
 * one subgroup with the shader path of the geometry (PATH: one small pipeline per path instead of every path in one);
 * the subgroup family's 2x2 stride-2 launches that fit it take conv2d_bwd_weight_k2s2 (vec4 loads; kernel lab, same
 * launches: 2.3x faster than conv2d_bwd_weight_sg's 2x2 path at config c, 2.4x at config isbi).
 */
export function bwdWeightKernelFor(dev: Backend, family: DirectConvFamily, p: WgradLaunch): KernelChoice {
  if (family === 'portable') return { spec: bwdWeightKernel, constants: {} };
  if (family === 'tiled') return { spec: bwdWeightTiledKernel, constants: {} };
  const WG = subgroupWorkgroup('conv', dev, 'the subgroup weight-gradient kernels');
  // 16 g channels per workgroup (kernel lab, config c: 1149 ms per step against 1212 with 8 and 1670 with 32), 8 where
  // the launch has at most 8.
  if (k2s2WgradFits(p)) return { spec: bwdWeightK2s2Kernel, constants: { WG, AB: p.a > 8 ? 16 : 8 } };
  if (fewWgradFits(p)) return { spec: bwdWeightFewKernel, constants: { WG, SHIFT: shiftOf(p.pw, 4) } };
  const unit = p.dw === 1;
  const PATH = unit && p.sw === 1 && p.kh === 3 && p.kw === 3 ? 1 : unit && p.sw === 1 && p.kh === 1 && p.kw === 1 ? 2 : unit && p.sw === 2 && p.kh === 2 && p.kw === 2 ? 3 : 4;
  return { spec: bwdWeightSgKernel, constants: { WG, PATH } };
}

/**
 * The weight-gradient kernel for one launch `p`. 'auto': the tuning table's choice for the launch's bucket where
 * measured, else the subgroup variant on adapters with the subgroups feature and a fixed subgroup size of 8 or 16
 * (lavapipe; its lane scheme is for SIMD-on-CPU, not 32-wide GPUs), else portable; 'winograd' (a launch Winograd did
 * not take) as the rule; a forced family takes every launch.
 */
export function bwdWeightKernelOf(dev: Backend, p: WgradLaunch): KernelChoice {
  const family = familyOf(dev, dev.policy.convWeightGrad, () => convWgradBucket(p), () => (fixedSubgroups(dev.adapter) ? 'subgroup' : 'portable'));
  return bwdWeightKernelFor(dev, family, p);
}
