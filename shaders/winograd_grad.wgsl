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
// Bindings: 0 gr (read) · 1 gt (write, as vec4) · 2 p (uniform Params); all but gr and the loads in
// lib/winograd_grad_tile.wgsl (shared with winograd_grad_vec4).

@group(0) @binding(0) var<storage, read> gr: array<f32>;

// #include "lib/winograd_grad_tile.wgsl"

// The 4 tile rows of 16 columns, element by element (zero outside gr).
fn load_rows(t: GradTile) -> array<array<f32, 16>, 4> {
  var rows: array<array<f32, 16>, 4>;
  for (var ii = 0u; ii < 4u; ii++) {
    let r = grad_row(t, ii);
    for (var j = 0u; j < 16u; j++) {
      let ox = t.ox0 + j;
      rows[ii][j] = select(0.0, gr[r.x + min(ox, p.gw - 1u)], r.y == 1u && ox < p.gw);
    }
  }
  return rows;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = grad_tile((wid.y * nwg.x + wid.x) * WG + lid);
  if (t.valid) { transform_store(load_rows(t), t); }
}
