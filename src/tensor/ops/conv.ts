import type { Backend } from '../../kernels/backend.js';
import {
  conv2d_bwd_weight as bwdWeightKernel,
  conv2d_bwd_weight_sg as bwdWeightSgKernel,
  conv2d_fwd as conv2dKernel,
  conv2d_fwd_sg as conv2dSgKernel,
  conv_bwd_bias as bwdBiasKernel,
  conv_partial_sum as partialSumKernel,
  conv_transpose2d_fwd as convTKernel,
  conv_transpose2d_fwd_sg as convTSgKernel,
  conv_weight_pack as packKernel,
} from '../../kernels/conv.js';
import {
  winograd_gemm as winoGemmKernel,
  winograd_grad as winoGradKernel,
  winograd_input as winoInputKernel,
  winograd_wgrad_gemm as winoWgradGemmKernel,
  winograd_wgrad_output as winoWgradOutputKernel,
  winograd_output as winoOutputKernel,
  winograd_weight as winoWeightKernel,
} from '../../kernels/winograd.js';
import type { Constants, KernelSpec } from '../../kernels/define_kernel.js';
import { record } from '../autograd.js';
import { ArgumentError, LimitError, ShapeError } from '../../core/errors.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { full } from '../creation.js';
import { type Bind, checkDType, deviceOf, empty, launch } from './util.js';

