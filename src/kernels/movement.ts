import { defineGroup, defineKernel, ELEMENTWISE, grid1d, sumOf, variantOf, type KernelSpec } from './define_kernel.js';

const WG = 256;
const f32 = Math.fround;

/**
 * concat: dst[doff + o*dstride + j] = src[soff + o*sstride + j] for o < n/len, j < len (shaders/concat.wgsl).
 * torch.cat copies one input into its place in each output row; its backward copies the slices of gy back.
 */
export const concat = defineKernel({
  name: 'concat',
  reads: { src: 'f32' },
  writes: { dst: 'f32' },
  params: { n: 'u32', len: 'u32', soff: 'u32', sstride: 'u32', doff: 'u32', dstride: 'u32' },
  constants: { WG },
  description: 'copies one input into its place in each row of the output (torch.cat; its backward copies the slices back)',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 8 * p.n }),
  tolerance: () => 'exact',
  ref({ src }, { dst }, p) {
    for (let i = 0; i < p.n; i++) {
      const o = Math.floor(i / p.len);
      const j = i - o * p.len;
      dst[p.doff + o * p.dstride + j] = src[p.soff + o * p.sstride + j]!;
    }
  },
});

/** The pad kernel's params: launch range, residual offsets, and output dims / input dims / pads-before / input strides of 6 merged dims. */
export const PAD_PARAMS = {
  n: 'u32', o0: 'u32', yoff: 'u32', xbase: 'i32', value: 'f32',
  y1: 'u32', y2: 'u32', y3: 'u32', y4: 'u32', y5: 'u32',
  x0: 'u32', x1: 'u32', x2: 'u32', x3: 'u32', x4: 'u32', x5: 'u32',
  b0: 'i32', b1: 'i32', b2: 'i32', b3: 'i32', b4: 'i32', b5: 'i32',
  xs0: 'u32', xs1: 'u32', xs2: 'u32', xs3: 'u32', xs4: 'u32', xs5: 'u32',
} as const;

/**
 * pad: constant padding over up to 6 merged dims (shaders/pad.wgsl): y[yoff + i] = x[xbase + sum e_k xs_k]
 * when every e_k = c_k - b_k lies in [0, x_k), else value; c_0 = o0 + the row of i. Negative b_k crop.
 */
export const pad = defineKernel({
  name: 'pad',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: PAD_PARAMS,
  constants: { WG },
  description: 'constant padding (negative pads crop) over up to 6 merged dims',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 8 * p.n }),
  tolerance: () => 'exact',
  ref({ x }, { y }, p) {
    const yd = [0, p.y1, p.y2, p.y3, p.y4, p.y5];
    const xd = [p.x0, p.x1, p.x2, p.x3, p.x4, p.x5];
    const b = [p.b0, p.b1, p.b2, p.b3, p.b4, p.b5];
    const xs = [p.xs0, p.xs1, p.xs2, p.xs3, p.xs4, p.xs5];
    const value = f32(p.value);
    const c = new Array<number>(6);
    for (let i = 0; i < p.n; i++) {
      let r = i;
      for (let k = 5; k >= 1; k--) {
        c[k] = r % yd[k]!;
        r = Math.floor(r / yd[k]!);
      }
      c[0] = r + p.o0;
      let idx = p.xbase;
      let inside = true;
      for (let k = 0; k < 6; k++) {
        const e = c[k]! - b[k]!;
        if (e < 0 || e >= xd[k]!) {
          inside = false;
          break;
        }
        idx += e * xs[k]!;
      }
      y[p.yoff + i] = inside ? x[idx]! : value;
    }
  },
});

/**
 * pad_vec4: pad's contract with 4 consecutive outputs of the innermost merged dim per invocation, stored as one
 * vec4 (shaders/pad_vec4.wgsl); for launches whose innermost output dim y5 and offset yoff are multiples of 4.
 */
