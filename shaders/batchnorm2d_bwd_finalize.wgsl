// batchnorm2d_bwd_finalize — per channel c: dbias[c] = sum_k part[2 * (c * ktot + k)] (= sum dz) and
// dweight[c] = invstd[c] * sum_k part[2 * (c * ktot + k) + 1] (= sum dz * xhat), from batchnorm2d_bwd_reduce.
// One invocation per channel (grid ceil(C / WG), folded) summing its ktot partials in order k = 0, 1, ...
// (deterministic, no atomics; ktot is small, and a per-channel workgroup tree cost ~0.3 ms a dispatch on lavapipe).
// Bindings: 0 part · 1 invstd (reads) · 2 dweight · 3 dbias (writes) · 4 p (uniform).

override WG: u32 = 64u;

struct Params { c: u32, ktot: u32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read> invstd: array<f32>;
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = (wid.y * nwg.x + wid.x) * WG + lid;
  if (c >= p.c) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var k = 0u; k < p.ktot; k++) {
    let o = 2u * (c * p.ktot + k);
    sg += part[o];
    sgx += part[o + 1u];
  }
  dbias[c] = sg;
  dweight[c] = sgx * invstd[c];
}
