// Softmax and loss kernels: every kernel and every variant (LOG, REDUCE, HAS_W / HAS_PW, G_MODE, target kinds,
// loss_reduce MODEs) on the GPU against its CPU reference (float64), on seeded random shapes, whole and as
// windows (row0 / e0 / plane offsets past 0, bases below them, partial slots past 0), as the op layer runs them
// on tensors over the binding limit.
import { describe, expect, test } from 'vitest';
import { getKernel, kernelsOf, type KernelSpec } from '../../src/index.js';
import { LOSS_REDUCE_MODES } from '../../src/kernels/loss.js';
import { reductionTol, type CloseOptions } from '../helpers/close.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { randInt, randnArray, rng, uniformArray } from '../helpers/random.js';
import { runKernel, type KernelRun } from '../helpers/run_kernel.js';

const { skip, dev } = await gpuSuite();

/** Runs `spec` on the GPU and on the float64 CPU reference; compares every write. */
async function compare(spec: KernelSpec, run: KernelRun, tol: CloseOptions) {
  const got = await runKernel(dev, spec, run);
  const want = await runKernel(cpu64, spec, run);
  for (const k of Object.keys(spec.writes)) expect(got[k], `${spec.name} ${k} ${JSON.stringify(run.constants ?? {})}`).toBeAllClose(want[k]!, tol);
  return want;
}

const EW = { rtol: 2e-5, atol: 2e-6 };
const WGK = 64 * 16;

describe.skipIf(skip)('softmax kernels: GPU vs reference', () => {
  test.each([false, true])('softmax_fwd / softmax_bwd LOG=%s, whole tensors and row windows', async (LOG) => {
    const r = rng(LOG ? 11 : 10);
    for (const [outer, D, inner] of [[1, 1, 1], [3, 4, 5], [2, 3, 67], [70, 7, 1], [1, 2, 300], [5, 1, 9]] as const) {
      const n = outer * D * inner;
      const x = randnArray(r, n, 3);
      const rows = outer * inner;
      // Whole: rows [0, rows), base 0.
      const p = { rows, row0: 0, D, inner, base: 0 };
      const want = await compare(getKernel('softmax_fwd'), { reads: { x }, writes: { y: n }, params: p, constants: { LOG } }, EW);
      const g = randnArray(r, n);
      await compare(getKernel('softmax_bwd'), { reads: { y: want.y!, g }, writes: { gx: n }, params: p, constants: { LOG } }, EW);
      // A window: rows [r0, r1) of a bigger tensor, bound from `base` (below the first element of row r0).
      if (rows < 3) continue;
      const r0 = randInt(r, 1, rows - 2);
      const r1 = randInt(r, r0 + 1, rows);
      const at = (q: number) => Math.floor(q / inner) * D * inner + (q % inner);
      const e0 = at(r0);
      const e1 = at(r1 - 1) + (D - 1) * inner + 1;
      const base = randInt(r, 0, e0);
      const pw = { rows: r1 - r0, row0: r0, D, inner, base };
      const xs = x.slice(base, e1);
      const wy = await compare(getKernel('softmax_fwd'), { reads: { x: xs }, writes: { y: e1 - base }, params: pw, constants: { LOG } }, EW);
      const ys = Float64Array.from(wy.y!, (v) => (Number.isNaN(v) ? 0 : v));
      await compare(getKernel('softmax_bwd'), { reads: { y: ys, g: g.slice(base, e1) }, writes: { gx: e1 - base }, params: pw, constants: { LOG } }, EW);
    }
  });
});

