// Winograd F(4x4, 3x3) (Lavin & Gray 2016): a 3x3 stride-1 correlation as filter, data and output transforms around 36
// independent channel contractions (4x fewer multiply-adds than the direct kernels). Tiles of 4x4 outputs are read from
// 6x6 input patches; see shaders/winograd_*.wgsl for the layouts.
import { arrayFor } from '../core/dtype.js';
import { defineGroup, defineKernel, grid1d, sumOf, variantOf, type KernelSpec } from './define_kernel.js';

const WG = 64;
const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** G (6x3), B^T (6x6), A^T (4x6) of F(4x4, 3x3). */
export const WINOGRAD_G = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]];
export const WINOGRAD_BT = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]];
export const WINOGRAD_AT = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]];

/** L d R^T for L [a][i], d [i][j], R [b][j]. */
function sandwich(L: number[][], d: number[][], R: number[][]): number[][] {
  return L.map((l) => R.map((r) => l.reduce((s, li, i) => s + li * r.reduce((t, rj, j) => t + rj * d[i]![j]!, 0), 0)));
}

/** Tile geometry of a Winograd band: t = (nI*bt + ty - ty0)*tg*4 + tx; visits every tile with its indices. */
function eachTile(p: { nn: number; bt: number; tg: number; ty0: number }, f: (nI: number, ty: number, tx: number, t: number) => void) {
  for (let nI = 0; nI < p.nn; nI++) {
    for (let tyl = 0; tyl < p.bt; tyl++) {
      for (let tx = 0; tx < p.tg * 4; tx++) f(nI, p.ty0 + tyl, tx, (nI * p.bt + tyl) * p.tg * 4 + tx);
    }
  }
}

/**
 * winograd_weight: u[(e*cin + ci)*cp + co] = (G g G^T)[e] for the channel block from (ci0, co0), g = w (conv2d layout
 * [cout_t, cin_t, 3, 3]) or w flipped (transposed layout [cin_t, cout_t, 3, 3]).
 */
export const winograd_weight = defineKernel({
  name: 'winograd_weight',
  reads: { w: 'f32' },
  writes: { u: 'f32' },
  params: { cin: 'u32', cout: 'u32', cp: 'u32', transposed: 'u32', ci0: 'u32', co0: 'u32', cin_t: 'u32', cout_t: 'u32' },
  constants: { WG },
  description: 'Winograd filter transform G g G^T of a channel block (conv2d or flipped transposed weights)',
  grid: (p, c) => grid1d(p.cin * p.cp, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * (p.cin * p.cout * 9 + 36 * p.cin * p.cp) }),
  // Sums of up to 9 terms with coefficients up to 25 (G's denominators).
  tolerance: () => sumOf(9),
  ref({ w }, { u }, p) {
    for (let ci = 0; ci < p.cin; ci++) {
      for (let co = 0; co < p.cp; co++) {
        const g = [0, 1, 2].map((ky) => [0, 1, 2].map((kx) => {
          if (co >= p.cout) return 0;
          const [gco, gci] = [p.co0 + co, p.ci0 + ci];
          return p.transposed ? w[(gci * p.cout_t + gco) * 9 + (2 - ky) * 3 + (2 - kx)]! : w[(gco * p.cin_t + gci) * 9 + ky * 3 + kx]!;
        }));
        sandwich(WINOGRAD_G, g, WINOGRAD_G).forEach((row, a) => row.forEach((val, b) => { u[((a * 6 + b) * p.cin + ci) * p.cp + co] = val; }));
      }
    }
  },
});

