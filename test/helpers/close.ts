export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /**
   * Per element, added to atol: for a float32 sum, one rounding unit of the sum of its terms' magnitudes (Higham's
   * bound scales with sum |terms|, not with |result|), so that a result that cancels is judged by the error its terms
   * can make; see sumBound.
   */
  atolOf?: ArrayLike<number>;
}

/** Compares two arrays elementwise; reports the worst offender (index, got, want, excess over tolerance). */
export function closeness(got: ArrayLike<number>, want: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6, atolOf }: CloseOptions = {}) {
  if (got.length !== want.length) return { ok: false, message: `length ${got.length} != expected ${want.length}` };
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) {
        bad++;
        if (worstExcess !== Infinity) [worst, worstExcess] = [i, Infinity];
      }
      continue;
    }
    if (g === w) continue;
    const excess = Math.abs(g - w) - (atol + (atolOf ? atolOf[i]! : 0) + rtol * Math.abs(w));
    if (excess > 0 || !Number.isFinite(excess)) {
      bad++;
      if (!(excess <= worstExcess)) [worst, worstExcess] = [i, excess];
    }
  }
  if (!bad) return { ok: true, message: `all ${got.length} values within rtol ${rtol}, atol ${atol}` };
  return {
    ok: false,
    message: `${bad} of ${got.length} values differ (rtol ${rtol}, atol ${atol}); worst at [${worst}]: got ${got[worst]}, want ${want[worst]} (excess ${worstExcess.toExponential(3)})`,
  };
}

/** Two float32 rounding units (2^-23) of each element of `absSum` (a sum of |terms| per result): CloseOptions.atolOf. */
export function sumBound(absSum: ArrayLike<number>): Float64Array {
  return Float64Array.from(absSum, (s) => 2 ** -23 * s);
}

/** Largest |x|, for tolerances that scale with the data. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Tolerance for a sum of k float32 products: grows like sqrt(k) (random rounding), with a floor. */
export function reductionTol(k: number, scale = 1): CloseOptions {
  return { rtol: 2e-6 * Math.sqrt(Math.max(k, 1)) + 1e-6, atol: 4e-7 * Math.sqrt(Math.max(k, 1)) * scale + 1e-7 };
}