describe.skipIf(skip)('plane-wise softmax kernels (rows longer than one binding): GPU vs reference', () => {
  const statsVariants = kernelsOf('softmax_plane_stats');
  test('every variant is covered', () => {
    expect(statsVariants.map((k) => k.name).sort()).toEqual(['softmax_plane_stats', 'softmax_plane_stats_f32_index']);
    expect(kernelsOf('cross_entropy_plane_fwd').map((k) => k.name).sort()).toEqual(['cross_entropy_plane_fwd', 'cross_entropy_plane_fwd_f32_index']);
  });

  test.each(statsVariants.map((k) => k.name))('%s: first and later planes, GATHER, window offsets', async (name) => {
    const k = getKernel(name);
    const r = rng(80 + name.length);
    for (const np of [1, 63, 1000]) {
      const xoff = randInt(r, 0, 5);
      const toff = randInt(r, 0, 5);
      const x = randnArray(r, np + xoff, 4);
      const tgt = classTargets(r, np + toff, 4, -100, !!k.constants.TGT_F32);
      const st = Float32Array.from([...randnArray(r, np, 2), ...uniformArray(r, np, 0.5, 4), ...randnArray(r, np)]);
      for (const first of [1, 0]) for (const GATHER of [false, true]) {
        const d = randInt(r, 0, 3);
        await compare(k, { reads: { x, tgt }, writes: { st: 3 * np }, init: { st }, params: { np, xoff, toff, d, first }, constants: { GATHER } }, EW);
      }
    }
  });

  test.each([false, true])('softmax_plane_apply / _dot / _bwd LOG=%s', async (LOG) => {
    const r = rng(LOG ? 91 : 90);
    for (const np of [1, 63, 1000]) {
      const off = randInt(r, 0, 5);
      const n = np + off;
      const x = randnArray(r, n, 3);
      const st = Float32Array.from([...randnArray(r, np, 2), ...uniformArray(r, np, 1, 5), ...randnArray(r, np)]);
      await compare(getKernel('softmax_plane_apply'), { reads: { x, st }, writes: { y: n }, params: { np, off }, constants: { LOG } }, EW);
      const y = LOG ? randnArray(r, n, 1).map((v) => -Math.abs(v)) : uniformArray(r, n, 0, 1);
      const g = randnArray(r, n);
      const acc = randnArray(r, np);
      for (const first of [1, 0]) {
        await compare(getKernel('softmax_plane_dot'), { reads: { y, g }, writes: { acc: np }, init: { acc }, params: { np, off, first }, constants: { LOG } }, EW);
      }
      await compare(getKernel('softmax_plane_bwd'), { reads: { y, g, acc }, writes: { gx: n }, params: { np, off }, constants: { LOG } }, EW);
    }
  });

  test.each(['cross_entropy_plane_fwd', 'cross_entropy_plane_fwd_f32_index'])('%s: none / partial sums, weights, ignore, windows', async (name) => {
    const k = getKernel(name);
    const r = rng(95 + name.length);
    for (const [np, C] of [[1, 1], [100, 3], [2500, 4]] as const) {
      const row0 = randInt(r, 0, 50);
      const pbase = randInt(r, 0, row0);
      const ignore = r.uniform() < 0.5 ? -100 : randInt(r, 0, C - 1);
      const tgt = classTargets(r, row0 + np - pbase, C, ignore, !!k.constants.TGT_F32);
      const st = Float32Array.from([...randnArray(r, np, 2), ...uniformArray(r, np, 1, 5), ...randnArray(r, np, 2)]);
      const w = uniformArray(r, C, 0.1, 2);
      for (const HAS_W of [false, true]) {
        const J = Math.ceil(np / WGK) + 1;
        const p = { np, row0, C, pbase, jbase: 1, J, ignore };
        const nrow = row0 + np - pbase;
        await compare(k, { reads: { st, tgt, w }, writes: { lse: nrow, out: nrow }, params: p, constants: { REDUCE: false, HAS_W } }, EW);
        await compare(k, { reads: { st, tgt, w }, writes: { lse: nrow, out: 2 * J }, params: p, constants: { REDUCE: true, HAS_W } }, reductionTol(WGK, 4));
      }
    }
  });
});

/** Broadcast index params of an operand with `m` values repeated every `div` elements. */
const bcast = (div: number, mod: number, base = 0) => ({ div, mod, base });

