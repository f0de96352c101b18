// winograd_grad_vec4 — winograd_grad (same contract, params and layouts: see shaders/winograd_grad.wgsl) with gr read
// as vec4: a tile quad's 16 columns of a row from 4 aligned vec4 loads instead of 16 scalar ones (on lavapipe every
// storage load is a per-lane loop; a vec4 costs about what a scalar does). Valid when gw, g_off and g_ns are multiples
// of 4 (every row starts on a vec4, and a tile's 4 columns are one vec4, wholly inside or outside gw).
// Bindings: 0 gr (read, as vec4) · 1 gt (write, as vec4) · 2 p (uniform Params); all but gr and the loads in
// lib/winograd_grad_tile.wgsl.

@group(0) @binding(0) var<storage, read> gr: array<vec4f>;

// #include "lib/winograd_grad_tile.wgsl"

fn load_row(row: u32, rowok: bool, ox0: u32) -> array<f32, 16> {
  var c: array<f32, 16>;
  let w4 = p.gw / 4u;
  for (var k = 0u; k < 4u; k++) {
    let q = ox0 / 4u + k;
    let f = select(vec4f(0.0), gr[row / 4u + min(q, w4 - 1u)], rowok && q < w4);
    c[4u * k] = f.x;
    c[4u * k + 1u] = f.y;
    c[4u * k + 2u] = f.z;
    c[4u * k + 3u] = f.w;
  }
  return c;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.a * p.nn * p.bt * p.tg) { return; }
  let t = grad_tile(i);
  var rows: array<array<f32, 16>, 4>;
  for (var ii = 0u; ii < 4u; ii++) {
    let oy = t.oy0 + ii;
    rows[ii] = load_row(t.plane + min(oy, p.gh - 1u) * p.gw, oy < p.gh, t.ox0);
  }
  transform_store(rows, t);
}
