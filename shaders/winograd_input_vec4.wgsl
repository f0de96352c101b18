// winograd_input_vec4 — winograd_input (same contract, params and layouts: see shaders/winograd_input.wgsl) with x
// read as vec4: a patch row's 18 columns from 6 aligned vec4 loads instead of 18 scalar ones (on lavapipe every
// storage load is a per-lane loop; a vec4 costs about what a scalar does). Valid when w, x_off and x_ns are multiples
// of 4 (every row starts on a vec4; a vec4 is wholly inside or outside a row) and SHIFT = (-pw) mod 4, the offset of
// a tile quad's first column ix0 = g*16 - pw in its vec4.
// Bindings: 0 x (read, as vec4) · 1 v (write, as vec4) · 2 p (uniform Params); all but x in
// lib/winograd_input_tile.wgsl, the loads in lib/winograd_rows_vec4.wgsl.

@group(0) @binding(0) var<storage, read> x: array<vec4f>;

// #include "lib/winograd_input_tile.wgsl"

// #include "lib/winograd_rows_vec4.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = input_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { transform_store(load_rows_vec4(&x, t.plane, t.iy0, t.ix0, p.h, p.w), t); }
}