describe.skipIf(skip)('bce_with_logits kernels: GPU vs reference', () => {
  test('bce_with_logits_fwd: none / partial sums, weight and pos_weight, windows', async () => {
    const r = rng(20);
    for (const [N, C, HW] of [[1, 1, 7], [2, 3, 35], [3, 1, 1111], [1, 2, 2500]] as const) {
      const n = N * C * HW;
      const x = randnArray(r, n, 4);
      const t = uniformArray(r, n, 0, 1);
      for (let i = 0; i < n; i += 3) t[i] = i % 2;
      const w = uniformArray(r, n, 0.2, 2); // full-shaped weight
      const pw = uniformArray(r, C, 0.5, 3); // [C, 1, 1]
      for (const [HAS_W, HAS_PW] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        // Whole: elements [0, n); weight full (div 1, mod n), pos_weight per channel (div HW, mod C).
        const wb = bcast(1, n);
        const pb = bcast(HW, C);
        const params = (e0: number, len: number, xbase: number, jbase: number) => ({
          n: len, e0, xbase, wdiv: wb.div, wmod: wb.mod, wbase: xbase, pdiv: pb.div, pmod: pb.mod, pbase: 0, jbase,
        });
        const reads = { x, t, w, pw };
        const J = Math.ceil(n / WGK);
        await compare(getKernel('bce_with_logits_fwd'), { reads, writes: { out: n }, params: params(0, n, 0, 0), constants: { REDUCE: false, HAS_W, HAS_PW } }, EW);
        await compare(getKernel('bce_with_logits_fwd'), { reads, writes: { out: J + 2 }, params: params(0, n, 0, 2), constants: { REDUCE: true, HAS_W, HAS_PW } }, reductionTol(WGK, 4));
        // A window: elements [e0, n) bound from xbase <= e0 (x, t and the full weight share the window).
        const e0 = randInt(r, 1, n - 1);
        const xbase = randInt(r, 0, e0);
        const win = { x: x.slice(xbase), t: t.slice(xbase), w: w.slice(xbase), pw };
        await compare(getKernel('bce_with_logits_fwd'), { reads: win, writes: { out: n - xbase }, params: params(e0, n - e0, xbase, 0), constants: { REDUCE: false, HAS_W, HAS_PW } }, EW);
        await compare(getKernel('bce_with_logits_fwd'), { reads: win, writes: { out: J + 1 }, params: params(e0, n - e0, xbase, 1), constants: { REDUCE: true, HAS_W, HAS_PW } }, reductionTol(WGK, 4));
      }
    }
  });

  test('bce_with_logits_fwd: extreme logits (log1p of tiny exp, no overflow)', async () => {
    const x = Float32Array.from([80, -80, 30, -30, 17, -17, 1e-3, -1e-3, 88, -88, 0.5, 40]);
    const t = Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0.5, 0.9]);
    const n = x.length;
    const p = { n, e0: 0, xbase: 0, wdiv: 1, wmod: 1, wbase: 0, pdiv: 1, pmod: 1, pbase: 0, jbase: 0 };
    const k = getKernel('bce_with_logits_fwd');
    const got = await runKernel(dev, k, { reads: { x, t, w: x, pw: x }, writes: { out: n }, params: p });
    // Independent values: softplus form of the loss, computed in float64.
    const want = Array.from(x, (xv, i) => {
      const tv = t[i]!;
      const sp = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
      return tv * sp(-xv) + (1 - tv) * sp(xv);
    });
    expect(got.out).toBeAllClose(want, { rtol: 1e-5, atol: 0 });
  });

  test('bce_with_logits_bwd: scalar and elementwise upstream gradient, weights, windows', async () => {
    const r = rng(21);
    for (const [N, C, HW] of [[1, 1, 5], [2, 3, 37], [1, 4, 333]] as const) {
      const n = N * C * HW;
      const x = randnArray(r, n, 4);
      const t = uniformArray(r, n, 0, 1);
      const w = uniformArray(r, HW, 0.2, 2); // [W]-like broadcast: div 1, mod HW
      const pw = uniformArray(r, C, 0.5, 3);
      for (const G_SCALAR of [true, false]) {
        for (const [HAS_W, HAS_PW] of [[false, false], [true, true], [true, false], [false, true]] as const) {
          const g = G_SCALAR ? Float32Array.of(0.7) : randnArray(r, n);
          const p = { n, e0: 0, xbase: 0, wdiv: 1, wmod: HW, wbase: 0, pdiv: HW, pmod: C, pbase: 0, scale: 0.25 };
          const constants = { G_SCALAR, HAS_W, HAS_PW };
          await compare(getKernel('bce_with_logits_bwd'), { reads: { x, t, w, pw, g }, writes: { gx: n }, params: p, constants }, EW);
          const e0 = randInt(r, 1, n - 1);
          const xbase = randInt(r, 0, e0);
          const gw = G_SCALAR ? g : g.slice(xbase);
          await compare(getKernel('bce_with_logits_bwd'), {
            reads: { x: x.slice(xbase), t: t.slice(xbase), w, pw, g: gw }, writes: { gx: n - xbase }, params: { ...p, n: n - e0, e0, xbase }, constants,
          }, EW);
        }
      }
    }
  });
});

