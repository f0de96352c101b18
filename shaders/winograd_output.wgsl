// winograd_output — the output transform of Winograd F(4x4, 3x3): y[n, co, ty*4 + r, tx*4 + c] = (A^T m A)[r][c]
// (+ bias[b_co0 + co] when HAS_BIAS) for each output tile t of the band, m[a][b] = m4[e = a*6 + b][co][t] (the
// products summed over input channels by winograd_gemm); outputs past oh x ow are not stored.
// A^T (4x6) = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
// Tiles as in winograd_input (t = (nI*bt + ty - ty0)*tg*4 + tx); m as vec4 over 4 tiles, m4[(e*cp + co)*t4 + t/4];
// y at y_off + nI*y_ns + co*oh*ow + oy*ow + ox.
// One invocation per (co < cout, 4 tiles of a tile row): 36 vec4 loads, the transform on vec4, up to 64 stores.
// Grid: 1-D over cout*t4, folded past 65,535 workgroups.
// Bindings: 0 m (read, as vec4) · 1 bias (read; any f32 buffer when !HAS_BIAS) · 2 y (write) · 3 p (uniform Params);
// all but y and the stores in lib/winograd_output_tile.wgsl (shared with winograd_output_vec4).

@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// #include "lib/winograd_output_tile.wgsl"

// The tile quad's rows inside oh x ow, element by element.
fn store_rows(t: OutputTile) {
  for (var rr = 0u; rr < output_rows(t, p.oh); rr++) {
    let o = t.yp + (t.oy0 + rr) * p.ow;
    for (var k = 0u; k < 4u; k++) {
      for (var c = 0u; c < 4u; c++) {
        let ox = t.ox0 + k * 4u + c;
        if (ox < p.ow) { y[o + ox] = t.rows[rr][c][k] + t.base; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = output_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { store_rows(t); }
}
