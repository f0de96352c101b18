// unary — y[i] = f(x[i], a): one elementwise op of the table in src/kernels/elementwise.ts.
// The runtime fills the `// @slot f` body with the op's WGSL expression (the identity as written here).
// One invocation per element; grid = ceil(n / WG) workgroups, folded into (x, y) by the runtime past 65,535.
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params). `a` is the op's scalar (leaky_relu's slope).

override WG: u32 = 256u;

struct Params { n: u32, a: f32 }

// #include "lib/nan.wgsl"
// #include "lib/activation.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// @slot f
fn f(x: f32, a: f32) -> f32 { return x; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  y[i] = f(x[i], p.a);
}
