// winograd_input_vec2 — winograd_input (same contract, params and layouts: see shaders/winograd_input.wgsl) with x
// read as vec2: a patch row's 18 columns from 9 or 10 aligned vec2 loads instead of 18 scalar ones (on lavapipe every
// storage load is a per-lane loop; a vec2 costs about what a scalar does). For rows an even number of elements wide
// that winograd_input_vec4 cannot take (the 'valid' U-Net's 570, 282, 138, ... columns). Valid when w, x_off and x_ns
// are even (every row starts on a vec2; a vec2 is wholly inside or outside a row) and SHIFT = pw mod 2, the offset of
// a tile quad's first column ix0 = g*16 - pw in its vec2.
// Bindings: 0 x (read, as vec2) · 1 v (write, as vec4) · 2 p (uniform Params); all but x and the loads in
// lib/winograd_input_tile.wgsl.

override SHIFT: u32 = 1u;

@group(0) @binding(0) var<storage, read> x: array<vec2f>;

// #include "lib/winograd_input_tile.wgsl"

// The 6 patch rows of 18 columns: per row the vec2s from column ix0 - SHIFT (even), 18 + SHIFT columns of which the 18
// from SHIFT are the row's (zero outside x).
fn load_rows(t: InputTile) -> array<array<f32, 18>, 6> {
  let a0 = (t.ix0 - i32(SHIFT)) / 2;
  let w2 = i32(p.w / 2u);
  var rows: array<array<f32, 18>, 6>;
  for (var ii = 0u; ii < 6u; ii++) {
    let r = patch_row(t, ii);
    var f: array<vec2f, 10>;
    for (var q = 0u; q < (SHIFT + 19u) / 2u; q++) {
      let qx = a0 + i32(q);
      f[q] = select(vec2f(0.0), x[r.x / 2u + u32(clamp(qx, 0, w2 - 1))], r.y == 1u && qx >= 0 && qx < w2);
    }
    for (var j = 0u; j < 18u; j++) {
      rows[ii][j] = f[(SHIFT + j) / 2u][(SHIFT + j) % 2u];
    }
  }
  return rows;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = input_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { transform_store(load_rows(t), t); }
}
