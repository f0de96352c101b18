// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions (forward, input gradients, weight gradient), in bands of tile rows
// and channel blocks under the binding limit. Null where conv_choice.ts's winogradFor does not take a launch.
import {
  winograd_fused as winoFusedKernel,
  winograd_gemm as winoGemmKernel,
  winograd_grad as winoGradKernel,
  winograd_grad_vec4 as winoGradVec4Kernel,
  winograd_input as winoInputKernel,
  winograd_input_vec2 as winoInputVec2Kernel,
  winograd_input_vec4 as winoInputVec4Kernel,
  winograd_wgrad_gemm as winoWgradGemmKernel,
  winograd_wgrad_output as winoWgradOutputKernel,
  winograd_output as winoOutputKernel,
  winograd_output_vec2 as winoOutputVec2Kernel,
  winograd_output_vec4 as winoOutputVec4Kernel,
  winograd_weight as winoWeightKernel,
} from '../../kernels/winograd.js';
import { subgroupWorkgroup } from '../../kernels/policy.js';
import type { Tensor } from '../tensor.js';
import { winogradFewFor, winogradFor } from './conv_choice.js';
import { PART_CAP, type Geo, type Taps } from './conv_geometry.js';
import { bindGeometry, planBlocksOrNull, rowVector, shiftOf, vec4Rows, windowOf, type Bind } from './split.js';
import { empty, launch } from './util.js';

// ---------------------------------------------------------------------------------------------------------------
// Winograd F(4x4, 3x3): weight transform, then per band of output tile rows the data transform, the 36 channel
// contractions and the output transform (shaders/winograd_*.wgsl). 4x fewer multiply-adds than the direct kernels, for
// extra memory passes over (cin + cout) planes: 'auto' takes it on lavapipe-like adapters where the channels make the
// contraction dominate (cin*cout/(cin + cout) >= WINOGRAD_MIN_CHANNELS: 16x16 channels and up; measured on configs a
// and b, where every 3x3 conv but the first qualifies).

/** Bytes of one band's transformed data (v) or products (m): bounds the temporaries, within the binding limit. */
const WINOGRAD_BAND_BYTES = 64 << 20;

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

// The transforms by the widest vector every row of the window starts on (split.ts rowVector): vec4 where rows are a
// multiple of 4 wide (on lavapipe 3x fewer loads or stores), vec2 where they are even (the 'valid' U-Net's rows 2 mod
// 4 wide: 570, 282, 138, ...; kernel lab, config c: data transform 2072 / 2149 -> 1850 / 1785 ms per step, output
// transform 1579 -> 1115 ms), else by element. The gradient transform has no vec2 form: one measured within noise of
// the scalar kernel (556 / 513 against 465 / 550 ms).
const INPUT = { 4: winoInputVec4Kernel, 2: winoInputVec2Kernel, 1: winoInputKernel } as const;
const OUTPUT = { 4: winoOutputVec4Kernel, 2: winoOutputVec2Kernel, 1: winoOutputKernel } as const;
const GRAD = { 4: winoGradVec4Kernel, 2: winoGradKernel, 1: winoGradKernel } as const;


/** The data transform of one band (x a window), x read by rowVector. */
function inputTransform(x: Bind, v: Tensor, p: { cin: number; h: number; w: number; ph: number; pw: number; x_off: number; x_ns: number; nn: number; ty0: number; bt: number; tg: number }) {
  const vw = rowVector(p.w, p.x_off, p.x_ns);
  launch(INPUT[vw], { x }, { v }, p, vw === 1 ? {} : { constants: { SHIFT: shiftOf(p.pw, vw) } });
}

/** One band of tile rows of a Winograd launch (winogradBands). */
type Band = NonNullable<ReturnType<typeof winogradBands>>[number];

/**
 * The forward's transformed input (winograd_input of the whole x in one band), kept for the weight gradient, which
 * transforms the same x with the same params: one pass fewer per layer in backward, for keeping v (36/16 of x's size
 * and up) from the forward to the backward. Only where v is at most WINOGRAD_KEEP_BYTES (small activations, where a
 * pass costs more in launch overhead than v costs in memory; config a: every 3x3 layer).
 */
