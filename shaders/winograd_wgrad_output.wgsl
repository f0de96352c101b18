// winograd_wgrad_output — the filter-side transform of the Winograd F(4x4, 3x3) weight gradient, for a block of a x b
// channels from (a0, b0) of dw [., b_tot, 3, 3]:
//   dw[a0 + ai, b0 + bi, ky, kx] (+)= (G^T m G)[ky][kx],  m[e] = sum over slots s < nslots of pw[((s*36 + e)*a + ai)*b + bi]
// (the slots of winograd_wgrad_gemm, summed in slot order), e = e1*6 + e2; with ACCUMULATE dw is added to.
// G (6x3) = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
// One invocation per (ai, bi): 36*nslots loads, 9 stores. Grid: 1-D over a*b, folded past 65,535 workgroups.
// Bindings: 0 pw (read) · 1 dw (read_write) · 2 p (uniform Params).

override WG: u32 = 64u;
override ACCUMULATE: bool = false;

struct Params { a: u32, b: u32, nslots: u32, b_tot: u32, a0: u32, b0: u32 }

@group(0) @binding(0) var<storage, read> pw: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// G^T times the 6-vector m.
fn g3(m: array<f32, 6>) -> vec3f {
  return vec3f(
    m[0] * 0.25 - (m[1] + m[2]) * (1.0 / 6.0) + (m[3] + m[4]) * (1.0 / 24.0),
    (m[2] - m[1]) * (1.0 / 6.0) + (m[3] - m[4]) * (1.0 / 12.0),
    (m[3] + m[4] - m[1] - m[2]) * (1.0 / 6.0) + m[5],
  );
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.a * p.b) { return; }
  let ab = p.a * p.b;
  var m: array<f32, 36>;
  for (var e = 0u; e < 36u; e++) {
    var s = 0.0;
    for (var k = 0u; k < p.nslots; k++) {
      s += pw[(k * 36u + e) * ab + i];
    }
    m[e] = s;
  }
  // Rows first: rt[e1] = G^T m[e1][.] (3 values), then columns.
  var rt: array<vec3f, 6>;
  for (var e1 = 0u; e1 < 6u; e1++) {
    rt[e1] = g3(array<f32, 6>(m[e1 * 6u], m[e1 * 6u + 1u], m[e1 * 6u + 2u], m[e1 * 6u + 3u], m[e1 * 6u + 4u], m[e1 * 6u + 5u]));
  }
  let out = ((p.a0 + i / p.b) * p.b_tot + p.b0 + i % p.b) * 9u;
  for (var kx = 0u; kx < 3u; kx++) {
    let col = g3(array<f32, 6>(rt[0][kx], rt[1][kx], rt[2][kx], rt[3][kx], rt[4][kx], rt[5][kx]));
    for (var ky = 0u; ky < 3u; ky++) {
      let o = out + ky * 3u + kx;
      var base = 0.0;
      if (ACCUMULATE) { base = dw[o]; }
      dw[o] = col[ky] + base;
    }
  }
}