export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  /** An int, a pair, 'same' (stride 1 only) or 'valid' (= 0). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  /** Only 1 is supported (a clear error otherwise). */
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry shared by the kernels: a direct conv (conv2d_fwd) or its transpose (conv_transpose2d_fwd) from x [n, cin,
// h, w] to y [n, cout, oh, ow] with begin pads ph, pw. Both directions are exact adjoints of each other for the same
// (k, s, p, d) when the sizes are swapped, which is what the input gradients use.
interface Geo {
  n: number; cin: number; h: number; w: number; cout: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}

/** Elements one binding may cover, and the offset alignment in elements. */
function bindLimits(dev: Backend): { L: number; A: number } {
  return { L: Math.floor(dev.limits.maxBindingBytes / 4), A: Math.max(1, dev.limits.bindingOffsetAlignment / 4) };
}

/** A window of `count` elements from `start`, bound from the aligned offset below it; returns it and the residual. */
function win(t: Tensor, start: number, count: number, A: number): [Bind, number] {
  if (start === 0 && count === t.numel) return [t, 0];
  const aligned = Math.floor(start / A) * A;
  return [{ tensor: t, offset: aligned, numel: count + start - aligned }, start - aligned];
}

/**
 * How to split an op over two NCHW tensors (channel planes pa and pb elements) so each binding stays under L:
 * whole, blocks of nb batch items, or one item with channel blocks ca, cb (multiples of `qa`, `qb` unless whole).
 */
function plan(op: string, n: number, ca: number, pa: number, cb: number, pb: number, L: number, A: number, qa = 1, qb = 1) {
  if (n * ca * pa <= L && n * cb * pb <= L) return { nb: n, ca, cb };
  const nb = Math.min(n, Math.floor((L - A) / (ca * pa)), Math.floor((L - A) / (cb * pb)));
  if (nb >= 1) return { nb, ca, cb };
  const block = (c: number, pl: number, q: number) => {
    if (c * pl + A <= L) return c;
    const fit = Math.floor((L - A) / pl);
    // Whole 8-channel blocks when they fit (the forward kernels compute 8 output channels per invocation).
    const k = fit >= 8 && q > 1 ? fit - (fit % 8) : fit - (fit % q);
    if (k < 1) throw new LimitError(op, 'maxStorageBufferBindingSize', (q * pl + A) * 4, L * 4, `${q} channel plane(s) of ${pl} elements do not fit one binding`);
    return k;
  };
  return { nb: 1, ca: block(ca, pa, qa), cb: block(cb, pb, qb) };
}

/**
 * Packs weights into the forward kernels' layout [Cin*kh*kw][coutPad] (output channels contiguous as vec4, padded by
 * at least 4): conv2d weight [Cout, Cin, kh, kw] with (nb, nr, nc) = (1, Cout, Cin*kk); conv_transpose2d weight
 * [Cin, Cout, kh, kw] with (Cin, Cout, kk).
 */
function packWeight(w: Tensor, nb: number, nr: number, nc: number): { wp: Tensor; ld4: number } {
  const rpad = 4 * Math.ceil(nr / 4) + 4;
  const wp = empty(w.device, [nb * nc, rpad]);
  launch(packKernel, [w], [wp], { nb, nr, nc, rpad });
  return { wp, ld4: rpad / 4 };
}

// ---------------------------------------------------------------------------------------------------------------
// Forward-kernel variants: conv2d_fwd / conv_transpose2d_fwd (portable) and their subgroup variants (*_sg: each lane
// loads the weights of one of 8 input channels, shared with subgroupBroadcast; measured ~1.5x on lavapipe).

/**
 * Which forward kernels conv2d / convTranspose2d (and their input gradients) use; 'auto' picks by adapter and shape.
 * 'winograd': Winograd F(4x4, 3x3) for every 3x3 stride-1 undilated launch it can take (the subgroup kernels elsewhere).
 */
export type ConvForwardVariant = 'auto' | 'portable' | 'subgroup' | 'winograd';
const FWD_VARIANTS: readonly ConvForwardVariant[] = ['auto', 'portable', 'subgroup', 'winograd'];
let fwdVariant: ConvForwardVariant = 'auto';

/** Overrides the forward-kernel choice for every device (e.g. 'portable' to compare); returns the previous setting. */
export function setConvForwardVariant(v: ConvForwardVariant): ConvForwardVariant {
  if (!FWD_VARIANTS.includes(v)) throw new ArgumentError('setConvForwardVariant', `variant must be one of ${FWD_VARIANTS.join(', ')}, got ${JSON.stringify(v)}`);
  const prev = fwdVariant;
  fwdVariant = v;
  return prev;
}

/** What a WebGPU backend knows of its adapter (duck-typed: the tensor layer does not import the runtime). */
interface SubgroupFacts { readonly adapter?: { readonly features: readonly string[]; readonly subgroupMinSize?: number; readonly subgroupMaxSize?: number } }

/** Whether the adapter has the subgroups feature with a fixed subgroup size of 8 or 16 (lavapipe's SIMD lanes). */
function fixedSubgroups(dev: Backend): boolean {
  const a = (dev as SubgroupFacts).adapter;
  const size = a?.subgroupMaxSize;
  return !!a?.features.includes('subgroups') && a.subgroupMinSize === size && (size === 8 || size === 16);
}

/**
 * The workgroup size of the subgroup-based kernels (the adapter's subgroup size, at least 8), after checking that the
 * device has the 'subgroups' feature (`what` names the kernels in the error).
 */
function subgroupWG(dev: Backend, what: string): number {
  const a = (dev as SubgroupFacts).adapter;
  if (a && !a.features.includes('subgroups')) throw new ArgumentError('conv', `${what} need the 'subgroups' feature, which this device lacks`);
  return Math.max(8, a?.subgroupMaxSize ?? 8);
}

/**
 * The kernel (and its extra constants) for one forward launch of `cin` input and `cout` output channels. 'auto':
 * the subgroup variant on adapters with the subgroups feature and a fixed subgroup size of 8 or 16 (lavapipe; the
 * variant's lane scheme is for SIMD-on-CPU, not 32-wide GPUs), for launches with >= 8 input and > 8 output channels
 * (fewer leave the lanes' shared weights or the 16-channel block half empty: the portable kernel measured faster).
 * 'subgroup' forces the variant (workgroups of the subgroup size, else 8); 'portable' never uses it.
 */
function fwdKernel(dev: Backend, portable: KernelSpec, cin: number, cout: number): { spec: KernelSpec; constants: Constants } {
  if (fwdVariant === 'portable') return { spec: portable, constants: {} };
  if (fwdVariant !== 'subgroup' && !(fixedSubgroups(dev) && cin >= 8 && cout > 8)) return { spec: portable, constants: {} };
  const WG = subgroupWG(dev, 'the subgroup forward kernels');
  const spec = portable === convTKernel ? convTSgKernel : conv2dSgKernel;
  return { spec, constants: { WG, CO16: cout > 8 } };
}

/** Runs a forward kernel over (batch block, output-channel block, input-channel block) launches; returns y. */
function convRaw(op: string, spec: KernelSpec, x: Tensor, wp: Tensor, ld4: number, bias: Tensor | null, g: Geo): Tensor {
  const dev = x.device;
  const y = empty(dev, [g.n, g.cout, g.oh, g.ow]);
  if (y.numel === 0) return y;
  if (g.cin === 0) throw new ShapeError(op, `x ${fmt(x.shape)} has no channels`, [x.shape]);
  const { L, A } = bindLimits(dev);
  const pin = g.h * g.w;
  const pout = g.oh * g.ow;
  // Output-channel blocks start at multiples of 4 (the packed weights are read as vec4 over output channels).
  const { nb, ca: cib, cb: cob } = plan(op, g.n, g.cin, pin, g.cout, pout, L, A, 1, 4);
  for (let n0 = 0; n0 < g.n; n0 += nb) {
    const nn = Math.min(nb, g.n - n0);
    for (let co0 = 0; co0 < g.cout; co0 += cob) {
      const cc = Math.min(cob, g.cout - co0);
      const [yb, yOff] = win(y, (n0 * g.cout + co0) * pout, ((nn - 1) * g.cout + cc) * pout, A);
      for (let ci0 = 0; ci0 < g.cin; ci0 += cib) {
        const ci = Math.min(cib, g.cin - ci0);
        const [xb, xOff] = win(x, (n0 * g.cin + ci0) * pin, ((nn - 1) * g.cin + ci) * pin, A);
        const first = ci0 === 0;
        const k = fwdKernel(dev, spec, ci, cc);
        launch(k.spec, [xb, wp, bias ?? wp], [yb], {
          n: nn, cin: ci, h: g.h, w: g.w, cout: cc, oh: g.oh, ow: g.ow,
          kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, dh: g.dh, dw: g.dw,
          x_off: xOff, x_ns: g.cin * pin, y_off: yOff, y_ns: g.cout * pout,
          w_ci0: ci0, w_co4: co0 / 4, w_ld4: ld4, b_co0: co0,
        }, { constants: { HAS_BIAS: first && !!bias, ACCUMULATE: !first, CO8: cc > 4, ...k.constants } });
      }
    }
  }
  return y;
}

/** Packs the weight (viewed as [nb][nr][nc]), runs the forward kernel `spec` over it, frees the packed copy. */
function convPacked(op: string, spec: KernelSpec, x: Tensor, w: Tensor, [nb, nr, nc]: [number, number, number], bias: Tensor | null, g: Geo): Tensor {
  const { wp, ld4 } = packWeight(w, nb, nr, nc);
  const y = convRaw(op, spec, x, wp, ld4, bias, g);
  wp.dispose();
  return y;
}

// ---------------------------------------------------------------------------------------------------------------
// Winograd F(4x4, 3x3): weight transform, then per band of output tile rows the data transform, the 36 channel
// contractions and the output transform (shaders/winograd_*.wgsl). 4x fewer multiply-adds than the direct kernels, for
// extra memory passes over (cin + cout) planes: 'auto' takes it on lavapipe-like adapters where the channels make the
// contraction dominate (cin*cout/(cin + cout) >= WINOGRAD_MIN_CHANNELS: 16x16 channels and up; measured on configs a
// and b, where every 3x3 conv but the first qualifies).

const WINOGRAD_MIN_CHANNELS = 8;
/** Bytes of one band's transformed data (v) or products (m): bounds the temporaries, within the binding limit. */
const WINOGRAD_BAND_BYTES = 64 << 20;

type Taps = { kh: number; kw: number; sh: number; sw: number; dh: number; dw: number };

/**
 * Whether Winograd takes a launch with taps k (3x3, stride 1, dilation 1) contracting ca with cb channels, under the
 * variant setting v (the forward or the weight-gradient one).
 */
function winogradFor(dev: Backend, v: ConvForwardVariant | ConvWeightGradVariant, k: Taps, ca: number, cb: number): boolean {
  if (k.kh !== 3 || k.kw !== 3 || k.sh !== 1 || k.sw !== 1 || k.dh !== 1 || k.dw !== 1) return false;
  if (v === 'winograd') return subgroupWG(dev, 'the Winograd kernels') > 0;
  return v === 'auto' && fixedSubgroups(dev) && ca * cb >= WINOGRAD_MIN_CHANNELS * (ca + cb);
}

/** Tile bands of a Winograd launch over tiles of a gh x gw grid: batch blocks of nn items x bt tile rows. */
function winogradBands(n: number, nb: number, gh: number, gw: number, ch: number, L: number) {
  const th = Math.ceil(gh / 4);
  const tg = Math.ceil(Math.ceil(gw / 4) / 4);
  // Elements of one transformed tensor (ch channels) per batch item and tile row: tg*4 tiles of 36 values per channel.
  const perRow = 36 * 16 * tg * ch;
  const budget = Math.min(L, WINOGRAD_BAND_BYTES / 4);
  if (perRow > budget) return null;
  const nnb = th * perRow <= budget ? Math.min(nb, Math.floor(budget / (th * perRow))) : 1;
  const bt = Math.ceil(th / Math.ceil(th / Math.min(th, Math.floor(budget / perRow))));
  const bands: { n0: number; nn: number; ty0: number; bt: number; tg: number; t4: number }[] = [];
  for (let n0 = 0; n0 < n; n0 += nnb) {
    const nn = Math.min(nnb, n - n0);
    for (let ty0 = 0; ty0 < th; ty0 += bt) {
      const b = Math.min(bt, th - ty0);
      bands.push({ n0, nn, ty0, bt: b, tg, t4: nn * b * tg });
    }
  }
  return bands;
}

/**
 * y = the 3x3 correlation of x with w (+ bias) by Winograd F(4x4, 3x3), or null where the launch is not Winograd's (see
 * winogradFor) or is too small for it. g.ph, g.pw are the begin pads of the equivalent correlation (negative = crop);
 * `transposed`: w is a conv_transpose2d weight [cin, cout, 3, 3], flipped on the fly. Over the binding limit the work
 * splits like the direct kernels': batch blocks, else output-channel blocks (multiples of 8) and input-channel blocks
 * (whose contractions accumulate), and every block in bands of tile rows.
 */
function winogradRaw(op: string, x: Tensor, w: Tensor, transposed: boolean, bias: Tensor | null, g: Geo): Tensor | null {
  const dev = x.device;
  if (!winogradFor(dev, fwdVariant, g, g.cin, g.cout) || g.n * g.cout * g.oh * g.ow === 0 || g.cin === 0) return null;
  const { L, A } = bindLimits(dev);
  const pin = g.h * g.w;
  const pout = g.oh * g.ow;
  const { nb, ca, cb: cob } = plan(op, g.n, g.cin, pin, g.cout, pout, L, A, 1, 8);
  const cpb = 8 * Math.ceil(cob / 8);
  // Input-channel blocks: the x window (plan) and one block's transformed weights under the limit.
  const fit = Math.min(ca, Math.floor(L / (36 * cpb)));
  if (fit < 1) return null;
  const cib = Math.ceil(g.cin / Math.ceil(g.cin / fit));
  const bands = winogradBands(g.n, nb, g.oh, g.ow, Math.max(cib, cpb), L);
  if (!bands) return null;
  const WG = subgroupWG(dev, 'the Winograd kernels');
  // The contraction's lanes run over quads of 4 tiles of a tile row: with few tiles most lanes idle or compute padding
  // tiles (8x8 outputs at batch 1: 1 lane in 8 busy, half its tiles real). 'auto' wants 40% of that work useful
  // ('winograd' forces it anyway).
  const lanes = bands.reduce((s, b) => s + Math.ceil(b.t4 / WG) * WG, 0);
  const useful = (g.n * Math.ceil(g.oh / 4) * Math.ceil(g.ow / 4)) / (4 * lanes);
  if (fwdVariant === 'auto' && useful < 0.4) return null;

  const y = empty(dev, [g.n, g.cout, g.oh, g.ow]);
  for (let co0 = 0; co0 < g.cout; co0 += cob) {
    const cc = Math.min(cob, g.cout - co0);
    const cp = 8 * Math.ceil(cc / 8);
    const weights = (ci0: number, cn: number) => {
      const u = empty(dev, [36 * cn * cp]);
      launch(winoWeightKernel, [w], [u], { cin: cn, cout: cc, cp, transposed: transposed ? 1 : 0, ci0, co0, cin_t: g.cin, cout_t: g.cout });
      return u;
    };
    // All input channels' transformed weights at once where they fit, else per block (recomputed per band).
    const uAll = 36 * g.cin * cp <= L ? weights(0, g.cin) : null;
    for (const { n0, nn, t4, ...band } of bands) {
      const [yb, yOff] = win(y, (n0 * g.cout + co0) * pout, ((nn - 1) * g.cout + cc) * pout, A);
      const m = empty(dev, [36 * cp * t4 * 4]);
      for (let ci0 = 0; ci0 < g.cin; ci0 += cib) {
        const cn = Math.min(cib, g.cin - ci0);
        const [xb, xOff] = win(x, (n0 * g.cin + ci0) * pin, ((nn - 1) * g.cin + cn) * pin, A);
        const v = empty(dev, [36 * cn * t4 * 4]);
        launch(winoInputKernel, [xb], [v], { cin: cn, h: g.h, w: g.w, ph: g.ph, pw: g.pw, x_off: xOff, x_ns: g.cin * pin, nn, ...band });
        const u = uAll ?? weights(ci0, cn);
        launch(winoGemmKernel, [u, v], [m], { cin: cn, cp, t4, u_cin: uAll ? g.cin : cn, u_ci0: uAll ? ci0 : 0 }, {
          constants: { WG, CO: cp >= 32 && cn < 512 ? 32 : cp >= 16 ? 16 : 8, ACCUMULATE: ci0 > 0 },
        });
        v.dispose();
        if (!uAll) u.dispose();
      }
      launch(winoOutputKernel, [m, bias ?? m], [yb], { cout: cc, cp, oh: g.oh, ow: g.ow, y_off: yOff, y_ns: g.cout * pout, b_co0: co0, nn, ...band }, { constants: { HAS_BIAS: !!bias } });
      m.dispose();
    }
    uAll?.dispose();
  }
  return y;
}

// Split-K of the Winograd weight gradient: enough workgroups to keep the workers busy, slices of at least MIN quads.
const WINOGRAD_WGRAD_WORKGROUPS = 128;
const WINOGRAD_WGRAD_MIN_QUADS = 8;

/**
 * The weight-gradient contraction of bwdWeightRaw (3x3, stride 1) by Winograd F(4x4, 3x3): per band of tiles of the
 * gradient grid, the data transform of x (winograd_input, the forward's patches) and the gradient transform
 * (winograd_grad), their 36 tile contractions in slices (winograd_wgrad_gemm; later bands add to the first band's
 * slots), then one pass summing the slots in a fixed order and applying G^T . G (winograd_wgrad_output). Over the binding
 * limit, blocks of gradient (a) and x (b) channels, each with its own slots. Null where it does not apply.
 */
function winogradWgradRaw(op: string, gt: Tensor, xt: Tensor, k: Taps & { ph: number; pw: number }): Tensor | null {
  const dev = gt.device;
  const [n, a, gh, gw] = gt.shape as [number, number, number, number];
  const [, b, xh, xw] = xt.shape as [number, number, number, number];
  if (!winogradFor(dev, wgradVariant, k, a, b)) return null;
  const { L, A } = bindLimits(dev);
  const pg = gh * gw;
  const px = xh * xw;
  const { nb, ca, cb } = plan(op, n, a, pg, b, px, L, A);
  const bands = winogradBands(n, nb, gh, gw, Math.max(ca, cb), L);
  if (!bands) return null;
  // Channel blocks whose slots (at least one) fit the partial buffer.
  const cap = Math.min(PART_CAP, L);
  let [aa, bb] = [ca, cb];
  while (36 * aa * bb > cap && aa > 16) aa = Math.ceil(aa / 2);
  while (36 * aa * bb > cap && bb > 16) bb = Math.ceil(bb / 2);
  if (36 * aa * bb > cap) return null;
  [aa, bb] = [Math.ceil(a / Math.ceil(a / aa)), Math.ceil(b / Math.ceil(b / bb))];
  const WG = subgroupWG(dev, 'the Winograd kernels');
  const maxT4 = bands[0]!.t4;

  const dW = empty(dev, [a, b, 3, 3]);
  for (let a0 = 0; a0 < a; a0 += aa) {
    const an = Math.min(aa, a - a0);
    for (let b0 = 0; b0 < b; b0 += bb) {
      const bn = Math.min(bb, b - b0);
      const slab = 36 * an * bn;
      const maxSlots = Math.floor(cap / slab);
      const perSlice = 36 * Math.ceil(an / 16) * Math.ceil(bn / (4 * WG));
      // Slices of each band in the same slots, later bands accumulating (the first band has the most tiles).
      let sLen = Math.max(WINOGRAD_WGRAD_MIN_QUADS, Math.ceil(maxT4 / Math.max(1, Math.ceil(WINOGRAD_WGRAD_WORKGROUPS / perSlice))));
      while (Math.ceil(maxT4 / sLen) > maxSlots) sLen *= 2;
      const nslots = Math.ceil(maxT4 / sLen);
      const pw = empty(dev, [nslots * slab]);
      for (const [i, { n0, nn, t4, ...band }] of bands.entries()) {
        const [xb, xOff] = win(xt, (n0 * b + b0) * px, ((nn - 1) * b + bn) * px, A);
        const [gb, gOff] = win(gt, (n0 * a + a0) * pg, ((nn - 1) * a + an) * pg, A);
        const v = empty(dev, [36 * bn * t4 * 4]);
        const g4 = empty(dev, [36 * an * t4 * 4]);
        launch(winoInputKernel, [xb], [v], { cin: bn, h: xh, w: xw, ph: k.ph, pw: k.pw, x_off: xOff, x_ns: b * px, nn, ...band });
        launch(winoGradKernel, [gb], [g4], { a: an, gh, gw, g_off: gOff, g_ns: a * pg, nn, ...band });
        const nslices = Math.ceil(t4 / sLen);
        launch(winoWgradGemmKernel, [g4, v], [pw], { a: an, b: bn, t4, s_len: sLen, nslices, slot0: 0 }, { constants: { WG, ACCUMULATE: i > 0 } });
        v.dispose();
        g4.dispose();
      }
      launch(winoWgradOutputKernel, [pw], [dW], { a: an, b: bn, nslots, b_tot: b, a0, b0 });
      pw.dispose();
    }
  }
  return dW;
}

// ---------------------------------------------------------------------------------------------------------------
// Weight-gradient variants: conv2d_bwd_weight (portable) and conv2d_bwd_weight_sg (lanes over x channels, g pixels
// shared with subgroupBroadcast, a tap row's window of x in registers; measured ~4x on lavapipe).

/**
 * Which weight-gradient kernel conv2d / convTranspose2d backward use; 'auto' picks by adapter and shape. 'winograd':
 * Winograd F(4x4, 3x3) for every 3x3 stride-1 undilated launch it can take (the subgroup kernel elsewhere).
 */
export type ConvWeightGradVariant = 'auto' | 'portable' | 'subgroup' | 'winograd';
const WGRAD_VARIANTS: readonly ConvWeightGradVariant[] = ['auto', 'portable', 'subgroup', 'winograd'];
let wgradVariant: ConvWeightGradVariant = 'auto';

/** Overrides the weight-gradient kernel choice for every device (e.g. 'portable' to compare); returns the previous setting. */
export function setConvWeightGradVariant(v: ConvWeightGradVariant): ConvWeightGradVariant {
  if (!WGRAD_VARIANTS.includes(v)) throw new ArgumentError('setConvWeightGradVariant', `variant must be one of ${WGRAD_VARIANTS.join(', ')}, got ${JSON.stringify(v)}`);
  const prev = wgradVariant;
  wgradVariant = v;
  return prev;
}

/**
 * The weight-gradient kernel and its constants for taps kh x kw at column stride sw, dilation dw. 'auto': the
 * subgroup variant on adapters with the subgroups feature and a fixed subgroup size of 8 or 16 (lavapipe; its lane
 * scheme is for SIMD-on-CPU, not 32-wide GPUs), with workgroups of one subgroup and the shader path of the geometry
 * (PATH: one small pipeline per path instead of every path in one); 'subgroup' forces it, 'portable' never uses it.
 */
function bwdWeightKernelOf(dev: Backend, k: { kh: number; kw: number; sw: number; dw: number }): { spec: KernelSpec; constants: Constants } {
  if (wgradVariant === 'portable') return { spec: bwdWeightKernel, constants: {} };
  // 'winograd' here: a launch Winograd did not take, which the subgroup kernel handles as 'auto' would.
  if (wgradVariant !== 'subgroup' && !fixedSubgroups(dev)) return { spec: bwdWeightKernel, constants: {} };
  const WG = subgroupWG(dev, 'the subgroup weight-gradient kernels');
  const unit = k.dw === 1;
  const PATH = unit && k.sw === 1 && k.kh === 3 && k.kw === 3 ? 1 : unit && k.sw === 1 && k.kh === 1 && k.kw === 1 ? 2 : unit && k.sw === 2 && k.kh === 2 && k.kw === 2 ? 3 : 4;
  return { spec: bwdWeightSgKernel, constants: { WG, PATH } };
}

// Split-K targets of the gradient reductions: enough invocations to fill the workers, slices of at least MIN_PIXELS.
const TARGET_INVOCATIONS = 16384;
const MIN_PIXELS = 2048;
const PART_CAP = 1 << 23;

/**
 * The weight-gradient contraction dW[a, b, ky, kx] = sum over n, oy, ox of gt[n, a, oy, ox] * xt[n, b, iy, ix] with
 * iy = oy*sh - ph + ky*dh, ix = ox*sw - pw + kx*dw: slices of rows on the GPU, then a fixed-order sum of the slices.
 */
function bwdWeightRaw(op: string, gt: Tensor, xt: Tensor, k: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number }): Tensor {
  const dev = gt.device;
  const [n, a, gh, gw] = gt.shape as [number, number, number, number];
  const [, b, xh, xw] = xt.shape as [number, number, number, number];
  const kk = k.kh * k.kw;
  const m = a * b * kk;
  if (n * gh * gw === 0 || xh * xw === 0) return full([a, b, k.kh, k.kw], 0, { device: dev });
  const wino = winogradWgradRaw(op, gt, xt, k);
  if (wino) return wino;
  const dW = empty(dev, [a, b, k.kh, k.kw]);
  const { L, A } = bindLimits(dev);
  const pg = gh * gw;
  const px = xh * xw;
  const { nb, ca, cb } = plan(op, n, a, pg, b, px, L, A);
  const tiles = Math.ceil(a / 8) * Math.ceil(b / 4) * kk;
  const kern = bwdWeightKernelOf(dev, k);
  for (let n0 = 0; n0 < n; n0 += nb) {
    const nn = Math.min(nb, n - n0);
    const rowsTot = nn * gh;
    const want = Math.min(Math.ceil(TARGET_INVOCATIONS / tiles), Math.ceil((nn * pg) / MIN_PIXELS));
    let S = Math.max(1, Math.min(want, rowsTot, Math.floor(Math.min(PART_CAP, L) / m)));
    const rows = Math.ceil(rowsTot / S);
    S = Math.ceil(rowsTot / rows);
    const direct = S === 1 && nb === n;
    const part = direct ? dW : empty(dev, [S * m]);
    for (let a0 = 0; a0 < a; a0 += ca) {
      const aa = Math.min(ca, a - a0);
      const [gb, gOff] = win(gt, (n0 * a + a0) * pg, ((nn - 1) * a + aa) * pg, A);
      for (let b0 = 0; b0 < b; b0 += cb) {
        const bbn = Math.min(cb, b - b0);
        const [xb, xOff] = win(xt, (n0 * b + b0) * px, ((nn - 1) * b + bbn) * px, A);
        launch(kern.spec, [gb, xb], [part], {
          n: nn, a: aa, gh, gw, b: bbn, xh, xw, ...k,
          g_off: gOff, g_ns: a * pg, x_off: xOff, x_ns: b * px,
          rows, nslices: S, a_base: a0, b_base: b0, a_tot: a, b_tot: b,
        }, { constants: kern.constants });
      }
    }
    if (!direct) {
      launch(partialSumKernel, [part], [dW], { m, s: S }, { constants: { ACCUMULATE: n0 > 0 } });
      part.dispose();
    }
  }
  return dW;
}

