// winograd_grad_vec4 — winograd_grad (same contract, params and layouts: see shaders/winograd_grad.wgsl) with gr read
// as vec4: a tile quad's 16 columns of a row from 4 aligned vec4 loads instead of 16 scalar ones (on lavapipe every
// storage load is a per-lane loop; a vec4 costs about what a scalar does). Valid when gw, g_off and g_ns are multiples
// of 4 (every row starts on a vec4, and a tile's 4 columns are one vec4, wholly inside or outside gw).
// Bindings: 0 gr (read, as vec4) · 1 gt (write, as vec4) · 2 p (uniform Params); all but gr and the loads in
// lib/winograd_grad_tile.wgsl.

@group(0) @binding(0) var<storage, read> gr: array<vec4f>;

// #include "lib/winograd_grad_tile.wgsl"

// The 4 tile rows of 16 columns, 4 vec4s each (zero outside gr).
fn load_rows(t: GradTile) -> array<array<f32, 16>, 4> {
  let w4 = p.gw / 4u;
  var rows: array<array<f32, 16>, 4>;
  for (var ii = 0u; ii < 4u; ii++) {
    let r = grad_row(t, ii);
    for (var k = 0u; k < 4u; k++) {
      let q = t.ox0 / 4u + k;
      let f = select(vec4f(0.0), gr[r.x / 4u + min(q, w4 - 1u)], r.y == 1u && q < w4);
      rows[ii][4u * k] = f.x;
      rows[ii][4u * k + 1u] = f.y;
      rows[ii][4u * k + 2u] = f.z;
      rows[ii][4u * k + 3u] = f.w;
    }
  }
  return rows;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = grad_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { transform_store(load_rows(t), t); }
}