export interface WinogradInput {
  readonly v: Tensor;
  readonly band: Band;
}

const WINOGRAD_KEEP_BYTES = 16 << 20;

const sameBand = (a: Band, b: Band) => a.n0 === b.n0 && a.nn === b.nn && a.ty0 === b.ty0 && a.bt === b.bt && a.tg === b.tg;

// winograd_fused (the data transform, contraction and output transform in one pass, no v or m in memory) where the
// channels are few: there the transformed data's memory passes cost more than the contraction. Up to
// WINOGRAD_FUSED_CHANNELS input channels and padded output channels; not where the forward would keep v for the
// weight gradient (the small activations, where a pass costs little). Kernel lab on isbi's training-step launches,
// fused against the three passes' sum, same launches, AMD box: 16 -> 16 channels at 256 x 256, 7.5 against 18.7 ms;
// 16 -> 32, 7.5 against 10.2-11.2; 32 -> 16, 5.3-7.4 against 9.5-10.0; 32 -> 32 at 128 x 128, 6.8-7.5 against 7.0;
// with 64 channels and up the three passes are as fast or faster (64 -> 64 at 64 x 64: 24.9 against 20.1 ms;
// 128 -> 128 at 32 x 32: 25.4 against 12.8), the fused kernel's x re-read per block of 8 output channels.
const WINOGRAD_FUSED_CHANNELS = 32;

/** Whether winograd_fused's channel limit takes a launch of g with cp padded output channels. */
const fusedFits = (g: Geo, cp: number) => g.cin <= WINOGRAD_FUSED_CHANNELS && cp <= WINOGRAD_FUSED_CHANNELS;

/**
 * y = the 3x3 correlation of x with w (+ bias) by Winograd F(4x4, 3x3), or null where the launch is not Winograd's (see
 * winogradFor; below its channel rule, winogradFewFor and winograd_fused taking the whole launch) or is too small for it. g.ph, g.pw are the begin pads of the equivalent correlation (negative = crop);
 * `transposed`: w is a conv_transpose2d weight [cin, cout, 3, 3], flipped on the fly. Over the binding limit the work
 * splits like the direct kernels': batch blocks, else output-channel blocks (multiples of 8) and input-channel blocks
 * (whose contractions accumulate), and every block in bands of tile rows. `keep`: where the whole transformed input is
 * one band and one block of at most WINOGRAD_KEEP_BYTES, it is left in keep.v (the caller owns it) instead of freed.
 */
