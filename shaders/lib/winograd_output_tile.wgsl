// lib/winograd_output_tile.wgsl — what winograd_output and winograd_output_vec4 share: the overrides, Params, the m,
// bias and p bindings, and an invocation's output transform (the contract of shaders/winograd_output.wgsl); the
// including shader declares binding 2 y and stores the rows.

override WG: u32 = 64u;
override HAS_BIAS: bool = false;

struct Params { cout: u32, cp: u32, oh: u32, ow: u32, y_off: u32, y_ns: u32, b_co0: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(0) var<storage, read> m: array<vec4f>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// A^T times the 6-vector s (each entry a vec4: 4 tiles).
fn at(s: array<vec4f, 6>) -> array<vec4f, 4> {
  let s12 = s[1] + s[2];
  let d12 = s[1] - s[2];
  let s34 = s[3] + s[4];
  let d34 = s[3] - s[4];
  return array<vec4f, 4>(s[0] + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + s[5]);
}

// The output rows of the tile quad inside oh: their count (up to 4).
fn output_rows(t: OutputTile) -> u32 {
  return min(4u, p.oh - min(t.oy0, p.oh));
}

// Invocation i's 4 output tiles: y's plane offset, first row and column, the bias, and rows[rr][c][k] = tile k's
// output at row oy0 + rr, column c (before the bias); valid: i is one of the grid's invocations (cout x tile quads).
struct OutputTile { valid: bool, yp: u32, oy0: u32, ox0: u32, base: f32, rows: array<array<vec4f, 4>, 4> }

fn output_tile(i: u32) -> OutputTile {
  let t4 = p.nn * p.bt * p.tg;
  var rows: array<array<vec4f, 4>, 4>;
  if (i >= p.cout * t4) { return OutputTile(false, 0u, 0u, 0u, 0.0, rows); }
  let tq = i % t4;
  let co = i / t4;
  let g = tq % p.tg;
  let r = tq / p.tg;
  let tyl = r % p.bt;
  let nI = r / p.bt;
  let plane = p.cp * t4;

  // Row transforms: q[a][c] = (m[a][.] A)[c].
  var q: array<array<vec4f, 4>, 6>;
  for (var a = 0u; a < 6u; a++) {
    var s: array<vec4f, 6>;
    for (var b = 0u; b < 6u; b++) {
      s[b] = m[(a * 6u + b) * plane + co * t4 + tq];
    }
    q[a] = at(s);
  }
  // Column transforms: col[c][rr].
  for (var c = 0u; c < 4u; c++) {
    let col = at(array<vec4f, 6>(q[0][c], q[1][c], q[2][c], q[3][c], q[4][c], q[5][c]));
    for (var rr = 0u; rr < 4u; rr++) { rows[rr][c] = col[rr]; }
  }
  var base = 0.0;
  if (HAS_BIAS) { base = bias[p.b_co0 + co]; }
  return OutputTile(true, p.y_off + nI * p.y_ns + co * p.oh * p.ow, (p.ty0 + tyl) * 4u, g * 16u, base, rows);
}
