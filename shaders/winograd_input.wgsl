// winograd_input — the data transform of Winograd F(4x4, 3x3): v[e][ci][t] = (B^T d B)[a][b], e = a*6 + b, where d is
// the 6x6 input patch of output tile t: d[i][j] = x[n, ci, ty*4 - ph + i, tx*4 - pw + j], zero outside [0, h) x [0, w)
// (the convolution's padding, any begin pads ph, pw >= 0).
// B^T (6x6) = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
// Tiles of a band: the output tile rows ty0 .. ty0 + bt - 1 of batch items 0 .. nn - 1 of the window, each tile row
// padded to tg*4 tiles (tx past the output compute finite values that are never stored):
//   t = (nI*bt + (ty - ty0))*tg*4 + tx;   x at x_off + nI*x_ns + ci*h*w + iy*w + ix.
// Layout: v as vec4 over 4 consecutive tiles, v4[(e*cin + ci)*t4 + t/4] with t4 = nn*bt*tg.
// One invocation per (ci, 4 tiles of a tile row): 6 rows of 18 columns loaded once (adjacent tiles share 2 columns),
// the transform done on vec4 (one lane per tile), 36 vec4 stores. Grid: 1-D over cin*t4 (tile groups fastest, so
// neighbouring lanes store neighbouring vec4), folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 v (write, as vec4) · 2 p (uniform Params).

override WG: u32 = 64u;

struct Params { cin: u32, h: u32, w: u32, ph: i32, pw: i32, x_off: u32, x_ns: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

// B^T times the 6-vector d (each entry a vec4: 4 tiles).
fn bt(d: array<vec4f, 6>) -> array<vec4f, 6> {
  return array<vec4f, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    -4.0 * (d[1] + d[2]) + d[3] + d[4],
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

fn load(row: u32, rowok: bool, ix: i32) -> f32 {
  let ok = rowok && ix >= 0 && ix < i32(p.w);
  return select(0.0, x[row + u32(clamp(ix, 0, i32(p.w) - 1))], ok);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let t4 = p.nn * p.bt * p.tg;
  if (i >= p.cin * t4) { return; }
  let tq = i % t4;
  let ci = i / t4;
  let g = tq % p.tg;
  let r = tq / p.tg;
  let tyl = r % p.bt;
  let nI = r / p.bt;
  let iy0 = i32((p.ty0 + tyl) * 4u) - p.ph;
  let ix0 = i32(g * 16u) - p.pw;
  let plane = p.x_off + nI * p.x_ns + ci * p.h * p.w;

  // Row transforms: rt[i][b] = (d[i][.] B)[b] for the 4 tiles at once.
  var rt: array<array<vec4f, 6>, 6>;
  for (var ii = 0u; ii < 6u; ii++) {
    let iy = iy0 + i32(ii);
    let rowok = iy >= 0 && iy < i32(p.h);
    let row = plane + u32(clamp(iy, 0, i32(p.h) - 1)) * p.w;
    var c: array<f32, 18>;
    for (var j = 0u; j < 18u; j++) {
      c[j] = load(row, rowok, ix0 + i32(j));
    }
    var d: array<vec4f, 6>;
    for (var j = 0u; j < 6u; j++) {
      d[j] = vec4f(c[j], c[4u + j], c[8u + j], c[12u + j]);
    }
    rt[ii] = bt(d);
  }
  // Column transforms and stores.
  for (var b = 0u; b < 6u; b++) {
    let col = bt(array<vec4f, 6>(rt[0][b], rt[1][b], rt[2][b], rt[3][b], rt[4][b], rt[5][b]));
    for (var a = 0u; a < 6u; a++) {
      v[((a * 6u + b) * p.cin + ci) * t4 + tq] = col[a];
    }
  }
}