/** Class targets in [0, C) with some set to `ignore`; as i32 or as f32 holding integers. */
function classTargets(r: ReturnType<typeof rng>, n: number, C: number, ignore: number, f32: boolean) {
  const a = f32 ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform() < 0.15 ? ignore : randInt(r, 0, C - 1);
  return a;
}

describe.skipIf(skip)('cross_entropy kernels: GPU vs reference', () => {
  const fwdVariants = kernelsOf('cross_entropy_fwd');
  const bwdVariants = kernelsOf('cross_entropy_bwd');
  test('every variant is covered', () => {
    expect(fwdVariants.map((k) => k.name).sort()).toEqual(['cross_entropy_fwd', 'cross_entropy_fwd_f32_index']);
    expect(bwdVariants.map((k) => k.name).sort()).toEqual(['cross_entropy_bwd', 'cross_entropy_bwd_f32_index']);
  });

  test.each(fwdVariants.map((k) => k.name))('%s: none / partial sums, class weights, ignore, row windows', async (name) => {
    const k = getKernel(name);
    const f32 = !!k.constants.TGT_F32;
    const r = rng(30 + name.length);
    for (const [N, C, HW] of [[1, 1, 9], [2, 3, 35], [3, 2, 701], [40, 5, 1], [1, 4, 1500]] as const) {
      const x = randnArray(r, N * C * HW, 3);
      const rows = N * HW;
      const ignore = r.uniform() < 0.5 ? -100 : randInt(r, 0, C - 1);
      const tgt = classTargets(r, rows, C, ignore, f32);
      const w = uniformArray(r, C, 0.1, 2);
      for (const HAS_W of [false, true]) {
        const J = Math.ceil(rows / WGK);
        const p = { rows, row0: 0, C, inner: HW, xbase: 0, pbase: 0, jbase: 0, J, ignore };
        await compare(k, { reads: { x, tgt, w }, writes: { lse: rows, out: rows }, params: p, constants: { REDUCE: false, HAS_W } }, EW);
        await compare(k, { reads: { x, tgt, w }, writes: { lse: rows, out: 2 * J }, params: p, constants: { REDUCE: true, HAS_W } }, reductionTol(WGK, 4));
        if (rows < 3) continue;
        // Rows [r0, r1): x bound from xbase <= first element, per-row arrays from pbase <= r0; partial slot 1 of J = 3.
        const r0 = randInt(r, 1, rows - 2);
        const r1 = randInt(r, r0 + 1, rows);
        const at = (q: number) => Math.floor(q / HW) * C * HW + (q % HW);
        const e0 = at(r0);
        const e1 = at(r1 - 1) + (C - 1) * HW + 1;
        const xbase = randInt(r, 0, e0);
        const pbase = randInt(r, 0, r0);
        const Jw = Math.ceil((r1 - r0) / WGK) + 2;
        const pw = { rows: r1 - r0, row0: r0, C, inner: HW, xbase, pbase, jbase: 1, J: Jw, ignore };
        const reads = { x: x.slice(xbase, e1), tgt: tgt.slice(pbase, r1), w };
        await compare(k, { reads, writes: { lse: r1 - pbase, out: r1 - pbase }, params: pw, constants: { REDUCE: false, HAS_W } }, EW);
        await compare(k, { reads, writes: { lse: r1 - pbase, out: 2 * Jw }, params: pw, constants: { REDUCE: true, HAS_W } }, reductionTol(WGK, 4));
      }
    }
  });

  test.each(bwdVariants.map((k) => k.name))('%s: G_MODE none / sum / mean, class weights, ignore, windows', async (name) => {
    const k = getKernel(name);
    const f32 = !!k.constants.TGT_F32;
    const r = rng(40 + name.length);
    for (const [N, C, HW] of [[1, 1, 9], [2, 3, 35], [3, 2, 301], [30, 5, 1]] as const) {
      const n = N * C * HW;
      const rows = N * HW;
      const x = randnArray(r, n, 3);
      const ignore = r.uniform() < 0.5 ? -100 : randInt(r, 0, C - 1);
      const tgt = classTargets(r, rows, C, ignore, f32);
      const w = uniformArray(r, C, 0.1, 2);
      const lse = randnArray(r, rows, 1).map((v) => v + 2);
      const sums = Float32Array.of(3.5, 1.7);
      for (const G_MODE of [0, 1, 2]) {
        for (const HAS_W of [false, true]) {
          const g = G_MODE === 0 ? randnArray(r, rows) : Float32Array.of(-1.3);
          const p = { n, e0: 0, C, inner: HW, xbase: 0, pbase: 0, ignore, scale: 0.75 };
          const constants = { G_MODE, HAS_W };
          await compare(k, { reads: { x, tgt, w, lse, g, sums }, writes: { gx: n }, params: p, constants }, EW);
          // Elements [e0, n): x / gx from xbase <= e0, per-row arrays from pbase <= the first row touched.
          const e0 = randInt(r, 1, n - 1);
          const xbase = randInt(r, 0, e0);
          const pbase = randInt(r, 0, Math.floor(e0 / (C * HW)) * HW);
          const reads = { x: x.slice(xbase), tgt: tgt.slice(pbase), w, lse: lse.slice(pbase), g: G_MODE === 0 ? g.slice(pbase) : g, sums };
          await compare(k, { reads, writes: { gx: n - xbase }, params: { ...p, n: n - e0, e0, xbase, pbase }, constants }, EW);
        }
      }
    }
  });
});

