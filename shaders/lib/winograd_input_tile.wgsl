// lib/winograd_input_tile.wgsl — what winograd_input and winograd_input_vec4 share: the overrides, Params, the v and p
// bindings, an invocation's tile geometry and the transform with its stores (the contract of
// shaders/winograd_input.wgsl); the including shader declares binding 0 x, loads the patch rows and calls them.

override WG: u32 = 64u;

struct Params { cin: u32, h: u32, w: u32, ph: i32, pw: i32, x_off: u32, x_ns: u32, ty0: u32, bt: u32, tg: u32, nn: u32 }

@group(0) @binding(1) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

// #include "lib/winograd_bt.wgsl"

// Invocation i's input channel and tile quad: its x plane, the patch's first row and column (may be outside x);
// valid: i is one of the grid's invocations (cin x tile quads).
struct InputTile { valid: bool, ci: u32, tq: u32, t4: u32, plane: u32, iy0: i32, ix0: i32 }

fn input_tile(i: u32) -> InputTile {
  let t4 = p.nn * p.bt * p.tg;
  if (i >= p.cin * t4) { return InputTile(false, 0u, 0u, t4, 0u, 0, 0); }
  let tq = i % t4;
  let ci = i / t4;
  let g = tq % p.tg;
  let r = tq / p.tg;
  let tyl = r % p.bt;
  let nI = r / p.bt;
  return InputTile(true, ci, tq, t4, p.x_off + nI * p.x_ns + ci * p.h * p.w, i32((p.ty0 + tyl) * 4u) - p.ph, i32(g * 16u) - p.pw);
}

// The patch row ii of the tile quad: its first element's offset in x (clamped inside x) and whether it is inside.
fn patch_row(t: InputTile, ii: u32) -> vec2u {
  let iy = t.iy0 + i32(ii);
  return vec2u(t.plane + u32(clamp(iy, 0, i32(p.h) - 1)) * p.w, u32(iy >= 0 && iy < i32(p.h)));
}

// The transform of the tile quad's 6 patch rows of 18 columns (rows[i][j] = x at row iy0 + i, column ix0 + j, zero
// outside), stored to v.
fn transform_store(rows: array<array<f32, 18>, 6>, t: InputTile) {
  let cols = patch_transform(rows);
  for (var b = 0u; b < 6u; b++) {
    for (var a = 0u; a < 6u; a++) {
      v[((a * 6u + b) * p.cin + t.ci) * t.t4 + t.tq] = cols[b][a];
    }
  }
}
