// winograd_output_vec4 — winograd_output (same contract, params and layouts: see shaders/winograd_output.wgsl) with y
// written as vec4: one store per tile row instead of 4 (on lavapipe every storage access is a per-lane loop; a vec4
// costs about what a scalar does). Valid when ow, y_off and y_ns are multiples of 4 (every output row starts on a
// vec4, and a tile's 4 columns are one vec4, wholly inside or outside ow).
// Bindings: 0 m (read, as vec4) · 1 bias (read; any f32 buffer when !HAS_BIAS) · 2 y (write, as vec4) · 3 p (uniform
// Params); all but y and the stores in lib/winograd_output_tile.wgsl.

@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;

// #include "lib/winograd_output_tile.wgsl"

// #include "lib/winograd_store_vec4.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = output_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { store_rows_vec4(&y, t, p.oh, p.ow); }
}