export const pad_vec4 = variantOf(pad, {
  name: 'pad_vec4',
  description: 'pad with 4 outputs of the innermost dim per invocation and one vec4 store (y5, yoff multiples of 4)',
  grid: (p, c) => grid1d(Math.ceil(p.n / 4), c.WG as number),
});

/** Interpolation params; sh/sw are the f32 source-per-output scales the op computed (PyTorch's rule). */
const INTERP_PARAMS = { n: 'u32', ih: 'u32', iw: 'u32', oh: 'u32', ow: 'u32', xoff: 'u32', yoff: 'u32', sh: 'f32', sw: 'f32' } as const;
const INTERP_BWD_PARAMS = { n: 'u32', ih: 'u32', iw: 'u32', oh: 'u32', ow: 'u32', goff: 'u32', xoff: 'u32', sh: 'f32', sw: 'f32' } as const;

/** PyTorch's nearest source index: min(floor(f32(o) * s), n - 1), in f32 like the shader. */
export function nearestIndex(o: number, s: number, n: number): number {
  return Math.min(Math.floor(f32(o * f32(s))), n - 1);
}

/** PyTorch's linear taps of output o along one axis: [i0, i1, l1] (l0 = 1 - l1); f32 arithmetic like the shader. */
export function linearTap(o: number, s: number, n: number, align: boolean): [number, number, number] {
  const sf = f32(s);
  const src = align ? f32(sf * o) : Math.max(f32(f32(sf * f32(o + 0.5)) - 0.5), 0);
  const i0 = Math.min(Math.trunc(src), n - 1);
  const i1 = i0 + (i0 < n - 1 ? 1 : 0);
  return [i0, i1, Math.min(Math.max(f32(src - i0), 0), 1)];
}

/**
 * interpolate_nearest: y[yoff + (q*OH + oy)*OW + ox] = x[xoff + (q*IH + sy)*IW + sx], sy = nearestIndex(oy, sh, IH)
 * (shaders/interpolate_nearest.wgsl); n = planes * OH * OW.
 */
export const interpolate_nearest = defineKernel({
  name: 'interpolate_nearest',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: INTERP_PARAMS,
  constants: { WG },
  description: "nearest-neighbour resize of each plane with PyTorch's source indices",
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * (p.n + (p.n / (p.oh * p.ow)) * p.ih * p.iw) }),
  tolerance: () => 'exact',
  ref({ x }, { y }, p) {
    const sy = Array.from({ length: p.oh }, (_, o) => nearestIndex(o, p.sh, p.ih));
    const sx = Array.from({ length: p.ow }, (_, o) => nearestIndex(o, p.sw, p.iw));
    const planes = p.n / (p.oh * p.ow);
    let i = 0;
    for (let q = 0; q < planes; q++) {
      for (let oy = 0; oy < p.oh; oy++) {
        const row = p.xoff + (q * p.ih + sy[oy]!) * p.iw;
        for (let ox = 0; ox < p.ow; ox++) y[p.yoff + i++] = x[row + sx[ox]!]!;
      }
    }
  },
});

/**
 * interpolate_nearest_bwd: gx = the adjoint of interpolate_nearest (shaders/interpolate_nearest_bwd.wgsl);
 * n = planes * IH * IW. The reference scatters in output order, the shader gathers in the same order (bit-exact).
 */
export const interpolate_nearest_bwd = defineKernel({
  name: 'interpolate_nearest_bwd',
  reads: { gy: 'f32' },
  writes: { gx: 'f32' },
  params: INTERP_BWD_PARAMS,
  constants: { WG },
  description: 'gx = the adjoint of interpolate_nearest: a gather of the gy elements each input feeds',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: (p.n / (p.ih * p.iw)) * p.oh * p.ow, bytes: 4 * (p.n + (p.n / (p.ih * p.iw)) * p.oh * p.ow) }),
  tolerance: () => sumOf(16),
  ref({ gy }, { gx }, p) {
    const sy = Array.from({ length: p.oh }, (_, o) => nearestIndex(o, p.sh, p.ih));
    const sx = Array.from({ length: p.ow }, (_, o) => nearestIndex(o, p.sw, p.iw));
    const planes = p.n / (p.ih * p.iw);
    gx.fill(0, p.xoff, p.xoff + p.n);
    for (let q = 0; q < planes; q++) {
      for (let oy = 0; oy < p.oh; oy++) {
        const row = p.xoff + (q * p.ih + sy[oy]!) * p.iw;
        const g = p.goff + (q * p.oh + oy) * p.ow;
        for (let ox = 0; ox < p.ow; ox++) gx[row + sx[ox]!] += gy[g + ox]!;
      }
    }
  },
});

