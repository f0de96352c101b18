// conv2d and convTranspose2d (PyTorch's F.conv2d / F.conv_transpose2d): shape rules, forward and backward. The
// kernels: conv_winograd.ts where conv_choice.ts takes Winograd, else the direct kernels (conv_direct.ts).
import { record } from '../autograd.js';
import { ArgumentError, ShapeError } from '../../core/errors.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { full } from '../creation.js';
import { bwdBiasRaw, bwdWeightRaw, convPacked } from './conv_direct.js';
import { checkGroups, checkInputs, convOptions, convTOptions, pair, plural, type Conv2dOptions, type ConvTranspose2dOptions, type Taps } from './conv_geometry.js';
import { winogradRaw, winogradWgradRaw, type WinogradInput } from './conv_winograd.js';
import { isGradEnabled } from '../context.js';
import { winogradFor } from './conv_choice.js';

export type { Conv2dOptions, ConvTranspose2dOptions, Pair } from './conv_geometry.js';

/** dW of a convolution (Winograd where it takes the launch, else the direct split-K kernels); zeros for empty inputs. */
function weightGrad(op: string, gt: Tensor, xt: Tensor, k: Taps & { ph: number; pw: number }, kept: WinogradInput | null = null): Tensor {
  const [n, a, gh, gw] = gt.shape as [number, number, number, number];
  const [, b, xh, xw] = xt.shape as [number, number, number, number];
  if (n * gh * gw === 0 || xh * xw === 0) return full([a, b, k.kh, k.kw], 0, { device: gt.device });
  return winogradWgradRaw(op, gt, xt, k, kept) ?? bwdWeightRaw(op, gt, xt, k);
}

/** 2-D convolution (F.conv2d): x [N, Cin, H, W], weight [Cout, Cin, kH, kW], bias [Cout] | null -> [N, Cout, OH, OW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: Conv2dOptions): Tensor {
  const op = 'conv2d';
  const opts = convOptions(op, options);
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
  // The forward's transformed input, kept for a Winograd weight gradient (the same transform of x; see WinogradInput).
  const keep: { v?: WinogradInput } | undefined = isGradEnabled() && weight.requiresGrad && winogradFor(x.device, x.device.policy.convWeightGrad, k, cout, cin) ? {} : undefined;
  const y = winogradRaw(op, x, weight, false, bias ?? null, geo, keep) ?? convPacked(op, false, x, weight, [1, cout, cin * kh * kw], bias ?? null, geo);
  const band = keep?.v?.band;
  const save = keep?.v ? [x, weight, keep.v.v] : [x, weight];
  const out = record(op, [x, weight, bias ?? null], y, save, (gy, [sx, sW, sv], needs) => {
    let gx: Tensor | null = null;
    if (needs[0]) {
      // dX = conv_transpose2d(dy, W) with the same (k, s, p, d), sized exactly like x (the output_padding PyTorch picks);
      // for Winograd, the correlation with W flipped and begin pads k - 1 - p.
      const bop = `${op} backward`;
      const bg = { n, cin: cout, h: oh, w: ow, cout: cin, oh: h, ow: w, ...k };
      gx = winogradRaw(bop, gy, sW!, true, null, { ...bg, ph: kh - 1 - ph, pw: kw - 1 - pw })
        ?? convPacked(bop, true, gy, sW!, [cout, cin, kh * kw], null, bg);
    }
    return [
      gx,
      needs[1] ? weightGrad(`${op} backward`, gy, sx!, k, sv && band ? { v: sv, band } : null) : null,
      needs[2] ? bwdBiasRaw(`${op} backward`, gy) : null,
    ];
  });
  // The node holds its own reference to v: ours goes.
  keep?.v?.v.dispose();
  return out;
}

/** Transposed 2-D convolution (F.conv_transpose2d): x [N, Cin, H, W], weight [Cin, Cout, kH, kW] -> [N, Cout, OH, OW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTranspose2dOptions): Tensor {
  const op = 'convTranspose2d';
  const opts = convTOptions(op, options);
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
    ?? convPacked(op, true, x, weight, [cin, cout, kh * kw], bias ?? null, geo);
  return record(op, [x, weight, bias ?? null], y, [x, weight], (gy, [sx, sW], needs) => {
    let gx: Tensor | null = null;
    if (needs[0]) {
      // dX = conv2d(dy, W) with the same (k, s, p, d): W [Cin, Cout, kh, kw] read as a conv2d weight from Cout to Cin.
      const bop = `${op} backward`;
      const bg = { n, cin: cout, h: oh, w: ow, cout: cin, oh: h, ow: w, ...k };
      gx = winogradRaw(bop, gy, sW!, false, null, bg) ?? convPacked(bop, false, gy, sW!, [1, cin, cout * kh * kw], null, bg);
    }
    return [
      gx,
      // The same contraction as conv2d's weight gradient with x and dy swapped: [Cin, Cout, kh, kw].
      needs[1] ? weightGrad(`${op} backward`, sx!, gy, k) : null,
      needs[2] ? bwdBiasRaw(`${op} backward`, gy) : null,
    ];
  });
}
