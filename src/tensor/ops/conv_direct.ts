// The direct convolution kernels: packed-weight forward (conv2d_fwd / conv_transpose2d_fwd and their subgroup and
// tiled variants, chosen per launch by conv_choice.ts), the split-K weight gradient and the bias gradient, each split into
// blocks under the binding limit (split.ts).
import {
  conv_bwd_bias as bwdBiasKernel,
  conv_bwd_bias_vec4 as bwdBiasVec4Kernel,
  conv_partial_sum as partialSumKernel,
  conv_weight_pack as packKernel,
} from '../../kernels/conv.js';
import { ShapeError } from '../../core/errors.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { full } from '../creation.js';
import { bwdWeightKernelOf, fwdKernel } from './conv_choice.js';
import { PART_CAP, type Geo } from './conv_geometry.js';
import { bindGeometry, planBlocks, vec4Rows, windowOf } from './split.js';
import { disposeOnThrow, empty, launch } from './util.js';

/**
 * Packs weights into the forward kernels' layout [Cin*kh*kw][coutPad] (output channels contiguous as vec4, padded by
 * at least 4): conv2d weight [Cout, Cin, kh, kw] with (nb, nr, nc) = (1, Cout, Cin*kk); conv_transpose2d weight
 * [Cin, Cout, kh, kw] with (Cin, Cout, kk).
 */
function packWeight(w: Tensor, nb: number, nr: number, nc: number): { wp: Tensor; ld4: number } {
  const rpad = 4 * Math.ceil(nr / 4) + 4;
  const wp = empty(w.device, [nb * nc, rpad]);
  disposeOnThrow([wp], () => launch(packKernel, { w }, { out: wp }, { nb, nr, nc, rpad }));
  return { wp, ld4: rpad / 4 };
}

function convRaw(op: string, transposed: boolean, x: Tensor, wp: Tensor, ld4: number, bias: Tensor | null, g: Geo): Tensor {
  const dev = x.device;
  const y = empty(dev, [g.n, g.cout, g.oh, g.ow]);
  if (y.numel === 0) return y;
  return disposeOnThrow([y], () => convInto(op, transposed, x, wp, ld4, bias, g, y));
}

function convInto(op: string, transposed: boolean, x: Tensor, wp: Tensor, ld4: number, bias: Tensor | null, g: Geo, y: Tensor): Tensor {
  const dev = x.device;
  if (g.cin === 0) throw new ShapeError(op, `x ${fmt(x.shape)} has no channels`, [x.shape]);
  const pin = g.h * g.w;
  const pout = g.oh * g.ow;
  // Output-channel blocks start at multiples of 4 (the packed weights are read as vec4 over output channels).
  const { nb, cb: [cib, cob] } = planBlocks(op, dev, g.n, [{ c: g.cin, plane: pin }, { c: g.cout, plane: pout, q: [8, 4] }]);
  for (let n0 = 0; n0 < g.n; n0 += nb) {
    const nn = Math.min(nb, g.n - n0);
    for (let co0 = 0; co0 < g.cout; co0 += cob) {
      const cc = Math.min(cob, g.cout - co0);
      const { bind: yb, res: yOff } = windowOf(y, (n0 * g.cout + co0) * pout, ((nn - 1) * g.cout + cc) * pout);
      for (let ci0 = 0; ci0 < g.cin; ci0 += cib) {
        const ci = Math.min(cib, g.cin - ci0);
        const { bind: xb, res: xOff } = windowOf(x, (n0 * g.cin + ci0) * pin, ((nn - 1) * g.cin + ci) * pin);
        const first = ci0 === 0;
        const p = {
          n: nn, cin: ci, h: g.h, w: g.w, cout: cc, oh: g.oh, ow: g.ow,
          kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, dh: g.dh, dw: g.dw,
          x_off: xOff, x_ns: g.cin * pin, y_off: yOff, y_ns: g.cout * pout,
          w_ci0: ci0, w_co4: co0 / 4, w_ld4: ld4, b_co0: co0,
        };
        const k = fwdKernel(dev, transposed, p);
        launch(k.spec, { x: xb, wp, bias: bias ?? wp }, { y: yb }, p, { constants: { HAS_BIAS: first && !!bias, ACCUMULATE: !first, ...k.constants } });
      }
    }
  }
  return y;
}