/** winograd_input: v[(e*cin + ci)*t4*4 + t] = (B^T d B)[e] for the 6x6 zero-padded input patch d of tile t. */
export const winograd_input = defineKernel({
  name: 'winograd_input',
  reads: { x: 'f32' },
  writes: { v: 'f32' },
  params: { cin: 'u32', h: 'u32', w: 'u32', ph: 'i32', pw: 'i32', x_off: 'u32', x_ns: 'u32', ty0: 'u32', bt: 'u32', tg: 'u32', nn: 'u32' },
  constants: { WG },
  description: 'Winograd data transform B^T d B of the zero-padded 6x6 input patch of each tile',
  grid: (p, c) => grid1d(p.cin * p.nn * p.bt * p.tg, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * (p.nn * p.cin * p.h * p.w + 36 * p.cin * p.nn * p.bt * p.tg * 4) }),
  // Sums of 36 terms with coefficients up to 25.
  tolerance: () => sumOf(36 * 25),
  describe: (p) => `${p.nn}x${p.cin}x${p.h}x${p.w} tile rows ${p.ty0}+${p.bt}`,
  ref({ x }, { v }, p) {
    const T = p.nn * p.bt * p.tg * 4;
    for (let ci = 0; ci < p.cin; ci++) {
      eachTile(p, (nI, ty, tx, t) => {
        const d = [0, 1, 2, 3, 4, 5].map((i) => [0, 1, 2, 3, 4, 5].map((j) => {
          const iy = ty * 4 - p.ph + i;
          const ix = tx * 4 - p.pw + j;
          return iy >= 0 && iy < p.h && ix >= 0 && ix < p.w ? x[p.x_off + nI * p.x_ns + (ci * p.h + iy) * p.w + ix]! : 0;
        }));
        sandwich(WINOGRAD_BT, d, WINOGRAD_BT).forEach((row, a) => row.forEach((val, b) => { v[((a * 6 + b) * p.cin + ci) * T + t] = val; }));
      });
    }
  },
});

/** winograd_input with x read as vec4 (w, x_off, x_ns multiples of 4; SHIFT = (-pw) mod 4). */
export const winograd_input_vec4 = variantOf(winograd_input, {
  name: 'winograd_input_vec4',
  constants: { WG, SHIFT: 3 },
  description: 'winograd_input with each patch row read as 6 aligned vec4 (w % 4 == 0)',
});

/** winograd_input with x read as vec2 (w, x_off, x_ns even; SHIFT = pw mod 2): rows 2 mod 4 wide. */
export const winograd_input_vec2 = variantOf(winograd_input, {
  name: 'winograd_input_vec2',
  constants: { WG, SHIFT: 1 },
  description: 'winograd_input with each patch row read as 9-10 aligned vec2 (w % 2 == 0)',
});

/**
 * winograd_gemm: m[(e*cp + co)*T + t] (+)= sum over ci of u[(e*u_cin + u_ci0 + ci)*cp + co] * v[(e*cin + ci)*T + t],
 * T = t4*4 (ACCUMULATE: add to m).
 */
export const winograd_gemm = defineKernel({
  name: 'winograd_gemm',
  reads: { u: 'f32', v: 'f32' },
  writes: { m: 'f32' },
  inPlace: ['m'],
  params: { cin: 'u32', cp: 'u32', t4: 'u32', u_cin: 'u32', u_ci0: 'u32' },
  constants: { WG: 8, CO: 8, ACCUMULATE: false },
  description: 'the 36 Winograd channel contractions m[e] (+)= u[e] v[e] over input channels',
  grid: (p, c) => grid1d(36 * cdiv(p.cp, c.CO as number) * cdiv(p.t4, c.WG as number), 1),
  cost: (p, c) => ({ flops: 2 * 36 * p.cin * p.cp * p.t4 * 4, bytes: 4 * 36 * (p.cin * p.cp + (p.cin + p.cp * (c.ACCUMULATE ? 2 : 1)) * p.t4 * 4) }),
  tolerance: (p) => sumOf(p.cin),
  labConstants: [{ CO: 16 }, { CO: 32 }, { ACCUMULATE: true }],
  describe: (p) => `36 x [${p.cp} x ${p.cin}] * [${p.cin} x ${p.t4 * 4} tiles]`,
  ref({ u, v }, { m }, p, c) {
    const T = p.t4 * 4;
    for (let e = 0; e < 36; e++) {
      for (let co = 0; co < p.cp; co++) {
        for (let t = 0; t < T; t++) {
          let acc = 0;
          for (let ci = 0; ci < p.cin; ci++) acc += u[(e * p.u_cin + p.u_ci0 + ci) * p.cp + co]! * v[(e * p.cin + ci) * T + t]!;
          const o = (e * p.cp + co) * T + t;
          m[o] = acc + (c.ACCUMULATE ? m[o]! : 0);
        }
      }
    }
  },
});

