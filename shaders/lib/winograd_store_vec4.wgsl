// lib/winograd_store_vec4.wgsl — an output tile quad's rows stored as vec4 (what winograd_output_vec4 and
// winograd_fused share) in y (oh x ow planes): valid when ow and the plane offsets are multiples of 4.

// #include "lib/winograd_at.wgsl"

// The tile quad's rows inside oh x ow, one vec4 per tile row.
fn store_rows_vec4(y: ptr<storage, array<vec4f>, read_write>, t: OutputTile, oh: u32, ow: u32) {
  for (var rr = 0u; rr < output_rows(t, oh); rr++) {
    let o = t.yp + (t.oy0 + rr) * ow;
    for (var k = 0u; k < 4u; k++) {
      let ox = t.ox0 + k * 4u;
      if (ox < ow) { (*y)[(o + ox) / 4u] = vec4f(t.rows[rr][0][k], t.rows[rr][1][k], t.rows[rr][2][k], t.rows[rr][3][k]) + t.base; }
    }
  }
}
