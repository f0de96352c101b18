// binary_vec4 — binary's flat case (BROADCAST = false: a, b and y share the index; same params, bindings and table
// expression f, see shaders/binary.wgsl) with one invocation per 4 consecutive elements, every load and store a vec4
// (on lavapipe each storage access is a per-lane loop, so a vec4 costs about what one scalar does); f applies to each
// component. Needs n a multiple of 4 (the op takes it for such launches; the windows of a split launch start at
// aligned offsets, so each stays a multiple of 4). Grid: ceil(n / 4 / WG) workgroups, 1-D folded.
// Bindings: 0 a · 1 b (read) · 2 y (write) · 3 p (uniform Params), read as vec4.

override WG: u32 = 256u;

// #include "lib/binary_common.wgsl"

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

// @slot f
fn f(a: f32, b: f32) -> f32 { return a + b; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n / 4u) { return; }
  let u = a[i];
  let v = b[i];
  y[i] = vec4f(f(u.x, v.x), f(u.y, v.y), f(u.z, v.z), f(u.w, v.w));
}
