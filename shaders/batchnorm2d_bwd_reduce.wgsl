// batchnorm2d_bwd_reduce — per chunk of one channel: (sum g, sum g * (x - mean[c])), the two reductions of the
// batch-norm backward (dbias = sum g, dweight = invstd * sum g * (x - mean)); merged by batchnorm2d_bwd_finalize.
// x and g are NCHW-contiguous [N, C, HW]. Boxes, windows and chunks exactly as batchnorm2d_stats: a dispatch covers
// nb items x cb channels from (n0, c0); xo is the residual element offset of (n0, c0) in the x and g windows
// (both start at the same aligned element); channel c's m = n * HW + j is at xo + (m / hw) * chw + (c - c0) * hw + m % hw.
// One workgroup per (box channel, chunk), nwork = cb * nk, 1-D grid folded; threads stride the chunk, then a
// fixed-order tree in workgroup memory. Writes part[2 * (c * ktot + kbase + k) + {0, 1}].
// Bindings: 0 x · 1 g · 2 mean (reads) · 3 part (write) · 4 p (uniform). WG is a power of two.

override WG: u32 = 64u;

struct Params { nwork: u32, nk: u32, chunk: u32, mtot: u32, hw: u32, chw: u32, c0: u32, ktot: u32, kbase: u32, xo: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> r1: array<f32, WG>;
var<workgroup> r2: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wk = wid.y * nwg.x + wid.x;
  if (wk >= p.nwork) { return; }
  let cl = wk / p.nk;
  let k = wk - cl * p.nk;
  let c = p.c0 + cl;
  let m0 = k * p.chunk;
  let m1 = min(p.mtot, m0 + p.chunk);
  let base = p.xo + cl * p.hw;
  let mu = mean[c];
  var sg = 0.0;
  var sgx = 0.0;
  for (var m = m0 + lid; m < m1; m += WG) {
    let n = m / p.hw;
    let e = base + n * p.chw + (m - n * p.hw);
    let gv = g[e];
    sg += gv;
    sgx += gv * (x[e] - mu);
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
    let o = 2u * (c * p.ktot + p.kbase + k);
    part[o] = r1[0];
    part[o + 1u] = r2[0];
  }
}
