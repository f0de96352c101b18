// lib/winograd_output_tile.wgsl — what winograd_output and winograd_output_vec4 share: the overrides, Params, the m,
// bias and p bindings, and an invocation's output transform (the contract of shaders/winograd_output.wgsl); the
// including shader declares binding 2 y and stores the rows.

override WG: u32 = 64u;
override HAS_BIAS: bool = false;

struct Params { cout: u32, cp: u32, oh: u32, ow: u32, y_off: u32, y_ns: u32, b_co0: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(0) var<storage, read> m: array<vec4f>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// #include "lib/winograd_at.wgsl"

fn output_tile(i: u32) -> OutputTile {
  let t4 = p.nn * p.bt * p.tg;
  if (i >= p.cout * t4) { return OutputTile(false, 0u, 0u, 0u, 0.0, array<array<vec4f, 4>, 4>()); }
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
  let rows = tile_transform(q);
  var base = 0.0;
  if (HAS_BIAS) { base = bias[p.b_co0 + co]; }
  return OutputTile(true, p.y_off + nI * p.y_ns + co * p.oh * p.ow, (p.ty0 + tyl) * 4u, g * 16u, base, rows);
}