/** Dice targets of a kind: one-hot / soft f32 like probs, or class indices [N, HW] (i32 or f32). */
function diceTargets(r: ReturnType<typeof rng>, kind: number, N: number, C: number, HW: number) {
  if (kind === 0) {
    const t = new Float32Array(N * C * HW);
    for (let i = 0; i < t.length; i++) t[i] = r.uniform() < 0.3 ? r.uniform() : r.uniform() < 0.5 ? 1 : 0;
    return t;
  }
  return classTargets(r, N * HW, C, C + 3, kind === 2).map((v) => (v === C + 3 ? randInt(r, 0, C - 1) : v));
}

describe.skipIf(skip)('dice kernels: GPU vs reference', () => {
  const fwdVariants = kernelsOf('dice_fwd');
  const bwdVariants = kernelsOf('dice_bwd');
  test('every variant is covered', () => {
    expect(fwdVariants.map((k) => k.name).sort()).toEqual(['dice_fwd', 'dice_fwd_f32_index', 'dice_fwd_index']);
    expect(bwdVariants.map((k) => k.name).sort()).toEqual(['dice_bwd', 'dice_bwd_f32_index', 'dice_bwd_index']);
  });

  test.each(fwdVariants.map((k) => k.name))('%s: whole, plane blocks and pixel chunks', async (name) => {
    const k = getKernel(name);
    const kind = k.constants.TGT as number;
    const r = rng(50 + name.length);
    for (const [N, C, HW] of [[1, 1, 7], [2, 3, 35], [3, 2, 1500], [1, 4, 2100]] as const) {
      const x = uniformArray(r, N * C * HW, 0, 1);
      const tgt = diceTargets(r, kind, N, C, HW);
      const CPPG = Math.ceil(HW / WGK);
      const J = N * CPPG;
      const base = { C, HW, CPPG, J };
      // Whole: every plane, every pixel.
      const p = { ...base, pl0: 0, npl: N * C, i0: 0, ni: HW, cpp: CPPG, jc0: 0, xbase: 0, tbase: 0 };
      await compare(k, { reads: { x, tgt }, writes: { part: 3 * C * J }, params: p, constants: {} }, reductionTol(WGK));
      // A block of planes [pl0, pl0 + npl) (whole planes), bound from bases at or below its first element / pixel.
      const pl0 = randInt(r, 0, N * C - 1);
      const npl = randInt(r, 1, N * C - pl0);
      const e0 = pl0 * HW;
      const e1 = (pl0 + npl) * HW;
      const p0 = Math.floor(pl0 / C) * HW;
      const p1 = (Math.floor((pl0 + npl - 1) / C) + 1) * HW;
      const xbase = randInt(r, 0, e0);
      const tbase = randInt(r, 0, kind === 0 ? e0 : p0);
      const tw = kind === 0 ? tgt.slice(tbase, e1) : tgt.slice(tbase, p1);
      const pb = { ...base, pl0, npl, i0: 0, ni: HW, cpp: CPPG, jc0: 0, xbase, tbase };
      await compare(k, { reads: { x: x.slice(xbase, e1), tgt: tw }, writes: { part: 3 * C * J }, params: pb, constants: {} }, reductionTol(WGK));
      // A pixel chunk [i0, i0 + ni) of one plane, i0 a multiple of WG * K.
      if (CPPG < 2) continue;
      const q = randInt(r, 0, N * C - 1);
      const i0 = WGK * randInt(r, 1, CPPG - 1);
      const ni = randInt(r, 1, HW - i0);
      const n = Math.floor(q / C);
      const xs = q * HW + i0;
      const ts = kind === 0 ? xs : n * HW + i0;
      const pc = { ...base, pl0: q, npl: 1, i0, ni, cpp: Math.ceil(ni / WGK), jc0: i0 / WGK, xbase: xs - 3, tbase: ts - 1 };
      await compare(k, { reads: { x: x.slice(xs - 3, xs + ni), tgt: tgt.slice(ts - 1, ts + ni) }, writes: { part: 3 * C * J }, params: pc, constants: {} }, reductionTol(WGK));
    }
  });

  test.each(bwdVariants.map((k) => k.name))('%s: combined and per-class upstream gradient, windows', async (name) => {
    const k = getKernel(name);
    const kind = k.constants.TGT as number;
    const r = rng(60 + name.length);
    for (const [N, C, HW] of [[1, 1, 7], [2, 3, 35], [2, 2, 333]] as const) {
      const n = N * C * HW;
      const tgt = diceTargets(r, kind, N, C, HW);
      const sums = Float32Array.from({ length: 3 * C }, () => 1 + 20 * r.uniform());
      for (const COMBINED of [true, false]) {
        const g = COMBINED ? Float32Array.of(0.9) : randnArray(r, C);
        const p = { n, e0: 0, C, HW, xbase: 0, tbase: 0, smoothing: 0.7, scale: 1 / C };
        await compare(k, { reads: { tgt, sums, g }, writes: { gx: n }, params: p, constants: { COMBINED } }, EW);
        const e0 = randInt(r, 1, n - 1);
        const xbase = randInt(r, 0, e0);
        const tbase = kind === 0 ? xbase : randInt(r, 0, Math.floor(e0 / (C * HW)) * HW);
        await compare(k, { reads: { tgt: tgt.slice(tbase), sums, g }, writes: { gx: n - xbase }, params: { ...p, n: n - e0, e0, xbase, tbase }, constants: { COMBINED } }, EW);
      }
    }
  });
});

