// lib/conv2d_fwd_io.wgsl — what the two forward convolution kernels conv2d_fwd and conv2d_fwd_sg share: their
// contract (flags, Params, bindings: 0 x · 1 wp · 2 bias · 3 y · 4 p, documented in each kernel's header), the tap
// maps between output and input rows / columns (direct, or TRANSPOSED) and the epilogue store. Only the inner
// loops differ (4 pixels x 8 channels per invocation, or weights shared through the subgroup).

// #include "lib/conv2d_fwd_params.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn inside(ix: i32) -> bool {
  return ix >= 0 && ix < i32(p.w);
}

// The column clamped into the row, so that a masked-off load never leaves the binding.
fn clampx(ix: i32) -> u32 {
  return u32(clamp(ix, 0, i32(p.w) - 1));
}

// The input row that output row oy reaches through tap ky, or -1 when it reaches none.
fn tapRow(oy: u32, ky: u32) -> i32 {
  var iy = i32(oy * p.sh) - p.ph + i32(ky * p.dh);
  if (TRANSPOSED) {
    let ty = i32(oy) + p.ph - i32(ky * p.dh);
    if (ty < 0 || ty % i32(p.sh) != 0) { return -1; }
    iy = ty / i32(p.sh);
  }
  return select(-1, iy, iy >= 0 && iy < i32(p.h));
}

// Whether tap kx reaches column phase rx at all (always, for the direct convolution: columns outside the row are
// masked per load instead). Depends on no lane, so a branch on it is uniform.
fn tapHits(rx: u32, kx: u32) -> bool {
  return !TRANSPOSED || (i32(rx) + p.pw - i32(kx * p.dw)) % i32(p.sw) == 0;
}

// The input column of an invocation's first output (column block q0, phase rx) through a tap kx that hits.
fn tapCol(q0: u32, rx: u32, kx: u32) -> i32 {
  if (TRANSPOSED) {
    return i32(q0) + (i32(rx) + p.pw - i32(kx * p.dw)) / i32(p.sw);
  }
  return i32(q0 * p.sw) - p.pw + i32(kx * p.dw);
}

// Writes 4 output channels co0..co0+3 of pixel (n, oy, ox), skipping those past the block: v + y (ACCUMULATE),
// else v + bias (HAS_BIAS), else v.
fn store4(n: u32, co0: u32, oy: u32, ox: u32, v: vec4f) {
  if (ox >= p.ow) { return; }
  let ohw = p.oh * p.ow;
  let base = p.y_off + n * p.y_ns + oy * p.ow + ox;
  for (var c = 0u; c < 4u; c++) {
    let co = co0 + c;
    if (co < p.cout) {
      let idx = base + co * ohw;
      var b = 0.0;
      if (ACCUMULATE) {
        b = y[idx];
      } else if (HAS_BIAS) {
        b = bias[p.b_co0 + co];
      }
      y[idx] = v[c] + b;
    }
  }
}
