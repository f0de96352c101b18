// The run's picture: training loss per step (and its running mean) on the left axis, validation Dice per class on
// the right axis (0..1), as a small hand-written SVG.
import type { ValRecord } from './checkpoint.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const COLOURS = ['#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

/** An SVG of loss (per step, smoothed) and validation Dice (per class) against the step. */
export function trainingPlotSvg(loss: readonly number[], val: readonly ValRecord[], opts: { title?: string; classNames?: readonly string[] } = {}): string {
  const W = 720, H = 360, L = 60, R = 60, T = 36, B = 44;
  const pw = W - L - R, ph = H - T - B;
  const steps = Math.max(1, loss.length, ...val.map((v) => v.step));
  const finite = loss.filter(Number.isFinite);
  const lmax = finite.length ? Math.max(...finite) * 1.05 : 1;
  const x = (s: number) => L + (pw * s) / steps;
  const yl = (v: number) => T + ph * (1 - Math.min(v, lmax) / (lmax || 1));
  const yd = (v: number) => T + ph * (1 - v);
  const path = (pts: [number, number][]) => pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title ?? 'training loss and validation Dice')}</text>`);
  for (let i = 0; i <= 5; i++) {
    const yy = T + (ph * i) / 5;
    out.push(`<line x1="${L}" x2="${L + pw}" y1="${yy}" y2="${yy}" stroke="#eee"/>`);
    out.push(`<text x="${L - 6}" y="${yy + 4}" text-anchor="end" fill="#1f77b4">${((lmax * (5 - i)) / 5).toPrecision(2)}</text>`);
    out.push(`<text x="${L + pw + 6}" y="${yy + 4}" fill="#d62728">${((5 - i) / 5).toFixed(1)}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const s = Math.round((steps * i) / 4);
    out.push(`<text x="${x(s)}" y="${T + ph + 16}" text-anchor="middle">${s}</text>`);
  }
  out.push(`<text x="${L + pw / 2}" y="${H - 8}" text-anchor="middle">step</text>`);
  out.push(`<text transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle" fill="#1f77b4">loss</text>`);
  out.push(`<text transform="translate(${W - 12} ${T + ph / 2}) rotate(90)" text-anchor="middle" fill="#d62728">validation Dice</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  const pts = loss.map((v, i): [number, number] => [x(i + 1), yl(Number.isFinite(v) ? v : lmax)]);
  if (pts.length) out.push(`<path d="${path(pts)}" fill="none" stroke="#1f77b4" stroke-opacity="0.35" stroke-width="1"/>`);
  // Running mean over ~5% of the run.
  const k = Math.max(1, Math.round(loss.length / 20));
  const smooth: [number, number][] = [];
  let acc = 0;
  loss.forEach((v, i) => {
    acc += v;
    if (i >= k) acc -= loss[i - k]!;
    if (i >= k - 1) smooth.push([x(i + 1), yl(acc / k)]);
  });
  if (smooth.length > 1) out.push(`<path d="${path(smooth)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  const classes = val[0]?.dice.length ?? 0;
  for (let c = 0; c < classes; c++) {
    const col = COLOURS[c % COLOURS.length]!;
    const dp = val.map((v): [number, number] => [x(v.step), yd(v.dice[c]!)]);
    out.push(`<path d="${path(dp)}" fill="none" stroke="${col}" stroke-width="2"/>`);
    for (const [a, b] of dp) out.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${col}"/>`);
    const name = opts.classNames?.[c] ?? `class ${c}`;
    out.push(`<text x="${L + 8}" y="${T + 16 + 14 * (c + 1)}" fill="${col}">Dice ${esc(name)}${val.length ? ` ${val[val.length - 1]!.dice[c]!.toFixed(3)}` : ''}</text>`);
  }
  out.push(`<text x="${L + 8}" y="${T + 16}" fill="#1f77b4">loss${loss.length ? ` ${loss[loss.length - 1]!.toFixed(4)}` : ''}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
