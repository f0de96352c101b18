// binary — y[i] = f(a[ia], b[ib]) with NumPy broadcasting over up to 6 dims (src/kernels/elementwise.ts).
// Output coords (c0..c5) come from the flat index and the output dims d1..d5 (d0 is implied); each input's
// offset is sum(ck * stride_k), a stride being 0 along a broadcast dim. BROADCAST = false: a, b, y share the index.
// The runtime fills the `// @slot f` body. One invocation per output element; 1-D grid folded past 65,535.
// Bindings: 0 a · 1 b (read) · 2 y (write) · 3 p (uniform Params).

override WG: u32 = 256u;
override BROADCAST: bool = true;

struct Params {
  n: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
  sa0: u32, sa1: u32, sa2: u32, sa3: u32, sa4: u32, sa5: u32,
  sb0: u32, sb1: u32, sb2: u32, sb3: u32, sb4: u32, sb5: u32,
}

// #include "lib/nan.wgsl"
// #include "lib/coords6.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// PyTorch's pow: negative bases allowed for integral exponents, NaN otherwise; pow(x, 0) = 1.
// inf and NaN come from runtime bit patterns (WGSL rejects them as constant expressions).
fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a > 0.0) { return pow(a, b); }
  if (a == 0.0) { return bitcast<f32>(select(0u, 0x7f800000u, b < 0.0)); }
  if (b != floor(b)) { return bitcast<f32>(select(0x7fc00000u, 0u, a != a)); }
  let m = pow(-a, b);
  return select(m, -m, abs(b) % 2.0 == 1.0);
}

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
