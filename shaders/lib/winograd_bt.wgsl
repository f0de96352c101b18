// lib/winograd_bt.wgsl — the data transform B^T d B of Winograd F(4x4, 3x3) on 4 tiles at once (each value a vec4
// over 4 neighbouring tiles): what winograd_input's kernels and winograd_fused share.

// B^T times the 6-vector d (each entry a vec4: 4 tiles).
fn bt(d: array<vec4f, 6>) -> array<vec4f, 6> {
  return array<vec4f, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    -4.0 * (d[1] + d[2]) + d[3] + d[4],
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

// B^T d B of the 4 tiles of 6 patch rows of 18 columns (rows[i][j] = the patch value at row i, column j; tile k's
// patch is columns 4k .. 4k + 5): cols[b][a] = (B^T d B)[a][b] as a vec4 over the 4 tiles.
fn patch_transform(rows: array<array<f32, 18>, 6>) -> array<array<vec4f, 6>, 6> {
  // Row transforms: rt[i][b] = (d[i][.] B)[b] for the 4 tiles at once.
  var rt: array<array<vec4f, 6>, 6>;
  for (var ii = 0u; ii < 6u; ii++) {
    let c = rows[ii];
    var d: array<vec4f, 6>;
    for (var j = 0u; j < 6u; j++) {
      d[j] = vec4f(c[j], c[4u + j], c[8u + j], c[12u + j]);
    }
    rt[ii] = bt(d);
  }
  // Column transforms.
  var cols: array<array<vec4f, 6>, 6>;
  for (var b = 0u; b < 6u; b++) {
    cols[b] = bt(array<vec4f, 6>(rt[0][b], rt[1][b], rt[2][b], rt[3][b], rt[4][b], rt[5][b]));
  }
  return cols;
}