/** winograd_output: y[n, co, ty*4 + r, tx*4 + c] = (A^T m A)[r][c] (+ bias) of tile t, inside oh x ow only. */
export const winograd_output = defineKernel({
  name: 'winograd_output',
  reads: { m: 'f32', bias: 'f32' },
  writes: { y: 'f32' },
  params: { cout: 'u32', cp: 'u32', oh: 'u32', ow: 'u32', y_off: 'u32', y_ns: 'u32', b_co0: 'u32', ty0: 'u32', bt: 'u32', tg: 'u32', nn: 'u32' },
  constants: { WG, HAS_BIAS: false },
  description: 'Winograd output transform A^T m A (+ bias) of each tile, inside the output only',
  grid: (p, c) => grid1d(p.cout * p.nn * p.bt * p.tg, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * (36 * p.cout * p.nn * p.bt * p.tg * 4 + p.nn * p.cout * Math.min(p.oh, p.bt * 4) * p.ow) }),
  tolerance: () => sumOf(36 * 25),
  describe: (p) => `${p.nn}x${p.cout}x${p.oh}x${p.ow} tile rows ${p.ty0}+${p.bt}`,
  ref({ m, bias }, { y }, p, c) {
    const T = p.nn * p.bt * p.tg * 4;
    for (let co = 0; co < p.cout; co++) {
      eachTile(p, (nI, ty, tx, t) => {
        const M = [0, 1, 2, 3, 4, 5].map((a) => [0, 1, 2, 3, 4, 5].map((b) => m[((a * 6 + b) * p.cp + co) * T + t]!));
        const Y = sandwich(WINOGRAD_AT, M, WINOGRAD_AT);
        for (let r = 0; r < 4; r++) {
          for (let cc = 0; cc < 4; cc++) {
            const oy = ty * 4 + r;
            const ox = tx * 4 + cc;
            if (oy < p.oh && ox < p.ow) y[p.y_off + nI * p.y_ns + (co * p.oh + oy) * p.ow + ox] = Y[r]![cc]! + (c.HAS_BIAS ? bias[p.b_co0 + co]! : 0);
          }
        }
      });
    }
  },
});

/** winograd_output with y written as vec4 (ow, y_off, y_ns multiples of 4). */
export const winograd_output_vec4 = variantOf(winograd_output, {
  name: 'winograd_output_vec4',
  description: 'winograd_output with each tile row stored as one vec4 (ow % 4 == 0)',
});

/** winograd_output with y written as vec2 (ow, y_off, y_ns even): rows 2 mod 4 wide. */
export const winograd_output_vec2 = variantOf(winograd_output, {
  name: 'winograd_output_vec2',
  description: 'winograd_output with each tile row stored as two vec2 (ow % 2 == 0)',
});

/**
 * winograd_fused: winograd_input, winograd_gemm and winograd_output in one pass (x and y as vec4; the whole cin in one
 * launch): y = the band's 3x3 correlation of x with u's channels (+ bias), without v and m in memory. For few channels.
 */
export const winograd_fused = defineKernel({
  name: 'winograd_fused',
  reads: { x: 'f32', u: 'f32', bias: 'f32' },
  writes: { y: 'f32' },
  params: {
    cin: 'u32', cp: 'u32', cout: 'u32', h: 'u32', w: 'u32', ph: 'i32', pw: 'i32', x_off: 'u32', x_ns: 'u32',
    oh: 'u32', ow: 'u32', y_off: 'u32', y_ns: 'u32', b_co0: 'u32', ty0: 'u32', bt: 'u32', tg: 'u32', nn: 'u32',
  },
  constants: { WG: 8, CO: 8, HAS_BIAS: false, SHIFT: 3 },
  description: 'Winograd data transform, 36 channel contractions and output transform in one pass (few channels; x, y as vec4)',
  grid: (p, c) => grid1d(cdiv(p.cout, c.CO as number) * cdiv(p.nn * p.bt * p.tg, c.WG as number), 1),
  cost: (p) => {
    const t = p.nn * p.bt * p.tg * 4;
    return { flops: 2 * 36 * p.cin * p.cp * t, bytes: 4 * (p.nn * p.cin * p.h * p.w + 36 * p.cin * p.cp + p.nn * p.cout * Math.min(p.oh, p.bt * 4) * p.ow) };
  },
  // The three passes' sums chained: 36 data terms per value, cin products, 36 output terms (coefficients up to 25 and 64).
  tolerance: (p) => sumOf(36 * 25 * p.cin * 64),
  labConstants: [{ CO: 4 }],
  describe: (p) => `${p.nn}x${p.cin}->${p.cout}x${p.oh}x${p.ow} tile rows ${p.ty0}+${p.bt}`,
  ref({ x, u, bias }, { y }, p, c) {
    const T = p.nn * p.bt * p.tg * 4;
    const f64 = x instanceof Float64Array;
    const [v, m] = [arrayFor('f32', 36 * p.cin * T, f64), arrayFor('f32', 36 * p.cp * T, f64)];
    const band = { ty0: p.ty0, bt: p.bt, tg: p.tg, nn: p.nn };
    winograd_input.ref({ x }, { v }, { cin: p.cin, h: p.h, w: p.w, ph: p.ph, pw: p.pw, x_off: p.x_off, x_ns: p.x_ns, ...band }, {});
    winograd_gemm.ref({ u, v }, { m }, { cin: p.cin, cp: p.cp, t4: T / 4, u_cin: p.cin, u_ci0: 0 }, { ACCUMULATE: false });
    winograd_output.ref({ m, bias }, { y }, { cout: p.cout, cp: p.cp, oh: p.oh, ow: p.ow, y_off: p.y_off, y_ns: p.y_ns, b_co0: p.b_co0, ...band }, { HAS_BIAS: c.HAS_BIAS });
  },
});

