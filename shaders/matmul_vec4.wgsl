// matmul_vec4 — the matmul kernel's contract (shaders/matmul.wgsl) for operands whose contiguous dims are multiples of 4:
// a, b bound as vec4 arrays (lavapipe runs every storage load as a per-lane loop: a vec4 load costs about what a
// scalar one does), a 4x4 block of outputs per invocation in vec4 registers. TA / TB pick the layout at compile
// time; per 4-step of the contiguous K (or per k where neither operand runs along K) an invocation loads 8 vec4 (or
// 2) for 64 (or 16) multiply-adds. Needs: a's contiguous dim (K, or M when TA) and b's (N, or K when TB) multiples
// of 4, oa / ob / sa / sb multiples of 4. Rows (cols) past m (n) read a clamped row (col) and store nothing.
// Bindings: 0 a · 1 b (read, vec4) · 2 c (read-write) · 3 p (uniform Params).

override WG: u32 = 64u;
override TA: bool = false;
override TB: bool = false;

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// #include "lib/matmul_common.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let blk = block4((wid.y * nwg.x + wid.x) * WG + lid, p.m, p.n);
  if (blk.x >= p.batch) { return; }
  let bi = blk.x;
  let row = blk.y;
  let col = blk.z;
  // vec4 offsets of this batch's matrices.
  let a0 = (p.oa + bi * p.sa) / 4u;
  let b0 = (p.ob + bi * p.sb) / 4u;
  let r = vec4u(min(row, p.m - 1u), min(row + 1u, p.m - 1u), min(row + 2u, p.m - 1u), min(row + 3u, p.m - 1u));
  let q = vec4u(min(col, p.n - 1u), min(col + 1u, p.n - 1u), min(col + 2u, p.n - 1u), min(col + 3u, p.n - 1u));
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  if (!TA && !TB) {
    // a [M, K] along k, b [K, N] along n.
    let ka = p.k / 4u;
    let nb = p.n / 4u;
    for (var k = 0u; k < p.k; k += 4u) {
      let x0 = a[a0 + r.x * ka + k / 4u];
      let x1 = a[a0 + r.y * ka + k / 4u];
      let x2 = a[a0 + r.z * ka + k / 4u];
      let x3 = a[a0 + r.w * ka + k / 4u];
      let y0 = b[b0 + k * nb + col / 4u];
      let y1 = b[b0 + (k + 1u) * nb + col / 4u];
      let y2 = b[b0 + (k + 2u) * nb + col / 4u];
      let y3 = b[b0 + (k + 3u) * nb + col / 4u];
      c0 += x0.x * y0 + x0.y * y1 + x0.z * y2 + x0.w * y3;
      c1 += x1.x * y0 + x1.y * y1 + x1.z * y2 + x1.w * y3;
      c2 += x2.x * y0 + x2.y * y1 + x2.z * y2 + x2.w * y3;
      c3 += x3.x * y0 + x3.y * y1 + x3.z * y2 + x3.w * y3;
    }
  } else if (!TA && TB) {
    // a [M, K] along k, b [N, K] along k: dot products.
    let kq = p.k / 4u;
    for (var k = 0u; k < kq; k++) {
      let x0 = a[a0 + r.x * kq + k];
      let x1 = a[a0 + r.y * kq + k];
      let x2 = a[a0 + r.z * kq + k];
      let x3 = a[a0 + r.w * kq + k];
      let y0 = b[b0 + q.x * kq + k];
      let y1 = b[b0 + q.y * kq + k];
      let y2 = b[b0 + q.z * kq + k];
      let y3 = b[b0 + q.w * kq + k];
      c0 += vec4f(dot(x0, y0), dot(x0, y1), dot(x0, y2), dot(x0, y3));
      c1 += vec4f(dot(x1, y0), dot(x1, y1), dot(x1, y2), dot(x1, y3));
      c2 += vec4f(dot(x2, y0), dot(x2, y1), dot(x2, y2), dot(x2, y3));
      c3 += vec4f(dot(x3, y0), dot(x3, y1), dot(x3, y2), dot(x3, y3));
    }
  } else if (TA && !TB) {
    // a [K, M] along m, b [K, N] along n: outer products.
    let mq = p.m / 4u;
    let nq = p.n / 4u;
    for (var k = 0u; k < p.k; k++) {
      let x = a[a0 + k * mq + row / 4u];
      let y = b[b0 + k * nq + col / 4u];
      c0 += x.x * y;
      c1 += x.y * y;
      c2 += x.z * y;
      c3 += x.w * y;
    }
  } else {
    // a [K, M] along m, b [N, K] along k.
    let mq = p.m / 4u;
    let kq = p.k / 4u;
    for (var k = 0u; k < kq; k++) {
      let x0 = a[a0 + (4u * k) * mq + row / 4u];
      let x1 = a[a0 + (4u * k + 1u) * mq + row / 4u];
      let x2 = a[a0 + (4u * k + 2u) * mq + row / 4u];
      let x3 = a[a0 + (4u * k + 3u) * mq + row / 4u];
      let y0 = b[b0 + q.x * kq + k];
      let y1 = b[b0 + q.y * kq + k];
      let y2 = b[b0 + q.z * kq + k];
      let y3 = b[b0 + q.w * kq + k];
      // Row i of the block: a's element i of each k, against column j's 4 k values.
      let t0 = vec4f(x0.x, x1.x, x2.x, x3.x);
      let t1 = vec4f(x0.y, x1.y, x2.y, x3.y);
      let t2 = vec4f(x0.z, x1.z, x2.z, x3.z);
      let t3 = vec4f(x0.w, x1.w, x2.w, x3.w);
      c0 += vec4f(dot(t0, y0), dot(t0, y1), dot(t0, y2), dot(t0, y3));
      c1 += vec4f(dot(t1, y0), dot(t1, y1), dot(t1, y2), dot(t1, y3));
      c2 += vec4f(dot(t2, y0), dot(t2, y1), dot(t2, y2), dot(t2, y3));
      c3 += vec4f(dot(t3, y0), dot(t3, y1), dot(t3, y2), dot(t3, y3));
    }
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