/** db[c] = sum of g [N, C, H, W] over N, H, W: slices of rows, then a fixed-order sum of the slices. */
function bwdBiasRaw(op: string, gt: Tensor): Tensor {
  const dev = gt.device;
  const [n, c, h, w] = gt.shape as [number, number, number, number];
  if (n * h * w === 0) return full([c], 0, { device: dev });
  const db = empty(dev, [c]);
  const { L, A } = bindLimits(dev);
  const pl = h * w;
  const { nb, ca } = plan(op, n, c, pl, c, pl, L, A);
  for (let n0 = 0; n0 < n; n0 += nb) {
    const nn = Math.min(nb, n - n0);
    const rowsTot = nn * h;
    let S = Math.max(1, Math.min(Math.ceil(TARGET_INVOCATIONS / 4 / c), Math.ceil((nn * pl) / MIN_PIXELS), rowsTot));
    const rows = Math.ceil(rowsTot / S);
    S = Math.ceil(rowsTot / rows);
    const part = empty(dev, [S, c]);
    for (let c0 = 0; c0 < c; c0 += ca) {
      const cc = Math.min(ca, c - c0);
      const [gb, gOff] = win(gt, (n0 * c + c0) * pl, ((nn - 1) * c + cc) * pl, A);
      launch(bwdBiasKernel, [gb], [part], { n: nn, c: cc, h, w, g_off: gOff, g_ns: c * pl, rows, nslices: S, c_base: c0, c_tot: c });
    }
    launch(partialSumKernel, [part], [db], { m: c, s: S }, { constants: { ACCUMULATE: n0 > 0 } });
    part.dispose();
  }
  return db;
}

