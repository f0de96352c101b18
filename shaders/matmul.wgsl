// matmul — batched c[b, m, n] (+)= sum_k A[b, m, k] * B[b, k, n], where A = a or a^T (TA = 1: a is [K, M]) and
// B = b or b^T (TB = 1: b is [N, K]). Row-major, contiguous; sa / sb are the batch strides of a and b in elements
// (0: one matrix shared by every batch), oa / ob / oc the residuals of windowed bindings (split.ts), acc = 1 adds to
// c (split-K: a K range per launch, in a fixed order). One invocation per output element, k loop inside; 1-D grid
// folded past 65,535. Bindings: 0 a · 1 b (read) · 2 c (read-write) · 3 p (uniform Params).

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// #include "lib/matmul_common.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let per = p.m * p.n;
  if (i >= p.batch * per) { return; }
  let bi = i / per;
  let row = (i % per) / p.n;
  let col = i % p.n;
  // Element strides of the k axis and of the row/col axis in each operand.
  let a_k = select(1u, p.m, p.ta == 1u);
  let a_r = select(p.k, 1u, p.ta == 1u);
  let b_k = select(p.n, 1u, p.tb == 1u);
  let b_c = select(1u, p.k, p.tb == 1u);
  let a0 = p.oa + bi * p.sa + row * a_r;
  let b0 = p.ob + bi * p.sb + col * b_c;
  var acc = 0.0;
  for (var k = 0u; k < p.k; k++) {
    acc += a[a0 + k * a_k] * b[b0 + k * b_k];
  }
  let o = p.oc + i;
  c[o] = select(acc, c[o] + acc, p.acc == 1u);
}
