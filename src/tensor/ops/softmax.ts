// softmax and logSoftmax along any dim (PyTorch semantics): rows of [outer, D, inner] in windows under the binding
// limit, or plane by plane with online statistics where one row spans more than a binding.
import { softmax_bwd, softmax_fwd, softmax_plane_apply, softmax_plane_bwd, softmax_plane_dot, softmax_plane_stats } from '../../kernels/softmax.js';
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { dimGeometry, planeChunks, planeWin, rowRanges, rowSpan, spanWindow, type DimLayout } from './split.js';
import { checkDType, deviceOf, disposeOnThrow, empty, launch } from './util.js';

/** softmax_fwd over every row range of [outer, D, inner], or plane by plane (stats, then apply) for long rows. */
function softmaxForward(x: Tensor, y: Tensor, { outer, D, inner }: DimLayout, LOG: boolean): void {
  const dev = x.device;
  const ranges = rowRanges(dev, outer, D, inner);
  if (ranges) {
    for (const [r0, r1] of ranges) {
      const [e0, e1] = rowSpan(r0, r1, D, inner);
      const w = spanWindow(y, e0, e1);
      launch(softmax_fwd, { x: spanWindow(x, e0, e1).b }, { y: w.b }, { rows: r1 - r0, row0: r0, D, inner, base: w.base }, { constants: { LOG } });
    }
    return;
  }
  const chunks = planeChunks(dev, outer, inner);
  const st = empty(dev, [3 * chunks[0]!.np]);
  try {
    for (const { o, i0, np } of chunks) {
      for (let d = 0; d < D; d++) {
        const xw = planeWin(x, o, d, D, inner, i0, np);
        launch(softmax_plane_stats, { x: xw.b, tgt: xw.b }, { st }, { np, xoff: xw.off, toff: 0, d, first: d === 0 ? 1 : 0 });
      }
      for (let d = 0; d < D; d++) {
        const xw = planeWin(x, o, d, D, inner, i0, np);
        launch(softmax_plane_apply, { x: xw.b, st }, { y: planeWin(y, o, d, D, inner, i0, np).b }, { np, off: xw.off }, { constants: { LOG } });
      }
    }
  } finally {
    st.dispose();
  }
}

/** softmax_bwd over every row range, or plane by plane (row sums, then the gradient) for long rows. */
function softmaxBackward(y: Tensor, g: Tensor, gx: Tensor, { outer, D, inner }: DimLayout, LOG: boolean): void {
  const dev = y.device;
  const ranges = rowRanges(dev, outer, D, inner);
  if (ranges) {
    for (const [r0, r1] of ranges) {
      const [e0, e1] = rowSpan(r0, r1, D, inner);
      const w = spanWindow(gx, e0, e1);
      launch(softmax_bwd, { y: spanWindow(y, e0, e1).b, g: spanWindow(g, e0, e1).b }, { gx: w.b }, { rows: r1 - r0, row0: r0, D, inner, base: w.base }, { constants: { LOG } });
    }
    return;
  }
  const chunks = planeChunks(dev, outer, inner);
  const acc = empty(dev, [chunks[0]!.np]);
  for (const { o, i0, np } of chunks) {
    const pw = (t: Tensor, d: number) => planeWin(t, o, d, D, inner, i0, np);
    for (let d = 0; d < D; d++) {
      const yw = pw(y, d);
      launch(softmax_plane_dot, { y: yw.b, g: pw(g, d).b }, { acc }, { np, off: yw.off, first: d === 0 ? 1 : 0 }, { constants: { LOG } });
    }
    for (let d = 0; d < D; d++) {
      const yw = pw(y, d);
      launch(softmax_plane_bwd, { y: yw.b, g: pw(g, d).b, acc }, { gx: pw(gx, d).b }, { np, off: yw.off }, { constants: { LOG } });
    }
  }
  acc.dispose();
}

function softmaxOp(op: string, x: Tensor, dim: number, LOG: boolean): Tensor {
  const dev = deviceOf(op, x);
  checkDType(op, x, 'f32');
  const g = dimGeometry(op, x.shape, dim);
  const y = empty(dev, x.shape);
  disposeOnThrow([y], () => softmaxForward(x, y, g, LOG));
  return record(op, [x], y, [y], (gy, [sy]) => {
    const gx = empty(dev, x.shape);
    softmaxBackward(sy!, gy, gx, g, LOG);
    return [gx];
  });
}

/** Softmax over `dim` (channels, dim 1, for segmentation): exp(x - max) / sum exp(x - max). Any shape. */
export function softmax(x: Tensor, dim = 1): Tensor {
  return softmaxOp('softmax', x, dim, false);
}

/** Log-softmax over `dim`: x - max - log(sum exp(x - max)). Any shape. */
export function logSoftmax(x: Tensor, dim = 1): Tensor {
  return softmaxOp('logSoftmax', x, dim, true);
}
