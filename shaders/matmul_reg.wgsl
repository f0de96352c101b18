// matmul_reg — the matmul kernel's contract (shaders/matmul.wgsl) with a 4x4 block of outputs per invocation held in
// vec4 registers, operands read straight from memory (no workgroup memory, no barriers: caches give the reuse).
// Bindings: 0 a · 1 b (read) · 2 c (read-write) · 3 p (uniform Params).

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// #include "lib/matmul_common.wgsl"

fn at(base: u32, row: u32, k: u32) -> f32 {
  if (row >= p.m) { return 0.0; }
  return a[base + select(row * p.k + k, k * p.m + row, p.ta == 1u)];
}

fn bt(base: u32, k: u32, col: u32) -> f32 {
  if (col >= p.n) { return 0.0; }
  return b[base + select(k * p.n + col, col * p.k + k, p.tb == 1u)];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let blk = block4((wid.y * nwg.x + wid.x) * WG + lid, p.m, p.n);
  if (blk.x >= p.batch) { return; }
  let bi = blk.x;
  let row = blk.y;
  let col = blk.z;
  let a0 = p.oa + bi * p.sa;
  let b0 = p.ob + bi * p.sb;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = 0u; k < p.k; k++) {
    let bv = vec4f(bt(b0, k, col), bt(b0, k, col + 1u), bt(b0, k, col + 2u), bt(b0, k, col + 3u));
    c0 += at(a0, row, k) * bv;
    c1 += at(a0, row + 1u, k) * bv;
    c2 += at(a0, row + 2u, k) * bv;
    c3 += at(a0, row + 3u, k) * bv;
  }
  store(bi, row, col, c0);
  store(bi, row + 1u, col, c1);
  store(bi, row + 2u, col, c2);
  store(bi, row + 3u, col, c3);
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