describe.skipIf(skip)('loss_reduce: GPU vs reference', () => {
  test.each(Object.entries(LOSS_REDUCE_MODES))('MODE %s', async (_mode, MODE) => {
    const r = rng(70 + MODE);
    for (const J of [1, 5, 64, 65, 1000]) {
      const C = MODE >= 2 ? randInt(r, 1, 5) : 1;
      const G = MODE >= 2 ? 3 * C : 2;
      const part = MODE >= 2 ? uniformArray(r, G * J, 0, 3) : randnArray(r, G * J, 5);
      if (MODE === 1) for (let j = J; j < 2 * J; j++) part[j] = Math.abs(part[j]!) + 0.1;
      const ny = MODE === 3 ? C : 1;
      await compare(getKernel('loss_reduce'), { reads: { part }, writes: { y: ny, sums: G }, params: { G, J, C, scale: 0.3, smoothing: 0.5 }, constants: { MODE } }, reductionTol(J, 5));
    }
  });
});

/**
 * Class targets with invalid ones mixed in: labels out of [0, C) (above, negative, the i32 extremes), the ignore
 * index, and for f32 targets values that are no integer (x.5, NaN, Inf) and integers past the i32 range.
 */
function badTargets(r: ReturnType<typeof rng>, n: number, C: number, ignore: number, f32: boolean) {
  const bad = f32 ? [C, -1, 0.5, C - 0.25, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 1e20] : [C, C + 7, -1, -(2 ** 31), 2 ** 31 - 1];
  const a = f32 ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    a[i] = u < 0.1 ? ignore : u < 0.3 ? bad[randInt(r, 0, bad.length - 1)]! : randInt(r, 0, C - 1);
  }
  return a;
}