/** winograd_grad: gt[(e*a + ai)*t4*4 + t] = (A g A^T)[e] for the 4x4 gradient tile g of tile t (zero outside gh x gw). */
export const winograd_grad = defineKernel({
  name: 'winograd_grad',
  reads: { gr: 'f32' },
  writes: { gt: 'f32' },
  params: { a: 'u32', gh: 'u32', gw: 'u32', g_off: 'u32', g_ns: 'u32', ty0: 'u32', bt: 'u32', tg: 'u32', nn: 'u32' },
  constants: { WG },
  description: 'Winograd transform A g A^T of each 4x4 output-gradient tile (weight gradient)',
  grid: (p, c) => grid1d(p.a * p.nn * p.bt * p.tg, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * (p.nn * p.a * Math.min(p.gh, p.bt * 4) * p.gw + 36 * p.a * p.nn * p.bt * p.tg * 4) }),
  tolerance: () => sumOf(16 * 8),
  describe: (p) => `${p.nn}x${p.a}x${p.gh}x${p.gw} tile rows ${p.ty0}+${p.bt}`,
  ref({ gr }, { gt }, p) {
    const T = p.nn * p.bt * p.tg * 4;
    const A = WINOGRAD_AT[0]!.map((_, e) => WINOGRAD_AT.map((row) => row[e]!)); // (A^T)^T, 6x4
    for (let ai = 0; ai < p.a; ai++) {
      eachTile(p, (nI, ty, tx, t) => {
        const g = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => {
          const [oy, ox] = [ty * 4 + i, tx * 4 + j];
          return oy < p.gh && ox < p.gw ? gr[p.g_off + nI * p.g_ns + (ai * p.gh + oy) * p.gw + ox]! : 0;
        }));
        sandwich(A, g, A).forEach((row, e1) => row.forEach((val, e2) => { gt[((e1 * 6 + e2) * p.a + ai) * T + t] = val; }));
      });
    }
  },
});

/** winograd_grad with gr read as vec4 (gw, g_off, g_ns multiples of 4). */
export const winograd_grad_vec4 = variantOf(winograd_grad, {
  name: 'winograd_grad_vec4',
  description: 'winograd_grad with each tile row read as one vec4 (gw % 4 == 0)',
});

/**
 * winograd_wgrad_gemm: pw[((slot0 + s)*36 + e)*a*b + ai*b + bi] (+)= sum over the slice's tiles of gt[e][ai][t] *
 * v[e][bi][t] (ACCUMULATE: add to pw).
 */
