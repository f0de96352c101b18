// winograd_wgrad_output — the filter-side transform of the Winograd F(4x4, 3x3) weight gradient, for a block of a x b
// channels from (a0, b0) of dw [., b_tot, 3, 3]:
//   dw[a0 + ai, b0 + bi, ky, kx] (+)= (G^T m G)[ky][kx],  m[e] = sum over slots s < nslots of pw[((s*36 + e)*a + ai)*b + bi]
// (the slots of winograd_wgrad_gemm, summed in slot order), e = e1*6 + e2; with ACCUMULATE dw is added to.
// G (6x3) = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
// V4 (a*b a multiple of 4): one invocation per 4 consecutive (ai, bi) pairs, the slot sums as vec4 loads (36*nslots
// per 4 pairs; on lavapipe a vec4 load costs about what a scalar one does: 22 -> 17 ms per config-a step); else one
// per pair, each value read out of its vec4. Then 9 stores per pair. Grid: 1-D over a*b / (V4 ? 4 : 1), folded past
// 65,535 workgroups. Bindings: 0 pw (read, as vec4: its size, 36*nslots*a*b floats, is a multiple of 4) · 1 dw
// (read_write) · 2 p (uniform Params).

override WG: u32 = 64u;
override ACCUMULATE: bool = false;
override V4: bool = false;

struct Params { a: u32, b: u32, nslots: u32, b_tot: u32, a0: u32, b0: u32 }

@group(0) @binding(0) var<storage, read> pw: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// G^T times the 6-vector m, on 4 pairs at once (one per lane of each vec4).
struct G3 { r0: vec4f, r1: vec4f, r2: vec4f }

fn g3(m0: vec4f, m1: vec4f, m2: vec4f, m3: vec4f, m4: vec4f, m5: vec4f) -> G3 {
  return G3(
    m0 * 0.25 - (m1 + m2) * (1.0 / 6.0) + (m3 + m4) * (1.0 / 24.0),
    (m2 - m1) * (1.0 / 6.0) + (m3 - m4) * (1.0 / 12.0),
    (m3 + m4 - m1 - m2) * (1.0 / 6.0) + m5,
  );
}

// Element j of pw in lane 0 (the scalar path).
fn pw1(j: u32) -> vec4f {
  return vec4f(pw[j / 4u][j % 4u], 0.0, 0.0, 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * WG + lid;
  let ab = p.a * p.b;
  let lanes = select(1u, 4u, V4);
  if (t >= ab / lanes) { return; }
  // The slot sums of the 36 products, in slot order, for pairs i0 .. i0 + lanes - 1.
  let i0 = t * lanes;
  var m: array<vec4f, 36>;
  for (var e = 0u; e < 36u; e++) {
    var s = vec4f(0.0);
    for (var k = 0u; k < p.nslots; k++) {
      let j = (k * 36u + e) * ab + i0;
      if (V4) { s += pw[j / 4u]; } else { s += pw1(j); }
    }
    m[e] = s;
  }
  // Rows first: rt[e1] = G^T m[e1][.] (3 values per lane), then columns: col[kx] = G^T rt[.][kx].
  var rt: array<G3, 6>;
  for (var e1 = 0u; e1 < 6u; e1++) {
    rt[e1] = g3(m[e1 * 6u], m[e1 * 6u + 1u], m[e1 * 6u + 2u], m[e1 * 6u + 3u], m[e1 * 6u + 4u], m[e1 * 6u + 5u]);
  }
  var col: array<G3, 3>;
  col[0] = g3(rt[0].r0, rt[1].r0, rt[2].r0, rt[3].r0, rt[4].r0, rt[5].r0);
  col[1] = g3(rt[0].r1, rt[1].r1, rt[2].r1, rt[3].r1, rt[4].r1, rt[5].r1);
  col[2] = g3(rt[0].r2, rt[1].r2, rt[2].r2, rt[3].r2, rt[4].r2, rt[5].r2);
  for (var l = 0u; l < lanes; l++) {
    let i = i0 + l;
    let out = ((p.a0 + i / p.b) * p.b_tot + p.b0 + i % p.b) * 9u;
    for (var kx = 0u; kx < 3u; kx++) {
      let c = col[kx];
      let v = vec3f(c.r0[l], c.r1[l], c.r2[l]);
      for (var ky = 0u; ky < 3u; ky++) {
        let o = out + ky * 3u + kx;
        var base = 0.0;
        if (ACCUMULATE) { base = dw[o]; }
        dw[o] = v[ky] + base;
      }
    }
  }
}
