// winograd_grad — the gradient transform of the Winograd F(4x4, 3x3) weight gradient: gt[e][a][t] = (A g A^T)[e1][e2],
// e = e1*6 + e2, where g is the 4x4 tile t of the output gradient, g[i][j] = gr[n, a, ty*4 + i, tx*4 + j], zero outside
// [0, gh) x [0, gw) (tiles past the output contribute nothing). A = (A^T)^T (6x4) of F(4x4, 3x3):
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
// With the data transform v of winograd_input on the same tiles, dW = G^T [sum over tiles of gt ⊙ v] G (the gradient of
// sum(g * F(4x4, 3x3)) with respect to the filter; winograd_wgrad_gemm sums, winograd_wgrad_output applies G^T . G).
// Tiles and layout as in winograd_input: t = (nI*bt + ty - ty0)*tg*4 + tx; gt as vec4 over 4 tiles,
// gt4[(e*a + ai)*t4 + t/4]; gr at g_off + nI*g_ns + ai*gh*gw + oy*gw + ox.
// One invocation per (ai, 4 tiles of a tile row): 4 rows of 16 columns loaded, the transform on vec4, 36 vec4 stores.
// Grid: 1-D over a*t4, folded past 65,535 workgroups.
// Bindings: 0 gr (read) · 1 gt (write, as vec4) · 2 p (uniform Params).

override WG: u32 = 64u;

struct Params { a: u32, gh: u32, gw: u32, g_off: u32, g_ns: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(0) var<storage, read> gr: array<f32>;
@group(0) @binding(1) var<storage, read_write> gt: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

// (A^T)^T times the 4-vector v (each entry a vec4: 4 tiles).
fn a6(v: array<vec4f, 4>) -> array<vec4f, 6> {
  let s02 = v[0] + v[2];
  let s13 = v[1] + v[3];
  let q = v[0] + 4.0 * v[2];
  let r = 2.0 * v[1] + 8.0 * v[3];
  return array<vec4f, 6>(v[0], s02 + s13, s02 - s13, q + r, q - r, v[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let t4 = p.nn * p.bt * p.tg;
  if (i >= p.a * t4) { return; }
  let tq = i % t4;
  let ai = i / t4;
  let g = tq % p.tg;
  let r = tq / p.tg;
  let tyl = r % p.bt;
  let nI = r / p.bt;
  let oy0 = (p.ty0 + tyl) * 4u;
  let ox0 = g * 16u;
  let plane = p.g_off + nI * p.g_ns + ai * p.gh * p.gw;

  // Row transforms: rt[i][e2] = (g[i][.] A^T)[e2].
  var rt: array<array<vec4f, 6>, 4>;
  for (var ii = 0u; ii < 4u; ii++) {
    let oy = oy0 + ii;
    let rowok = oy < p.gh;
    let row = plane + min(oy, p.gh - 1u) * p.gw;
    var c: array<f32, 16>;
    for (var j = 0u; j < 16u; j++) {
      let ox = ox0 + j;
      c[j] = select(0.0, gr[row + min(ox, p.gw - 1u)], rowok && ox < p.gw);
    }
    var d: array<vec4f, 4>;
    for (var j = 0u; j < 4u; j++) {
      d[j] = vec4f(c[j], c[4u + j], c[8u + j], c[12u + j]);
    }
    rt[ii] = a6(d);
  }
  for (var e2 = 0u; e2 < 6u; e2++) {
    let col = a6(array<vec4f, 4>(rt[0][e2], rt[1][e2], rt[2][e2], rt[3][e2]));
    for (var e1 = 0u; e1 < 6u; e1++) {
      gt[((e1 * 6u + e2) * p.a + ai) * t4 + tq] = col[e1];
    }
  }
}
