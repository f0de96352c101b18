// winograd_input_vec4 — winograd_input (same contract, params and layouts: see shaders/winograd_input.wgsl) with x
// read as vec4: a patch row's 18 columns from 6 aligned vec4 loads instead of 18 scalar ones (on lavapipe every
// storage load is a per-lane loop; a vec4 costs about what a scalar does). Valid when w, x_off and x_ns are multiples
// of 4 (every row starts on a vec4; a vec4 is wholly inside or outside a row) and SHIFT = (-pw) mod 4, the offset of
// a tile quad's first column ix0 = g*16 - pw in its vec4.
// Bindings: 0 x (read, as vec4) · 1 v (write, as vec4) · 2 p (uniform Params); all but x and the loads in
// lib/winograd_input_tile.wgsl.

override SHIFT: u32 = 3u;

@group(0) @binding(0) var<storage, read> x: array<vec4f>;

// #include "lib/winograd_input_tile.wgsl"

// The 6 patch rows of 18 columns: per row the 6 vec4s from column ix0 - SHIFT (a multiple of 4), 24 columns of which
// the 18 from SHIFT are the row's (zero outside x).
fn load_rows(t: InputTile) -> array<array<f32, 18>, 6> {
  let a0 = t.ix0 - i32(SHIFT);
  let w4 = i32(p.w / 4u);
  var rows: array<array<f32, 18>, 6>;
  for (var ii = 0u; ii < 6u; ii++) {
    let r = patch_row(t, ii);
    var f: array<vec4f, 6>;
    for (var q = 0u; q < 6u; q++) {
      let qx = a0 / 4 + i32(q);
      f[q] = select(vec4f(0.0), x[r.x / 4u + u32(clamp(qx, 0, w4 - 1))], r.y == 1u && qx >= 0 && qx < w4);
    }
    for (var j = 0u; j < 18u; j++) {
      rows[ii][j] = f[(SHIFT + j) / 4u][(SHIFT + j) % 4u];
    }
  }
  return rows;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = input_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { transform_store(load_rows(t), t); }
}