describe.skipIf(skip)('invalid class targets: the check kernel and the NaN of the loss kernels, GPU vs reference', () => {
  const checkVariants = kernelsOf('class_target_check');
  test('every variant is covered', () => {
    expect(checkVariants.map((k) => k.name).sort()).toEqual(['class_target_check', 'class_target_check_f32_index']);
  });

  test.each(checkVariants.map((k) => k.name))('%s: count and largest raw bits per slot, window offsets, IGNORE, accumulating', async (name) => {
    const k = getKernel(name);
    const f32 = !!k.constants.TGT_F32;
    const r = rng(90 + name.length);
    const EXACT = { rtol: 0, atol: 0 };
    for (const n of [1, 7, 300, 70000]) {
      const C = randInt(r, 1, 5);
      const off = randInt(r, 0, 6);
      const tgt = badTargets(r, n + off, C, -100, f32);
      const slot = randInt(r, 0, 15);
      for (const IGNORE of [true, false]) {
        const p = { n, off, C, ignore: -100, slot };
        // From zeros (the device's buffer) and on top of earlier counts (the poison fill).
        const want = await compare(k, { reads: { tgt }, writes: { flag: 32 }, init: { flag: new Uint32Array(32) }, params: p, constants: { IGNORE } }, EXACT);
        await compare(k, { reads: { tgt }, writes: { flag: 32 }, params: p, constants: { IGNORE } }, EXACT);
        const isBad = (v: number) => !((IGNORE && v === -100) || (Number.isInteger(v) && v >= 0 && v < C));
        const bads = Array.from(tgt.subarray(off, off + n)).filter(isBad);
        expect(want.flag![2 * slot]).toBe(bads.length);
        for (let s = 0; s < 16; s++) if (s !== slot) expect(want.flag![2 * s]).toBe(0);
      }
    }
  });

  test.each(['cross_entropy_fwd', 'cross_entropy_fwd_f32_index'])('%s: NaN for every invalid row, as the reference', async (name) => {
    const k = getKernel(name);
    const f32 = !!k.constants.TGT_F32;
    const r = rng(95 + name.length);
    const [N, C, HW] = [2, 3, 300];
    const x = randnArray(r, N * C * HW, 3);
    const rows = N * HW;
    const tgt = badTargets(r, rows, C, -100, f32);
    const p = { rows, row0: 0, C, inner: HW, xbase: 0, pbase: 0, jbase: 0, J: 1, ignore: -100 };
    const want = await compare(k, { reads: { x, tgt, w: new Float32Array(C).fill(1) }, writes: { lse: rows, out: rows }, params: p, constants: { REDUCE: false } }, EW);
    tgt.forEach((v, i) => expect(Number.isNaN(want.out![i]!), `row ${i} target ${v}`).toBe(v !== -100 && !(Number.isInteger(v) && v >= 0 && v < C)));
    const bwd = getKernel(name.replace('fwd', 'bwd'));
    const g = await compare(bwd, {
      reads: { x, tgt, w: new Float32Array(C).fill(1), lse: want.lse!, g: [1], sums: [0, 1] }, writes: { gx: N * C * HW },
      params: { n: N * C * HW, e0: 0, C, inner: HW, xbase: 0, pbase: 0, ignore: -100, scale: 1 }, constants: { G_MODE: 1 },
    }, EW);
    expect(g.gx!.some(Number.isNaN)).toBe(true);
  });

  test.each(['dice_fwd_index', 'dice_fwd_f32_index'])('%s: an invalid class index makes every class NaN, as the reference', async (name) => {
    const k = getKernel(name);
    const f32 = k.constants.TGT === 2;
    const r = rng(97 + name.length);
    const [N, C, HW] = [2, 3, 50];
    const x = uniformArray(r, N * C * HW, 0, 1);
    const tgt = Array.from({ length: N * HW }, (_, i) => (i === 61 ? (f32 ? 1.5 : C) : randInt(r, 0, C - 1)));
    const p = { C, HW, CPPG: 1, J: N, pl0: 0, npl: N * C, i0: 0, ni: HW, cpp: 1, jc0: 0, xbase: 0, tbase: 0 };
    const want = await compare(k, { reads: { x, tgt }, writes: { part: 3 * C * N }, params: p, constants: {} }, reductionTol(WGK));
    // Item 1 (pixels 50..99) holds the bad index: its slot is NaN in I and T of every class; item 0 stays finite.
    for (let c = 0; c < C; c++) {
      expect(want.part![c * N + 1]).toBeNaN();
      expect(want.part![(2 * C + c) * N + 1]).toBeNaN();
      expect(Number.isFinite(want.part![c * N])).toBe(true);
    }
  });
});