const BILINEAR_PARAMS = { ...INTERP_PARAMS, align: 'u32' } as const;
const BILINEAR_BWD_PARAMS = { ...INTERP_BWD_PARAMS, align: 'u32' } as const;

/**
 * interpolate_bilinear: F.interpolate(mode='bilinear') per plane with the taps of linearTap (align = 1:
 * align_corners) (shaders/interpolate_bilinear.wgsl); n = planes * OH * OW.
 */
export const interpolate_bilinear = defineKernel({
  name: 'interpolate_bilinear',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: BILINEAR_PARAMS,
  constants: { WG },
  description: 'bilinear resize of each plane (F.interpolate mode bilinear, align_corners by a param)',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 9 * p.n, bytes: 4 * (p.n + (p.n / (p.oh * p.ow)) * p.ih * p.iw) }),
  tolerance: () => sumOf(16),
  ref({ x }, { y }, p) {
    const th = Array.from({ length: p.oh }, (_, o) => linearTap(o, p.sh, p.ih, p.align === 1));
    const tw = Array.from({ length: p.ow }, (_, o) => linearTap(o, p.sw, p.iw, p.align === 1));
    const planes = p.n / (p.oh * p.ow);
    let i = 0;
    for (let q = 0; q < planes; q++) {
      const base = p.xoff + q * p.ih * p.iw;
      for (let oy = 0; oy < p.oh; oy++) {
        const [h0, h1, lh] = th[oy]!;
        const r0 = base + h0 * p.iw;
        const r1 = base + h1 * p.iw;
        for (let ox = 0; ox < p.ow; ox++) {
          const [w0, w1, lw] = tw[ox]!;
          const top = (1 - lw) * x[r0 + w0]! + lw * x[r0 + w1]!;
          const bot = (1 - lw) * x[r1 + w0]! + lw * x[r1 + w1]!;
          y[p.yoff + i++] = (1 - lh) * top + lh * bot;
        }
      }
    }
  },
});

/**
 * interpolate_bilinear_bwd: gx = the adjoint of interpolate_bilinear (shaders/interpolate_bilinear_bwd.wgsl);
 * n = planes * IH * IW. The reference scatters each gy into its four taps (PyTorch's backward), the shader gathers.
 */
export const interpolate_bilinear_bwd = defineKernel({
  name: 'interpolate_bilinear_bwd',
  reads: { gy: 'f32' },
  writes: { gx: 'f32' },
  params: BILINEAR_BWD_PARAMS,
  constants: { WG },
  description: 'gx = the adjoint of interpolate_bilinear: a gather of the weighted gy elements each input feeds',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 12 * (p.n / (p.ih * p.iw)) * p.oh * p.ow, bytes: 4 * (p.n + (p.n / (p.ih * p.iw)) * p.oh * p.ow) }),
  tolerance: () => sumOf(16),
  ref({ gy }, { gx }, p) {
    const th = Array.from({ length: p.oh }, (_, o) => linearTap(o, p.sh, p.ih, p.align === 1));
    const tw = Array.from({ length: p.ow }, (_, o) => linearTap(o, p.sw, p.iw, p.align === 1));
    const planes = p.n / (p.ih * p.iw);
    gx.fill(0, p.xoff, p.xoff + p.n);
    for (let q = 0; q < planes; q++) {
      const base = p.xoff + q * p.ih * p.iw;
      for (let oy = 0; oy < p.oh; oy++) {
        const [h0, h1, lh] = th[oy]!;
        for (let ox = 0; ox < p.ow; ox++) {
          const [w0, w1, lw] = tw[ox]!;
          const g = gy[p.goff + (q * p.oh + oy) * p.ow + ox]!;
          gx[base + h0 * p.iw + w0] += (1 - lh) * (1 - lw) * g;
          gx[base + h0 * p.iw + w1] += (1 - lh) * lw * g;
          gx[base + h1 * p.iw + w0] += lh * (1 - lw) * g;
          gx[base + h1 * p.iw + w1] += lh * lw * g;
        }
      }
    }
  },
});