/** Packs the weight (viewed as [nb][nr][nc]), runs the forward (`transposed`: transposed) convolution over it, frees the packed copy. */
export function convPacked(op: string, transposed: boolean, x: Tensor, w: Tensor, [nb, nr, nc]: [number, number, number], bias: Tensor | null, g: Geo): Tensor {
  const { wp, ld4 } = packWeight(w, nb, nr, nc);
  try {
    return convRaw(op, transposed, x, wp, ld4, bias, g);
  } finally {
    wp.dispose();
  }
}

// Split-K targets of the gradient reductions: enough invocations to fill the workers, slices of at least MIN_PIXELS.
const TARGET_INVOCATIONS = 16384;
const MIN_PIXELS = 2048;

/**
 * The weight-gradient contraction dW[a, b, ky, kx] = sum over n, oy, ox of gt[n, a, oy, ox] * xt[n, b, iy, ix] with
 * iy = oy*sh - ph + ky*dh, ix = ox*sw - pw + kx*dw: slices of rows on the GPU, then a fixed-order sum of the slices.
 */
export function bwdWeightRaw(op: string, gt: Tensor, xt: Tensor, k: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number }): Tensor {
  const dev = gt.device;
  const [n, a, gh, gw] = gt.shape as [number, number, number, number];
  const [, b, xh, xw] = xt.shape as [number, number, number, number];
  const kk = k.kh * k.kw;
  const m = a * b * kk;
  const dW = empty(dev, [a, b, k.kh, k.kw]);
  const L = bindGeometry(dev).max;
  const pg = gh * gw;
  const px = xh * xw;
  const { nb, cb: [ca, cb] } = planBlocks(op, dev, n, [{ c: a, plane: pg }, { c: b, plane: px }]);
  const tiles = Math.ceil(a / 8) * Math.ceil(b / 4) * kk;
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
      const { bind: gb, res: gOff } = windowOf(gt, (n0 * a + a0) * pg, ((nn - 1) * a + aa) * pg);
      for (let b0 = 0; b0 < b; b0 += cb) {
        const bbn = Math.min(cb, b - b0);
        const { bind: xb, res: xOff } = windowOf(xt, (n0 * b + b0) * px, ((nn - 1) * b + bbn) * px);
        const p = {
          n: nn, a: aa, gh, gw, b: bbn, xh, xw, ...k,
          g_off: gOff, g_ns: a * pg, x_off: xOff, x_ns: b * px,
          rows, nslices: S, a_base: a0, b_base: b0, a_tot: a, b_tot: b,
        };
        const kern = bwdWeightKernelOf(dev, p);
        launch(kern.spec, { g: gb, x: xb }, { part }, p, { constants: kern.constants });
      }
    }
    if (!direct) {
      launch(partialSumKernel, { part }, { out: dW }, { m, s: S }, { constants: { ACCUMULATE: n0 > 0 } });
      part.dispose();
    }
  }
  return dW;
}

/** db[c] = sum of g [N, C, H, W] over N, H, W: slices of rows, then a fixed-order sum of the slices. */
export function bwdBiasRaw(op: string, gt: Tensor): Tensor {
  const dev = gt.device;
  const [n, c, h, w] = gt.shape as [number, number, number, number];
  if (n * h * w === 0) return full([c], 0, { device: dev });
  const db = empty(dev, [c]);
  const pl = h * w;
  const { nb, cb: [ca] } = planBlocks(op, dev, n, [{ c, plane: pl }]);
  for (let n0 = 0; n0 < n; n0 += nb) {
    const nn = Math.min(nb, n - n0);
    const rowsTot = nn * h;
    let S = Math.max(1, Math.min(Math.ceil(TARGET_INVOCATIONS / 4 / c), Math.ceil((nn * pl) / MIN_PIXELS), rowsTot));
    const rows = Math.ceil(rowsTot / S);
    S = Math.ceil(rowsTot / rows);
    const part = empty(dev, [S, c]);
    for (let c0 = 0; c0 < c; c0 += ca) {
      const cc = Math.min(ca, c - c0);
      const { bind: gb, res: gOff } = windowOf(gt, (n0 * c + c0) * pl, ((nn - 1) * c + cc) * pl);
      // Rows on vec4 where every row starts on one (kernel lab, ISBI step: see bench/README).
      const spec = vec4Rows(w, gOff, c * pl) ? bwdBiasVec4Kernel : bwdBiasKernel;
      launch(spec, { g: gb }, { part }, { n: nn, c: cc, h, w, g_off: gOff, g_ns: c * pl, rows, nslices: S, c_base: c0, c_tot: c });
    }
    launch(partialSumKernel, { part }, { out: db }, { m: c, s: S }, { constants: { ACCUMULATE: n0 > 0 } });
    part.dispose();
  }
  return db;
}
