// winograd_weight — the filter transform of Winograd F(4x4, 3x3) for a block of cin x cout channels from (ci0, co0):
// u[e][ci][co] = (G g G^T)[a][b], e = a*6 + b, of g = g(co0 + co, ci0 + ci), for the correlation
// y[co] = sum over ci of g(co, ci) * x[ci] of a 3x3 convolution (stride 1, dilation 1) with cin_t x cout_t channels:
//   g(co, ci, ky, kx) = w[co, ci, ky, kx]                     (conv2d weight [cout_t, cin_t, 3, 3]), or when p.transposed
//   g(co, ci, ky, kx) = w[ci, co, 2 - ky, 2 - kx]             (conv_transpose2d weight [cin_t, cout_t, 3, 3], flipped).
// G (6x3) = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1] (Lavin & Gray 2016).
// Layout: u[(e*cin + ci)*cp + co], cp = the output channels padded to a multiple of 8 (the pad columns are zeros), so
// winograd_gemm reads 8 output channels of one input channel as two vec4.
// One invocation per (ci, co < cp): 9 loads, 36 stores. Grid: 1-D over cin*cp, folded past 65,535 workgroups.
// Bindings: 0 w (read) · 1 u (write) · 2 p (uniform Params).

override WG: u32 = 64u;

struct Params { cin: u32, cout: u32, cp: u32, transposed: u32, ci0: u32, co0: u32, cin_t: u32, cout_t: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn g(co: u32, ci: u32, ky: u32, kx: u32) -> f32 {
  if (p.transposed != 0u) {
    return w[(ci * p.cout_t + co) * 9u + (2u - ky) * 3u + (2u - kx)];
  }
  return w[(co * p.cin_t + ci) * 9u + ky * 3u + kx];
}

// G times the 3-vector (r0, r1, r2): the 6 rows of the transform.
fn gt(r0: vec3f, r1: vec3f, r2: vec3f) -> array<vec3f, 6> {
  let s = r0 + r2;
  return array<vec3f, 6>(
    r0 * 0.25,
    (s + r1) * (-1.0 / 6.0),
    (s - r1) * (-1.0 / 6.0),
    r0 * (1.0 / 24.0) + r1 * (1.0 / 12.0) + r2 * (1.0 / 6.0),
    r0 * (1.0 / 24.0) - r1 * (1.0 / 12.0) + r2 * (1.0 / 6.0),
    r2,
  );
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.cin * p.cp) { return; }
  let co = i % p.cp;
  let ci = i / p.cp;
  var rows = array<vec3f, 3>(vec3f(0.0), vec3f(0.0), vec3f(0.0));
  if (co < p.cout) {
    for (var ky = 0u; ky < 3u; ky++) {
      rows[ky] = vec3f(g(p.co0 + co, p.ci0 + ci, ky, 0u), g(p.co0 + co, p.ci0 + ci, ky, 1u), g(p.co0 + co, p.ci0 + ci, ky, 2u));
    }
  }
  // Columns first (t = G g: 6 rows of 3), then each row times G^T.
  let t = gt(rows[0], rows[1], rows[2]);
  let plane = p.cin * p.cp;
  let base = ci * p.cp + co;
  for (var a = 0u; a < 6u; a++) {
    let r = t[a];
    let v = gt(vec3f(r.x, 0.0, 0.0), vec3f(r.y, 0.0, 0.0), vec3f(r.z, 0.0, 0.0));
    for (var b = 0u; b < 6u; b++) {
      u[(a * 6u + b) * plane + base] = v[b].x;
    }
  }
}
