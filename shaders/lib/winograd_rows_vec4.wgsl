// lib/winograd_rows_vec4.wgsl — the 6 patch rows of 18 columns of a Winograd tile quad read as aligned vec4 (what
// winograd_input_vec4 and winograd_fused share): per row the 6 vec4s from column ix0 - SHIFT (a multiple of 4), 24
// columns of which the 18 from SHIFT are the row's, zero outside x. Valid when w and the plane offset are multiples of 4
// and SHIFT = (-pw) mod 4 (an override: the column selection stays constant).

override SHIFT: u32 = 3u;

fn load_rows_vec4(x: ptr<storage, array<vec4f>, read>, plane: u32, iy0: i32, ix0: i32, h: u32, w: u32) -> array<array<f32, 18>, 6> {
  let a0 = ix0 - i32(SHIFT);
  let w4 = i32(w / 4u);
  var rows: array<array<f32, 18>, 6>;
  for (var ii = 0u; ii < 6u; ii++) {
    let iy = iy0 + i32(ii);
    let inside = iy >= 0 && iy < i32(h);
    let rb = (plane + u32(clamp(iy, 0, i32(h) - 1)) * w) / 4u;
    var f: array<vec4f, 6>;
    for (var q = 0u; q < 6u; q++) {
      let qx = a0 / 4 + i32(q);
      f[q] = select(vec4f(0.0), (*x)[rb + u32(clamp(qx, 0, w4 - 1))], inside && qx >= 0 && qx < w4);
    }
    for (var j = 0u; j < 18u; j++) {
      rows[ii][j] = f[(SHIFT + j) / 4u][(SHIFT + j) % 4u];
    }
  }
  return rows;
}
