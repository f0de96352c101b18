// lib/winograd_grad_tile.wgsl — what winograd_grad and winograd_grad_vec4 share: the overrides, Params, the gt and p
// bindings, an invocation's tile geometry and the transform with its stores (the contract of
// shaders/winograd_grad.wgsl); the including shader declares binding 0 gr, loads the tile rows and calls them.

override WG: u32 = 64u;

struct Params { a: u32, gh: u32, gw: u32, g_off: u32, g_ns: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(1) var<storage, read_write> gt: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

// Invocation i's gradient channel and tile quad: its gr plane, first row and column; valid: i is one of the grid's
// invocations (a x tile quads).
struct GradTile { valid: bool, ai: u32, tq: u32, t4: u32, plane: u32, oy0: u32, ox0: u32 }

fn grad_tile(i: u32) -> GradTile {
  let t4 = p.nn * p.bt * p.tg;
  if (i >= p.a * t4) { return GradTile(false, 0u, 0u, t4, 0u, 0u, 0u); }
  let tq = i % t4;
  let ai = i / t4;
  let g = tq % p.tg;
  let r = tq / p.tg;
  let tyl = r % p.bt;
  let nI = r / p.bt;
  return GradTile(true, ai, tq, t4, p.g_off + nI * p.g_ns + ai * p.gh * p.gw, (p.ty0 + tyl) * 4u, g * 16u);
}

// (A^T)^T times the 4-vector v (each entry a vec4: 4 tiles).
fn a6(v: array<vec4f, 4>) -> array<vec4f, 6> {
  let s02 = v[0] + v[2];
  let s13 = v[1] + v[3];
  let q = v[0] + 4.0 * v[2];
  let r = 2.0 * v[1] + 8.0 * v[3];
  return array<vec4f, 6>(v[0], s02 + s13, s02 - s13, q + r, q - r, v[3]);
}

// Gradient row ii of the tile quad: its first element's offset in gr (clamped inside) and whether it is inside.
fn grad_row(t: GradTile, ii: u32) -> vec2u {
  let oy = t.oy0 + ii;
  return vec2u(t.plane + min(oy, p.gh - 1u) * p.gw, u32(oy < p.gh));
}

// The transform of the tile quad's 4 gradient rows of 16 columns (rows[i][j] = gr at row oy0 + i, column ox0 + j,
// zero outside), stored to gt.
fn transform_store(rows: array<array<f32, 16>, 4>, t: GradTile) {
  // Row transforms: rt[i][e2] = (g[i][.] A^T)[e2].
  var rt: array<array<vec4f, 6>, 4>;
  for (var ii = 0u; ii < 4u; ii++) {
    let c = rows[ii];
    var d: array<vec4f, 4>;
    for (var j = 0u; j < 4u; j++) {
      d[j] = vec4f(c[j], c[4u + j], c[8u + j], c[12u + j]);
    }
    rt[ii] = a6(d);
  }
  for (var e2 = 0u; e2 < 6u; e2++) {
    let col = a6(array<vec4f, 4>(rt[0][e2], rt[1][e2], rt[2][e2], rt[3][e2]));
    for (var e1 = 0u; e1 < 6u; e1++) {
      gt[((e1 * 6u + e2) * p.a + t.ai) * t.t4 + t.tq] = col[e1];
    }
  }
}
