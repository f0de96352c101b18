// lib/winograd_at.wgsl — the output transform A^T m A of Winograd F(4x4, 3x3) on 4 tiles at once (each value a vec4
// over 4 neighbouring tiles) and the output tile quad it fills: what winograd_output's kernels and winograd_fused share.

// A^T times the 6-vector s (each entry a vec4: 4 tiles).
fn at(s: array<vec4f, 6>) -> array<vec4f, 4> {
  let s12 = s[1] + s[2];
  let d12 = s[1] - s[2];
  let s34 = s[3] + s[4];
  let d34 = s[3] - s[4];
  return array<vec4f, 4>(s[0] + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + s[5]);
}

// The output rows of the tile quad inside oh: their count (up to 4).
fn output_rows(t: OutputTile, oh: u32) -> u32 {
  return min(4u, oh - min(t.oy0, oh));
}

// Invocation i's 4 output tiles: y's plane offset, first row and column, the bias, and rows[rr][c][k] = tile k's
// output at row oy0 + rr, column c (before the bias); valid: i is one of the grid's invocations (cout x tile quads).
struct OutputTile { valid: bool, yp: u32, oy0: u32, ox0: u32, base: f32, rows: array<array<vec4f, 4>, 4> }

// The column transforms of the row-transformed products q[a][c] = (m[a][.] A)[c]: rows[rr][c] = (A^T m A)[rr][c].
fn tile_transform(q: array<array<vec4f, 4>, 6>) -> array<array<vec4f, 4>, 4> {
  var rows: array<array<vec4f, 4>, 4>;
  for (var c = 0u; c < 4u; c++) {
    let col = at(array<vec4f, 6>(q[0][c], q[1][c], q[2][c], q[3][c], q[4][c], q[5][c]));
    for (var rr = 0u; rr < 4u; rr++) { rows[rr][c] = col[rr]; }
  }
  return rows;
}
