// winograd_input — the data transform of Winograd F(4x4, 3x3): v[e][ci][t] = (B^T d B)[a][b], e = a*6 + b, where d is
// the 6x6 input patch of output tile t: d[i][j] = x[n, ci, ty*4 - ph + i, tx*4 - pw + j], zero outside [0, h) x [0, w)
// (the convolution's padding, any begin pads ph, pw >= 0).
// B^T (6x6) = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
// Tiles of a band: the output tile rows ty0 .. ty0 + bt - 1 of batch items 0 .. nn - 1 of the window, each tile row
// padded to tg*4 tiles (tx past the output compute finite values that are never stored):
//   t = (nI*bt + (ty - ty0))*tg*4 + tx;   x at x_off + nI*x_ns + ci*h*w + iy*w + ix.
// Layout: v as vec4 over 4 consecutive tiles, v4[(e*cin + ci)*t4 + t/4] with t4 = nn*bt*tg.
// One invocation per (ci, 4 tiles of a tile row): 6 rows of 18 columns loaded once (adjacent tiles share 2 columns),
// the transform done on vec4 (one lane per tile), 36 vec4 stores. Grid: 1-D over cin*t4 (tile groups fastest, so
// neighbouring lanes store neighbouring vec4), folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 v (write, as vec4) · 2 p (uniform Params); all but x and the loads in
// lib/winograd_input_tile.wgsl (shared with winograd_input_vec4).

@group(0) @binding(0) var<storage, read> x: array<f32>;

// #include "lib/winograd_input_tile.wgsl"

// The 6 patch rows of 18 columns, element by element (zero outside x).
fn load_rows(t: InputTile) -> array<array<f32, 18>, 6> {
  var rows: array<array<f32, 18>, 6>;
  for (var ii = 0u; ii < 6u; ii++) {
    let r = patch_row(t, ii);
    for (var j = 0u; j < 18u; j++) {
      let ix = t.ix0 + i32(j);
      rows[ii][j] = select(0.0, x[r.x + u32(clamp(ix, 0, i32(p.w) - 1))], r.y == 1u && ix >= 0 && ix < i32(p.w));
    }
  }
  return rows;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = input_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { transform_store(load_rows(t), t); }
}