// ---------------------------------------------------------------------------------------------------------------
// Option parsing and shape checks (PyTorch's rules and names).

function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  const p: readonly number[] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every((e) => Number.isInteger(e) && e >= min)) {
    throw new ArgumentError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0]!, p[1]!];
}

function checkGroups(op: string, groups: number | undefined): void {
  if (groups === undefined || groups === 1) return;
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(op, `groups must be a positive integer, got ${groups}`);
  throw new ArgumentError(op, `groups > 1 is not supported (got groups=${groups})`);
}

function checkInputs(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined): void {
  deviceOf(op, x, weight, bias);
  for (const t of [x, weight, bias]) if (t) checkDType(op, t, 'f32');
  if (x.ndim !== 4) throw new ShapeError(op, `x ${fmt(x.shape)} must be 4-D [N, C, H, W] (weight ${fmt(weight.shape)})`, [x.shape, weight.shape]);
  if (weight.ndim !== 4) throw new ShapeError(op, `weight ${fmt(weight.shape)} must be 4-D (x ${fmt(x.shape)})`, [x.shape, weight.shape]);
}

const plural = (c: number) => (c === 1 ? 'channel' : 'channels');

/** 2-D convolution (F.conv2d): x [N, Cin, H, W], weight [Cout, Cin, kH, kW], bias [Cout] | null -> [N, Cout, OH, OW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkInputs(op, x, weight, bias);
  checkGroups(op, opts.groups);
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [cout, wcin, kh, kw] = weight.shape as [number, number, number, number];
  if (wcin !== cin) {
    throw new ShapeError(op, `x ${fmt(x.shape)} has ${cin} ${plural(cin)}, weight ${fmt(weight.shape)} expects ${wcin}`, [x.shape, weight.shape]);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cout)) {
    throw new ShapeError(op, `bias ${fmt(bias.shape)} must be [${cout}] for weight ${fmt(weight.shape)}`, [bias.shape, weight.shape]);
  }
  // Begin and total padding per axis; 'same' puts the odd extra pad at the end (PyTorch).
  let ph: number, pw: number, th: number, tw: number;
  const pad = opts.padding ?? 0;
  if (pad === 'same') {
    if (sh !== 1 || sw !== 1) throw new ArgumentError(op, `padding='same' is not supported for strided convolutions (stride ${fmt([sh, sw])})`);
    [th, tw] = [dh * (kh - 1), dw * (kw - 1)];
    [ph, pw] = [Math.floor(th / 2), Math.floor(tw / 2)];
  } else if (pad === 'valid') {
    [ph, pw, th, tw] = [0, 0, 0, 0];
  } else {
    if (typeof pad === 'string') throw new ArgumentError(op, `padding must be an int, a pair, 'same' or 'valid', got '${pad}'`);
    [ph, pw] = pair(op, 'padding', pad, 0, 0);
    [th, tw] = [2 * ph, 2 * pw];
  }
  const [ekh, ekw] = [dh * (kh - 1) + 1, dw * (kw - 1) + 1];
  if (h + th < ekh || w + tw < ekw || kh < 1 || kw < 1) {
    throw new ShapeError(
      op,
      `kernel ${kh}x${kw}${dh > 1 || dw > 1 ? ` (dilated ${ekh}x${ekw})` : ''} is larger than the padded input ${h + th}x${w + tw}: x ${fmt(x.shape)}, weight ${fmt(weight.shape)}`,
      [x.shape, weight.shape],
    );
  }
  const oh = Math.floor((h + th - ekh) / sh) + 1;
  const ow = Math.floor((w + tw - ekw) / sw) + 1;
  const k = { kh, kw, sh, sw, ph, pw, dh, dw };

  const geo = { n, cin, h, w, cout, oh, ow, ...k };
  const y = winogradRaw(op, x, weight, false, bias ?? null, geo) ?? convPacked(op, conv2dKernel, x, weight, [1, cout, cin * kh * kw], bias ?? null, geo);
  return record(op, [x, weight, bias ?? null], y, [x, weight], (gy, [sx, sW], needs) => {
    let gx: Tensor | null = null;
    if (needs[0]) {
      // dX = conv_transpose2d(dy, W) with the same (k, s, p, d), sized exactly like x (the output_padding PyTorch picks);
      // for Winograd, the correlation with W flipped and begin pads k - 1 - p.
      const bop = `${op} backward`;
      const bg = { n, cin: cout, h: oh, w: ow, cout: cin, oh: h, ow: w, ...k };
      gx = winogradRaw(bop, gy, sW!, true, null, { ...bg, ph: kh - 1 - ph, pw: kw - 1 - pw })
        ?? convPacked(bop, convTKernel, gy, sW!, [cout, cin, kh * kw], null, bg);
    }
    return [
      gx,
      needs[1] ? bwdWeightRaw(`${op} backward`, gy, sx!, k) : null,
      needs[2] ? bwdBiasRaw(`${op} backward`, gy) : null,
    ];
  });
}

/** Transposed 2-D convolution (F.conv_transpose2d): x [N, Cin, H, W], weight [Cin, Cout, kH, kW] -> [N, Cout, OH, OW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  checkInputs(op, x, weight, bias);
  checkGroups(op, opts.groups);
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding, 0, 0);
  const [oph, opw] = pair(op, 'outputPadding', opts.outputPadding, 0, 0);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    throw new ArgumentError(op, `outputPadding ${fmt([oph, opw])} must be smaller than either stride ${fmt([sh, sw])} or dilation ${fmt([dh, dw])}`);
  }
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [wcin, cout, kh, kw] = weight.shape as [number, number, number, number];
  if (wcin !== cin) {
    throw new ShapeError(op, `x ${fmt(x.shape)} has ${cin} ${plural(cin)}, weight ${fmt(weight.shape)} expects ${wcin}`, [x.shape, weight.shape]);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cout)) {
    throw new ShapeError(op, `bias ${fmt(bias.shape)} must be [${cout}] for weight ${fmt(weight.shape)}`, [bias.shape, weight.shape]);
  }
  const oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (oh < 1 || ow < 1 || kh < 1 || kw < 1) {
    throw new ShapeError(op, `the output would be ${oh}x${ow} (too small): x ${fmt(x.shape)}, weight ${fmt(weight.shape)}, padding ${fmt([ph, pw])}`, [x.shape, weight.shape]);
  }
  const k = { kh, kw, sh, sw, ph, pw, dh, dw };

  const geo = { n, cin, h, w, cout, oh, ow, ...k };
  const y = winogradRaw(op, x, weight, true, bias ?? null, { ...geo, ph: kh - 1 - ph, pw: kw - 1 - pw })
    ?? convPacked(op, convTKernel, x, weight, [cin, cout, kh * kw], bias ?? null, geo);
  return record(op, [x, weight, bias ?? null], y, [x, weight], (gy, [sx, sW], needs) => {
    let gx: Tensor | null = null;
    if (needs[0]) {
      // dX = conv2d(dy, W) with the same (k, s, p, d): W [Cin, Cout, kh, kw] read as a conv2d weight from Cout to Cin.
      const bop = `${op} backward`;
      const bg = { n, cin: cout, h: oh, w: ow, cout: cin, oh: h, ow: w, ...k };
      gx = winogradRaw(bop, gy, sW!, false, null, bg) ?? convPacked(bop, conv2dKernel, gy, sW!, [1, cin, cout * kh * kw], null, bg);
    }
    return [
      gx,
      // The same contraction as conv2d's weight gradient with x and dy swapped: [Cin, Cout, kh, kw].
      needs[1] ? bwdWeightRaw(`${op} backward`, sx!, gy, k) : null,
      needs[2] ? bwdBiasRaw(`${op} backward`, gy) : null,
    ];
  });
}
