// unary_bwd — gx[i] = df(x[i], y[i], g[i], a): the gradient of one unary op from src/kernels/elementwise.ts.
// x is the op's input and y its output (an op that saved only one of them binds it twice); g = dL/dy.
// The runtime fills the `// @slot df` body. One invocation per element; 1-D grid folded past 65,535.
// Bindings: 0 x · 1 y · 2 g (read) · 3 gx (write) · 4 p (uniform Params).

override WG: u32 = 256u;

struct Params { n: u32, a: f32 }

// #include "lib/nan.wgsl"
// #include "lib/activation.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// @slot df
fn df(x: f32, y: f32, g: f32, a: f32) -> f32 { return g; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  gx[i] = df(x[i], y[i], g[i], p.a);
}
