// matmul_tiled — the matmul kernel's contract (shaders/matmul.wgsl: batched c (+)= op(a) · op(b), batch strides,
// window residuals, acc) computed in 32x32 output tiles: a workgroup of 64 invocations stages a 32x16 tile of op(a)
// and a 16x32 tile of op(b) in workgroup memory per K step (each element read once from memory per tile instead of
// once per output), and each invocation accumulates a 4x4 block of outputs in registers. The transposes are read
// in place while staging. 1-D grid of tiles (batch x row tiles x col tiles) folded past 65,535.
// Bindings: 0 a · 1 b (read) · 2 c (read-write) · 3 p (uniform Params).

const TM: u32 = 32u;
const TN: u32 = 32u;
const TK: u32 = 16u;
const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// #include "lib/matmul_common.wgsl"

var<workgroup> As: array<f32, 512>; // [TK][TM]
var<workgroup> Bs: array<f32, 512>; // [TK][TN]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tilesM = (p.m + TM - 1u) / TM;
  let tilesN = (p.n + TN - 1u) / TN;
  let t = wid.y * nwg.x + wid.x;
  // Uniform per workgroup: every invocation leaves together (the barriers below stay in uniform control flow).
  if (t >= p.batch * tilesM * tilesN) { return; }
  let bi = t / (tilesM * tilesN);
  let row0 = ((t / tilesN) % tilesM) * TM;
  let col0 = (t % tilesN) * TN;
  let a0 = p.oa + bi * p.sa;
  let b0 = p.ob + bi * p.sb;
  let tr = (lid / 8u) * 4u;
  let tc = (lid % 8u) * 4u;
  // Four rows of four outputs in vec4 registers (no dynamically indexed private arrays: they would live in memory).
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var e = lid; e < TM * TK; e += WG) {
      let r = e % TM;
      let kk = e / TM;
      let row = row0 + r;
      let k = k0 + kk;
      var v = 0.0;
      if (row < p.m && k < p.k) { v = a[a0 + select(row * p.k + k, k * p.m + row, p.ta == 1u)]; }
      As[kk * TM + r] = v;
      let col = col0 + r;
      var w = 0.0;
      if (col < p.n && k < p.k) { w = b[b0 + select(k * p.n + col, col * p.k + k, p.tb == 1u)]; }
      Bs[kk * TN + r] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let ai = kk * TM + tr;
      let bj = kk * TN + tc;
      let av = vec4f(As[ai], As[ai + 1u], As[ai + 2u], As[ai + 3u]);
      let bv = vec4f(Bs[bj], Bs[bj + 1u], Bs[bj + 2u], Bs[bj + 3u]);
      c0 += av.x * bv;
      c1 += av.y * bv;
      c2 += av.z * bv;
      c3 += av.w * bv;
    }
    workgroupBarrier();
  }
  store(bi, row0 + tr, col0 + tc, c0);
  store(bi, row0 + tr + 1u, col0 + tc, c1);
  store(bi, row0 + tr + 2u, col0 + tc, c2);
  store(bi, row0 + tr + 3u, col0 + tc, c3);
}

/** Writes (or adds, p.acc = 1) the in-range part of four outputs of one row of batch bi. */
fn store(bi: u32, row: u32, col: u32, v: vec4f) {
  if (row >= p.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j >= p.n) { return; }
    let o = p.oc + (bi * p.m + row) * p.n + col + j;
    c[o] = select(v[j], c[o] + v[j], p.acc == 1u);
  }
}
