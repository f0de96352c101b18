// winograd_output_vec2 — winograd_output (same contract, params and layouts: see shaders/winograd_output.wgsl) with y
// written as vec2: two stores per tile row instead of 4 (on lavapipe every storage access is a per-lane loop; a vec2
// costs about what a scalar does). For rows an even number of elements wide that winograd_output_vec4 cannot take (the
// 'valid' U-Net's 570, 282, 138, ... columns). Valid when ow, y_off and y_ns are even (every output row starts on a
// vec2, and each column pair of a tile is one vec2, wholly inside or outside ow).
// Bindings: 0 m (read, as vec4) · 1 bias (read; any f32 buffer when !HAS_BIAS) · 2 y (write, as vec2) · 3 p (uniform
// Params); all but y and the stores in lib/winograd_output_tile.wgsl.

@group(0) @binding(2) var<storage, read_write> y: array<vec2f>;

// #include "lib/winograd_output_tile.wgsl"

// The tile quad's rows inside oh x ow, two vec2 per tile row.
fn store_rows(t: OutputTile) {
  for (var rr = 0u; rr < output_rows(t, p.oh); rr++) {
    let o = t.yp + (t.oy0 + rr) * p.ow;
    for (var k = 0u; k < 4u; k++) {
      let ox = t.ox0 + k * 4u;
      if (ox < p.ow) { y[(o + ox) / 2u] = vec2f(t.rows[rr][0][k], t.rows[rr][1][k]) + t.base; }
      if (ox + 2u < p.ow) { y[(o + ox) / 2u + 1u] = vec2f(t.rows[rr][2][k], t.rows[rr][3][k]) + t.base; }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = output_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { store_rows(t); }
}