/** Chris Wellons' lowbias32, as in shaders/dropout.wgsl. */
export function hash32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** True when mask unit u survives (shaders/dropout.wgsl): (hash(hash(u) ^ key) >> 8) >= threshold. */
export function dropoutKeeps(u: number, key: number, threshold: number): boolean {
  return hash32(hash32(u) ^ key) >>> 8 >= threshold;
}

/**
 * dropout: y[i] = x[i] * (keep((start + i) / group) ? scale : 0), the mask drawn by a counter-based hash of the
 * unit index and `key` (shaders/dropout.wgsl). Backward is the same kernel on gy with the same key.
 */
export const dropout = defineKernel({
  name: 'dropout',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: { n: 'u32', start: 'u32', group: 'u32', key: 'u32', threshold: 'u32', scale: 'f32' },
  constants: { WG },
  description: 'y = x * scale or 0 by a counter-based hash mask of (element or channel) units; its own backward',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: p.n, bytes: 8 * p.n }),
  tolerance: () => ELEMENTWISE,
  ref({ x }, { y }, p) {
    const scale = f32(p.scale);
    let unit = -1;
    let m = 0;
    for (let i = 0; i < p.n; i++) {
      const u = Math.floor((p.start + i) / p.group);
      if (u !== unit) {
        unit = u;
        m = dropoutKeeps(u, p.key, p.threshold) ? scale : 0;
      }
      y[i] = x[i]! * m;
    }
  },
});

/**
 * permute: y[yoff + i] = x[xoff + sum_k c_k s_k] over up to 6 output dims (d0 implied by n), s_k the input stride
 * behind output dim k (shaders/permute.wgsl): torch.permute / transpose as a copy, and their backward.
 */
export const permute = defineKernel({
  name: 'permute',
  reads: { x: 'f32' },
  writes: { y: 'f32' },
  params: {
    n: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32',
    s0: 'u32', s1: 'u32', s2: 'u32', s3: 'u32', s4: 'u32', s5: 'u32', xoff: 'u32', yoff: 'u32',
  },
  constants: { WG },
  description: 'copies x into a permutation of its dims (torch.permute / transpose; the backward is the inverse permutation)',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 8 * p.n }),
  tolerance: () => 'exact',
  ref({ x }, { y }, p) {
    const d = [0, p.d1, p.d2, p.d3, p.d4, p.d5];
    const s = [p.s0, p.s1, p.s2, p.s3, p.s4, p.s5];
    for (let i = 0; i < p.n; i++) {
      let r = i;
      let xi = p.xoff;
      for (let k = 5; k >= 1; k--) {
        xi += (r % d[k]!) * s[k]!;
        r = Math.floor(r / d[k]!);
      }
      y[p.yoff + i] = x[xi + r * s[0]!]!;
    }
  },
});

/** The movement kernels (specs + CPU references). */
export const MOVEMENT_KERNELS = defineGroup('movement', {
  concat,
  pad,
  pad_vec4,
  interpolate_nearest,
  interpolate_nearest_bwd,
  interpolate_bilinear,
  interpolate_bilinear_bwd,
  dropout,
  permute,
} satisfies Record<string, KernelSpec>);
