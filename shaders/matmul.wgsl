// matmul — c[m, n] = sum_k A[m, k] * B[k, n], where A = a or a^T (TA = 1: a is [K, M]) and B = b or b^T
// (TB = 1: b is [N, K]). Row-major, contiguous. One invocation per output element, k loop inside;
// 1-D grid folded past 65,535. Bindings: 0 a · 1 b (read) · 2 c (write) · 3 p (uniform Params).

override WG: u32 = 64u;

struct Params { m: u32, n: u32, k: u32, ta: u32, tb: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.m * p.n) { return; }
  let row = i / p.n;
  let col = i % p.n;
  // Element strides of the k axis and of the row/col axis in each operand.
  let a_k = select(1u, p.m, p.ta == 1u);
  let a_r = select(p.k, 1u, p.ta == 1u);
  let b_k = select(p.n, 1u, p.tb == 1u);
  let b_c = select(1u, p.k, p.tb == 1u);
  var acc = 0.0;
  for (var k = 0u; k < p.k; k++) {
    acc += a[row * a_r + k * a_k] * b[k * b_k + col * b_c];
  }
  c[i] = acc;
}
