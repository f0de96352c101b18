// Which kernel family a convolution launch takes on a device: the device's kernel policy ('auto' rules by adapter
// facts and shape, each measured) or a forced family, refused where the adapter does not meet its assumptions.
import type { Backend } from '../../kernels/backend.js';
import {
  conv2d_bwd_weight as bwdWeightKernel,
  conv2d_bwd_weight_sg as bwdWeightSgKernel,
  conv2d_bwd_weight_tiled as bwdWeightTiledKernel,
  conv2d_fwd_sg as conv2dSgKernel,
  conv2d_fwd_tiled as conv2dTiledKernel,
  conv_transpose2d_fwd as convTKernel,
  conv_transpose2d_fwd_sg as convTSgKernel,
  conv_transpose2d_fwd_tiled as convTTiledKernel,
} from '../../kernels/conv.js';
import type { Constants, KernelSpec } from '../../kernels/define_kernel.js';
import { fixedSubgroups, subgroupWorkgroup, type ConvVariant } from '../../kernels/policy.js';
import type { Taps } from './conv_geometry.js';

// ---------------------------------------------------------------------------------------------------------------
// Forward-kernel variants: conv2d_fwd / conv_transpose2d_fwd (portable), their subgroup variants (*_sg: each lane
// loads the weights of one of 8 input channels, shared with subgroupBroadcast; measured ~1.5x on lavapipe) and their
// tiled variants (*_tiled: implicit GEMM in workgroup-memory tiles, for GPUs; forced only, until measured on one).

/**
 * The kernel (and its extra constants) for one forward launch of `cin` input and `cout` output channels. 'auto':
 * the subgroup variant on adapters with the subgroups feature and a fixed subgroup size of 8 or 16 (lavapipe; the
 * variant's lane scheme is for SIMD-on-CPU, not 32-wide GPUs), for launches with >= 8 input and > 8 output channels
 * (fewer leave the lanes' shared weights or the 16-channel block half empty: the portable kernel measured faster).
 * 'subgroup' forces the variant (workgroups of the subgroup size, else 8); 'portable' never uses it; 'tiled' takes the
 * tiled variant for every launch.
 */
export function fwdKernel(dev: Backend, portable: KernelSpec, cin: number, cout: number): { spec: KernelSpec; constants: Constants } {
  const v = dev.policy.convForward;
  // The portable and subgroup kernels: 8 output channels per invocation, or 4 for launches with at most 4.
  const CO8 = cout > 4;
  if (v === 'portable') return { spec: portable, constants: { CO8 } };
  if (v === 'tiled') return { spec: portable === convTKernel ? convTTiledKernel : conv2dTiledKernel, constants: {} };
  if (v !== 'subgroup' && !(fixedSubgroups(dev.adapter) && cin >= 8 && cout > 8)) return { spec: portable, constants: { CO8 } };
  const WG = subgroupWorkgroup('conv', dev, 'the subgroup forward kernels');
  const spec = portable === convTKernel ? convTSgKernel : conv2dSgKernel;
  return { spec, constants: { WG, CO16: cout > 8, CO8 } };
}

/** Runs a forward kernel over (batch block, output-channel block, input-channel block) launches; returns y. */
// Winograd F(4x4, 3x3) is worth its extra memory passes where the channels make the contraction dominate:
// cin*cout/(cin + cout) >= WINOGRAD_MIN_CHANNELS (16x16 channels and up; measured on configs a and b).
const WINOGRAD_MIN_CHANNELS = 8;

/**
 * Whether Winograd takes a launch with taps k (3x3, stride 1, dilation 1) contracting ca with cb channels, under the
 * variant setting v (the forward or the weight-gradient one).
 */
export function winogradFor(dev: Backend, v: ConvVariant, k: Taps, ca: number, cb: number): boolean {
  if (k.kh !== 3 || k.kw !== 3 || k.sh !== 1 || k.sw !== 1 || k.dh !== 1 || k.dw !== 1) return false;
  if (v === 'winograd') return subgroupWorkgroup('conv', dev, 'the Winograd kernels') > 0;
  return v === 'auto' && fixedSubgroups(dev.adapter) && ca * cb >= WINOGRAD_MIN_CHANNELS * (ca + cb);
}

// ---------------------------------------------------------------------------------------------------------------
// Weight-gradient variants: conv2d_bwd_weight (portable) and conv2d_bwd_weight_sg (lanes over x channels, g pixels
// shared with subgroupBroadcast, a tap row's window of x in registers; measured ~4x on lavapipe).

/**
 * The weight-gradient kernel and its constants for taps kh x kw at column stride sw, dilation dw. 'auto': the
 * subgroup variant on adapters with the subgroups feature and a fixed subgroup size of 8 or 16 (lavapipe; its lane
 * scheme is for SIMD-on-CPU, not 32-wide GPUs), with workgroups of one subgroup and the shader path of the geometry
 * (PATH: one small pipeline per path instead of every path in one); 'subgroup' forces it, 'portable' never uses it;
 * 'tiled' takes conv2d_bwd_weight_tiled (workgroup-memory tiles) for every launch.
 */
export function bwdWeightKernelOf(dev: Backend, k: { kh: number; kw: number; sw: number; dw: number }): { spec: KernelSpec; constants: Constants } {
  const v = dev.policy.convWeightGrad;
  if (v === 'portable') return { spec: bwdWeightKernel, constants: {} };
  if (v === 'tiled') return { spec: bwdWeightTiledKernel, constants: {} };
  // 'winograd' here: a launch Winograd did not take, which the subgroup kernel handles as 'auto' would.
  if (v !== 'subgroup' && !fixedSubgroups(dev.adapter)) return { spec: bwdWeightKernel, constants: {} };
  const WG = subgroupWorkgroup('conv', dev, 'the subgroup weight-gradient kernels');
  const unit = k.dw === 1;
  const PATH = unit && k.sw === 1 && k.kh === 3 && k.kw === 3 ? 1 : unit && k.sw === 1 && k.kh === 1 && k.kw === 1 ? 2 : unit && k.sw === 2 && k.kh === 2 && k.kw === 2 ? 3 : 4;
  return { spec: bwdWeightSgKernel, constants: { WG, PATH } };
}

