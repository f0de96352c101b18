// winograd_output — the output transform of Winograd F(4x4, 3x3): y[n, co, ty*4 + r, tx*4 + c] = (A^T m A)[r][c]
// (+ bias[b_co0 + co] when HAS_BIAS) for each output tile t of the band, m[a][b] = m4[e = a*6 + b][co][t] (the
// products summed over input channels by winograd_gemm); outputs past oh x ow are not stored.
// A^T (4x6) = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
// Tiles as in winograd_input (t = (nI*bt + ty - ty0)*tg*4 + tx); m as vec4 over 4 tiles, m4[(e*cp + co)*t4 + t/4];
// y at y_off + nI*y_ns + co*oh*ow + oy*ow + ox.
// One invocation per (co < cout, 4 tiles of a tile row): 36 vec4 loads, the transform on vec4, up to 64 stores.
// Grid: 1-D over cout*t4, folded past 65,535 workgroups.
// Bindings: 0 m (read, as vec4) · 1 bias (read; any f32 buffer when !HAS_BIAS) · 2 y (write) · 3 p (uniform Params).

override WG: u32 = 64u;
override HAS_BIAS: bool = false;

struct Params { cout: u32, cp: u32, oh: u32, ow: u32, y_off: u32, y_ns: u32, b_co0: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(0) var<storage, read> m: array<vec4f>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// A^T times the 6-vector s (each entry a vec4: 4 tiles).
fn at(s: array<vec4f, 6>) -> array<vec4f, 4> {
  let s12 = s[1] + s[2];
  let d12 = s[1] - s[2];
  let s34 = s[3] + s[4];
  let d34 = s[3] - s[4];
  return array<vec4f, 4>(s[0] + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + s[5]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let t4 = p.nn * p.bt * p.tg;
  if (i >= p.cout * t4) { return; }
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
  var base = 0.0;
  if (HAS_BIAS) { base = bias[p.b_co0 + co]; }
  let oy0 = (p.ty0 + tyl) * 4u;
  let ox0 = g * 16u;
  let yp = p.y_off + nI * p.y_ns + co * p.oh * p.ow;
  for (var c = 0u; c < 4u; c++) {
    let col = at(array<vec4f, 6>(q[0][c], q[1][c], q[2][c], q[3][c], q[4][c], q[5][c]));
    for (var rr = 0u; rr < 4u; rr++) {
      let oy = oy0 + rr;
      if (oy >= p.oh) { break; }
      for (var k = 0u; k < 4u; k++) {
        let ox = ox0 + k * 4u + c;
        if (ox < p.ow) {
          y[yp + oy * p.ow + ox] = col[rr][k] + base;
        }
      }
    }
  }
}
