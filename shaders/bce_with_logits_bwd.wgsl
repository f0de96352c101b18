// bce_with_logits_bwd — gradient of bce_with_logits_fwd with respect to the logits x:
//   gx = gl * w * ((1 - t) - (1 + (pw - 1) * t) * sigmoid(-x))
// gl is the upstream gradient of the loss element: G_SCALAR = true: g[0] * scale (reductions 'mean' (scale 1/numel)
// and 'sum'); false: g[e - xbase] (reduction 'none', g shaped like x). w and pw as in bce_with_logits_fwd.
// One invocation per element of this launch's global range [e0, e0 + n); x, t, gx (and an elementwise g) are bound
// as windows starting at global element xbase. Grid: ceil(n / WG) workgroups, 1-D folded.
// Bindings: 0 x · 1 t · 2 w · 3 pw · 4 g (read) · 5 gx (write) · 6 p (uniform).

override WG: u32 = 64u;
override G_SCALAR: bool = true;
override HAS_W: bool = false;
override HAS_PW: bool = false;

struct Params { n: u32, e0: u32, xbase: u32, wdiv: u32, wmod: u32, wbase: u32, pdiv: u32, pmod: u32, pbase: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> t: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> pw: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> gx: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

// sigmoid(z) without exp of a large positive number.
fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) { return 1.0 / (1.0 + exp(-z)); }
  let ez = exp(z);
  return ez / (1.0 + ez);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let local = (wid.y * nwg.x + wid.x) * WG + lid;
  if (local >= p.n) { return; }
  let e = p.e0 + local;
  let xv = x[e - p.xbase];
  let tv = t[e - p.xbase];
  var lw = 1.0;
  if (HAS_PW) { lw = 1.0 + (pw[(e / p.pdiv) % p.pmod - p.pbase] - 1.0) * tv; }
  var d = (1.0 - tv) - lw * sigmoid(-xv);
  if (HAS_W) { d *= w[(e / p.wdiv) % p.wmod - p.wbase]; }
  var gl: f32;
  if (G_SCALAR) { gl = g[0] * p.scale; } else { gl = g[e - p.xbase]; }
  gx[e - p.xbase] = gl * d;
}
