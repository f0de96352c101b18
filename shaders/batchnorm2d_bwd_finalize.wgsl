// batchnorm2d_bwd_finalize — per channel c: dbias[c] = sum_k part[2 * (c * ktot + k)] (= sum g) and
// dweight[c] = invstd[c] * sum_k part[2 * (c * ktot + k) + 1] (= sum g * xhat), from batchnorm2d_bwd_reduce.
// One workgroup per channel (grid C, folded): thread t sums partials t, t + WG, ... in order, then a fixed-order
// tree in workgroup memory (deterministic, no atomics).
// Bindings: 0 part · 1 invstd (reads) · 2 dweight · 3 dbias (writes) · 4 p (uniform). WG is a power of two.

override WG: u32 = 64u;

struct Params { c: u32, ktot: u32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read> invstd: array<f32>;
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> r1: array<f32, WG>;
var<workgroup> r2: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.y * nwg.x + wid.x;
  if (c >= p.c) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var k = lid; k < p.ktot; k += WG) {
    let o = 2u * (c * p.ktot + k);
    sg += part[o];
    sgx += part[o + 1u];
  }
  r1[lid] = sg;
  r2[lid] = sgx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      r1[lid] += r1[lid + s];
      r2[lid] += r2[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    dbias[c] = r1[0];
    dweight[c] = r2[0] * invstd[c];
  }
}