export const winograd_wgrad_gemm = defineKernel({
  name: 'winograd_wgrad_gemm',
  reads: { gt: 'f32', v: 'f32' },
  writes: { pw: 'f32' },
  inPlace: ['pw'],
  params: { a: 'u32', b: 'u32', t4: 'u32', s_len: 'u32', nslices: 'u32', slot0: 'u32' },
  constants: { WG: 8, ACCUMULATE: false },
  description: 'the 36 Winograd weight-gradient contractions over the tiles of each slice',
  grid: (p, c) => grid1d(p.nslices * 36 * cdiv(p.a, 16) * cdiv(p.b, 4 * (c.WG as number)), 1),
  cost: (p) => ({ flops: 2 * 36 * p.a * p.b * p.t4 * 4, bytes: 4 * 36 * ((p.a + p.b) * p.t4 * 4 + p.nslices * p.a * p.b) }),
  tolerance: (p) => sumOf(p.s_len * 4),
  labConstants: [{ ACCUMULATE: true }],
  describe: (p) => `36 x [${p.a} x ${p.t4 * 4} tiles] * [${p.t4 * 4} tiles x ${p.b}] in ${p.nslices} slices`,
  ref({ gt, v }, { pw }, p, c) {
    for (let s = 0; s < p.nslices; s++) {
      const [q0, q1] = [s * p.s_len, Math.min((s + 1) * p.s_len, p.t4)];
      for (let e = 0; e < 36; e++) {
        for (let ai = 0; ai < p.a; ai++) {
          for (let bi = 0; bi < p.b; bi++) {
            let acc = 0;
            for (let t = q0 * 4; t < q1 * 4; t++) acc += gt[(e * p.a + ai) * p.t4 * 4 + t]! * v[(e * p.b + bi) * p.t4 * 4 + t]!;
            const o = (((p.slot0 + s) * 36 + e) * p.a + ai) * p.b + bi;
            pw[o] = acc + (c.ACCUMULATE ? pw[o]! : 0);
          }
        }
      }
    }
  },
});

/**
 * winograd_wgrad_output: dw[a0 + ai, b0 + bi] (+)= G^T m G, m[e] = the sum over slots of pw[slot][e][ai][bi] (dw is
 * [., b_tot, 3, 3]).
 */
export const winograd_wgrad_output = defineKernel({
  name: 'winograd_wgrad_output',
  reads: { pw: 'f32' },
  writes: { dw: 'f32' },
  inPlace: ['dw'],
  params: { a: 'u32', b: 'u32', nslots: 'u32', b_tot: 'u32', a0: 'u32', b0: 'u32' },
  constants: { WG, ACCUMULATE: false, V4: false },
  description: 'dw (+)= G^T m G of the slot sums of the Winograd weight-gradient partials (V4: 4 pairs per invocation, a*b % 4 == 0)',
  grid: (p, c) => grid1d((p.a * p.b) / (c.V4 ? 4 : 1), c.WG as number),
  cost: (p, c) => ({ flops: 0, bytes: 4 * (36 * p.nslots * p.a * p.b + 9 * p.a * p.b * (c.ACCUMULATE ? 2 : 1)) }),
  tolerance: (p) => sumOf(36 * p.nslots),
  labConstants: [{ ACCUMULATE: true }],
  ref({ pw }, { dw }, p, c) {
    const ab = p.a * p.b;
    const GT = WINOGRAD_G[0]!.map((_, k) => WINOGRAD_G.map((row) => row[k]!)); // 3x6
    for (let i = 0; i < ab; i++) {
      const M = [0, 1, 2, 3, 4, 5].map((e1) => [0, 1, 2, 3, 4, 5].map((e2) => {
        let acc = 0;
        for (let k = 0; k < p.nslots; k++) acc += pw[(k * 36 + e1 * 6 + e2) * ab + i]!;
        return acc;
      }));
      const out = ((p.a0 + Math.floor(i / p.b)) * p.b_tot + p.b0 + (i % p.b)) * 9;
      sandwich(GT, M, GT).forEach((row, ky) => row.forEach((val, kx) => {
        const o = out + ky * 3 + kx;
        dw[o] = val + (c.ACCUMULATE ? dw[o]! : 0);
      }));
    }
  },
});

/**
 * The Winograd kernels (specs + CPU references). Their group is conv: Winograd is one way to run a convolution, and the
 * profiler's conv total holds both (bench splits it into direct and Winograd by name).
 */
export const WINOGRAD_KERNELS = defineGroup('conv', {
  winograd_weight,
  winograd_input,
  winograd_input_vec4,
  winograd_input_vec2,
  winograd_gemm,
  winograd_output,
  winograd_output_vec4,
  winograd_output_vec2,
  winograd_fused,
  winograd_grad,
  winograd_grad_vec4,
  winograd_wgrad_gemm,
  winograd_wgrad_output,
} satisfies Record<string, KernelSpec>);
