// winograd_wgrad_gemm — the 36 contractions over tiles of the Winograd F(4x4, 3x3) weight gradient, one slice of tile
// quads per slot: pw[slot][e][ai][bi] = sum over quads q in [s*s_len, min((s+1)*s_len, t4)) of dot(gt4[(e*a + ai)*t4 + q],
// v4[(e*b + bi)*t4 + q]) with slot = slot0 + s (gt from winograd_grad, v from winograd_input, both vec4 over 4 tiles);
// with ACCUMULATE (a later band of tiles) pw is added to.
// Layout: pw[((slot*36 + e)*a + ai)*b + bi] (winograd_wgrad_output sums the slots).
// Why this shape (lavapipe, Mesa 25.0.7: every storage load is a per-lane loop, vec4 shares its cost over 4 floats):
// lane l of a workgroup of WG lanes owns 4 x channels bi = b0 + l + WG*k (k < 4, 4 vec4 loads of v per quad) and all 16
// gradient channels of the block: lanes 0..7 load gt of channels a0 + l%8 and a0 + 8 + l%8 (2 vec4), shared with
// subgroupBroadcast; 16 x 4 dot products of 4 tiles per quad, 16 vec4 accumulators (over the 4 x channels).
// Grid: one workgroup = one (slice s, e, 16-channel block of a, 4*WG-channel block of b), 1-D over
// nslices * 36 * ceil(a/16) * ceil(b/(4*WG)), folded past 65,535. Channels past a or b load clamped and store nothing.
// Bindings: 0 gt (read) · 1 v (read) · 2 pw (write) · 3 p (uniform Params).
// Assumes the subgroup size is >= 8 and WG is a multiple of it or at most it (WG = the adapter's subgroup size).
enable subgroups;

override WG: u32 = 8u;
override ACCUMULATE: bool = false;

struct Params { a: u32, b: u32, t4: u32, s_len: u32, nslices: u32, slot0: u32 }

@group(0) @binding(0) var<storage, read> gt: array<vec4f>;
@group(0) @binding(1) var<storage, read> v: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> pw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn dots(gq: vec4f, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) -> vec4f {
  return vec4f(dot(gq, v0), dot(gq, v1), dot(gq, v2), dot(gq, v3));
}

// 8 gradient channels (lane j's gq broadcast) against this lane's 4 x channels: accumulators o .. o+7.
fn eight(acc: ptr<function, array<vec4f, 16>>, o: u32, gq: vec4f, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
  (*acc)[o] += dots(subgroupBroadcast(gq, 0u), v0, v1, v2, v3);
  (*acc)[o + 1u] += dots(subgroupBroadcast(gq, 1u), v0, v1, v2, v3);
  (*acc)[o + 2u] += dots(subgroupBroadcast(gq, 2u), v0, v1, v2, v3);
  (*acc)[o + 3u] += dots(subgroupBroadcast(gq, 3u), v0, v1, v2, v3);
  (*acc)[o + 4u] += dots(subgroupBroadcast(gq, 4u), v0, v1, v2, v3);
  (*acc)[o + 5u] += dots(subgroupBroadcast(gq, 5u), v0, v1, v2, v3);
  (*acc)[o + 6u] += dots(subgroupBroadcast(gq, 6u), v0, v1, v2, v3);
  (*acc)[o + 7u] += dots(subgroupBroadcast(gq, 7u), v0, v1, v2, v3);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let wi = wid.y * nwg.x + wid.x;
  let nab = (p.a + 15u) / 16u;
  let nbb = (p.b + 4u * WG - 1u) / (4u * WG);
  // Uniform across the workgroup: returning here keeps every later broadcast in uniform control flow.
  if (wi >= p.nslices * 36u * nab * nbb) { return; }
  let bb = wi % nbb;
  var r = wi / nbb;
  let ab = r % nab;
  r = r / nab;
  let e = r % 36u;
  let s = r / 36u;
  let a0 = ab * 16u;
  let l8 = sid & 7u;
  let ga = (e * p.a + min(a0 + l8, p.a - 1u)) * p.t4;
  let gb = (e * p.a + min(a0 + 8u + l8, p.a - 1u)) * p.t4;
  let b0 = bb * 4u * WG + lid;
  let v0 = (e * p.b + min(b0, p.b - 1u)) * p.t4;
  let v1 = (e * p.b + min(b0 + WG, p.b - 1u)) * p.t4;
  let v2 = (e * p.b + min(b0 + 2u * WG, p.b - 1u)) * p.t4;
  let v3 = (e * p.b + min(b0 + 3u * WG, p.b - 1u)) * p.t4;
  let q0 = s * p.s_len;
  let q1 = min(q0 + p.s_len, p.t4);

  var acc: array<vec4f, 16>;
  for (var q = q0; q < q1; q++) {
    let x0 = v[v0 + q];
    let x1 = v[v1 + q];
    let x2 = v[v2 + q];
    let x3 = v[v3 + q];
    eight(&acc, 0u, gt[ga + q], x0, x1, x2, x3);
    eight(&acc, 8u, gt[gb + q], x0, x1, x2, x3);
  }
  let slot = p.slot0 + s;
  for (var j = 0u; j < 16u; j++) {
    let ai = a0 + j;
    if (ai < p.a) {
      let o = ((slot * 36u + e) * p.a + ai) * p.b;
      for (var k = 0u; k < 4u; k++) {
        let bi = b0 + k * WG;
        if (bi < p.b) {
          if (ACCUMULATE) {
            pw[o + bi] = pw[o + bi] + acc[j][k];
          } else {
            pw[o + bi] = acc[j][k];
          }
        }
      }
    }
  }
}
