// binary — y[i] = f(a[ia], b[ib]) with NumPy broadcasting over up to 6 dims (src/kernels/elementwise.ts).
// Output coords (c0..c5) come from the flat index and the output dims d1..d5 (d0 is implied); each input's
// offset is sum(ck * stride_k), a stride being 0 along a broadcast dim. BROADCAST = false: a, b, y share the index.
// The runtime fills the `// @slot f` body. One invocation per output element; 1-D grid folded past 65,535.
// Bindings: 0 a · 1 b (read) · 2 y (write) · 3 p (uniform Params).

override WG: u32 = 256u;
override BROADCAST: bool = true;

// #include "lib/binary_common.wgsl"
// #include "lib/coords6.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// @slot f
fn f(a: f32, b: f32) -> f32 { return a + b; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  if (!BROADCAST) {
    y[i] = f(a[i], b[i]);
    return;
  }
  let c = coords6(i, p.d1, p.d2, p.d3, p.d4, p.d5);
  let ia = c[0] * p.sa0 + c[1] * p.sa1 + c[2] * p.sa2 + c[3] * p.sa3 + c[4] * p.sa4 + c[5] * p.sa5;
  let ib = c[0] * p.sb0 + c[1] * p.sb1 + c[2] * p.sb2 + c[3] * p.sb3 + c[4] * p.sb4 + c[5] * p.sb5;
  y[i] = f(a[ia], b[ib]);
}