export function winogradRaw(op: string, x: Tensor, w: Tensor, transposed: boolean, bias: Tensor | null, g: Geo, keep?: { v?: WinogradInput }): Tensor | null {
  const dev = x.device;
  if (g.n * g.cout * g.oh * g.ow === 0 || g.cin === 0) return null;
  // Below the channel rule, only as one winograd_fused pass per band: vec4 rows, nothing kept, and (once the blocks are
  // planned) one block of all channels whose transformed weights fit one binding (the fused gate's uAll).
  const few = !winogradFor(dev, dev.policy.convForward, g, g.cin, g.cout);
  if (few && !(winogradFewFor(dev, dev.policy.convForward, g) && !keep && g.w % 4 === 0 && g.ow % 4 === 0)) return null;
  const L = bindGeometry(dev).max;
  const pin = g.h * g.w;
  const pout = g.oh * g.ow;
  // Where 8-channel blocks do not fit a binding, the direct kernels (4-channel blocks) take the launch.
  const blocks = planBlocksOrNull(op, dev, g.n, [{ c: g.cin, plane: pin }, { c: g.cout, plane: pout, q: 8 }]);
  if (!blocks) return null;
  const { nb, cb: [ca, cob] } = blocks;
  const cpb = 8 * Math.ceil(cob / 8);
  // Input-channel blocks: the x window (plan) and one block's transformed weights under the limit.
  const fit = Math.min(ca, Math.floor(L / (36 * cpb)));
  if (fit < 1) return null;
  const cib = Math.ceil(g.cin / Math.ceil(g.cin / fit));
  if (few && (cib < g.cin || cob < g.cout || !fusedFits(g, cpb) || 36 * g.cin * cpb > L)) return null;
  const bands = winogradBands(g.n, nb, g.oh, g.ow, Math.max(cib, cpb), L);
  if (!bands) return null;
  const WG = subgroupWorkgroup('conv', dev, 'the Winograd kernels');
  // The contraction's lanes run over quads of 4 tiles of a tile row: with few tiles most lanes idle or compute padding
  // tiles (8x8 outputs at batch 1: 1 lane in 8 busy, half its tiles real). 'auto' wants 40% of that work useful
  // ('winograd' forces it anyway).
  const lanes = bands.reduce((s, b) => s + Math.ceil(b.t4 / WG) * WG, 0);
  const useful = (g.n * Math.ceil(g.oh / 4) * Math.ceil(g.ow / 4)) / (4 * lanes);
  if (dev.policy.convForward === 'auto' && useful < 0.4) return null;

  const y = empty(dev, [g.n, g.cout, g.oh, g.ow]);
  for (let co0 = 0; co0 < g.cout; co0 += cob) {
    const cc = Math.min(cob, g.cout - co0);
    const cp = 8 * Math.ceil(cc / 8);
    const weights = (ci0: number, cn: number) => {
      const u = empty(dev, [36 * cn * cp]);
      launch(winoWeightKernel, { w }, { u }, { cin: cn, cout: cc, cp, transposed: transposed ? 1 : 0, ci0, co0, cin_t: g.cin, cout_t: g.cout });
      return u;
    };
    // All input channels' transformed weights at once where they fit, else per block (recomputed per band).
    const uAll = 36 * g.cin * cp <= L ? weights(0, g.cin) : null;
    for (const { n0, nn, t4, ...band } of bands) {
      const { bind: yb, res: yOff } = windowOf(y, (n0 * g.cout + co0) * pout, ((nn - 1) * g.cout + cc) * pout);
      // Whether the caller keeps this band's transformed input (asked for, one band, all x channels, small).
      const keepsV = !!keep && bands.length === 1 && 36 * g.cin * t4 * 16 <= WINOGRAD_KEEP_BYTES;
      if (uAll && cib === g.cin && !keepsV && fusedFits(g, cp)) {
        const { bind: xb, res: xOff } = windowOf(x, n0 * g.cin * pin, ((nn - 1) * g.cin + g.cin) * pin);
        if (vec4Rows(g.w, xOff, g.cin * pin) && vec4Rows(g.ow, yOff, g.cout * pout)) {
          launch(winoFusedKernel, { x: xb, u: uAll, bias: bias ?? uAll }, { y: yb }, {
            cin: g.cin, cp, cout: cc, h: g.h, w: g.w, ph: g.ph, pw: g.pw, x_off: xOff, x_ns: g.cin * pin,
            oh: g.oh, ow: g.ow, y_off: yOff, y_ns: g.cout * pout, b_co0: co0, nn, ...band,
          }, { constants: { WG, CO: 8, HAS_BIAS: !!bias, SHIFT: shiftOf(g.pw, 4) } });
          continue;
        }
      }
      const m = empty(dev, [36 * cp * t4 * 4]);
      for (let ci0 = 0; ci0 < g.cin; ci0 += cib) {
        const cn = Math.min(cib, g.cin - ci0);
        const { bind: xb, res: xOff } = windowOf(x, (n0 * g.cin + ci0) * pin, ((nn - 1) * g.cin + cn) * pin);
        const whole = bands.length === 1 && cn === g.cin;
        const kept = whole && keep?.v ? keep.v.v : null;
        const v = kept ?? empty(dev, [36 * cn * t4 * 4]);
        if (!kept) inputTransform(xb, v, { cin: cn, h: g.h, w: g.w, ph: g.ph, pw: g.pw, x_off: xOff, x_ns: g.cin * pin, nn, ...band });
        const u = uAll ?? weights(ci0, cn);
        launch(winoGemmKernel, { u, v }, { m }, { cin: cn, cp, t4, u_cin: uAll ? g.cin : cn, u_ci0: uAll ? ci0 : 0 }, {
          constants: { WG, CO: cp >= 32 && cn < 512 ? 32 : cp >= 16 ? 16 : 8, ACCUMULATE: ci0 > 0 },
        });
        // Kept (and reused by later output-channel blocks) where the caller asked and it is small; else freed.
        if (keep && whole && keepsV) keep.v = { v, band: { n0, nn, t4, ...band } };
        else v.dispose();
        if (!uAll) u.dispose();
      }
      // y written by rowVector.
      launch(OUTPUT[rowVector(g.ow, yOff, g.cout * pout)], { m, bias: bias ?? m }, { y: yb }, { cout: cc, cp, oh: g.oh, ow: g.ow, y_off: yOff, y_ns: g.cout * pout, b_co0: co0, nn, ...band }, { constants: { HAS_BIAS: !!bias } });
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
export function winogradWgradRaw(op: string, gt: Tensor, xt: Tensor, k: Taps & { ph: number; pw: number }, kept: WinogradInput | null = null): Tensor | null {
  const dev = gt.device;
  const [n, a, gh, gw] = gt.shape as [number, number, number, number];
  const [, b, xh, xw] = xt.shape as [number, number, number, number];
  if (!winogradFor(dev, dev.policy.convWeightGrad, k, a, b)) return null;
  const L = bindGeometry(dev).max;
  const pg = gh * gw;
  const px = xh * xw;
  const blocks = planBlocksOrNull(op, dev, n, [{ c: a, plane: pg }, { c: b, plane: px }]);
  if (!blocks) return null;
  const { nb, cb: [ca, cb] } = blocks;
  const bands = winogradBands(n, nb, gh, gw, Math.max(ca, cb), L);
  if (!bands) return null;
  // Channel blocks whose slots (at least one) fit the partial buffer.
  const cap = Math.min(PART_CAP, L);
  let [aa, bb] = [ca, cb];
  while (36 * aa * bb > cap && aa > 16) aa = Math.ceil(aa / 2);
  while (36 * aa * bb > cap && bb > 16) bb = Math.ceil(bb / 2);
  if (36 * aa * bb > cap) return null;
  [aa, bb] = [Math.ceil(a / Math.ceil(a / aa)), Math.ceil(b / Math.ceil(b / bb))];
  const WG = subgroupWorkgroup('conv', dev, 'the Winograd kernels');
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
        const { bind: xb, res: xOff } = windowOf(xt, (n0 * b + b0) * px, ((nn - 1) * b + bn) * px);
        const { bind: gb, res: gOff } = windowOf(gt, (n0 * a + a0) * pg, ((nn - 1) * a + an) * pg);
        // The forward's transformed x where it kept it for this band and all x channels (winogradRaw's keep).
        const reuse = kept && bn === b && bands.length === 1 && sameBand(kept.band, { n0, nn, t4, ...band }) ? kept.v : null;
        const v = reuse ?? empty(dev, [36 * bn * t4 * 4]);
        const g4 = empty(dev, [36 * an * t4 * 4]);
        if (!reuse) inputTransform(xb, v, { cin: bn, h: xh, w: xw, ph: k.ph, pw: k.pw, x_off: xOff, x_ns: b * px, nn, ...band });
        // gr read by rowVector.
        launch(GRAD[rowVector(gw, gOff, a * pg)], { gr: gb }, { gt: g4 }, { a: an, gh, gw, g_off: gOff, g_ns: a * pg, nn, ...band });
        const nslices = Math.ceil(t4 / sLen);
        launch(winoWgradGemmKernel, { gt: g4, v }, { pw }, { a: an, b: bn, t4, s_len: sLen, nslices, slot0: 0 }, { constants: { WG, ACCUMULATE: i > 0 } });
        if (!reuse) v.dispose();
        g4.dispose();
      }
      launch(winoWgradOutputKernel, { pw }, { dw: dW }, { a: an, b: bn, nslots, b_tot: b, a0, b0 }, { constants: { V4: (an * bn) % 4 === 0 } });
      pw.dispose();
    }
  }
  return dW;
}
