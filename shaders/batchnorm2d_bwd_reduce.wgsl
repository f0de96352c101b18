// batchnorm2d_bwd_reduce — per chunk of one channel: (sum dz, sum dz * (x - mean[c])), the two reductions of the
// batch-norm backward (dbias = sum dz, dweight = invstd * sum dz * (x - mean)); merged by batchnorm2d_bwd_finalize.
// dz = g, or with RELU (batchNormRelu: y = max(z, 0), z = (x - mean) * invstd * weight + bias) dz = g where the
// recomputed z > 0, else 0 (the forward's z to the bit: bn_apply, as batchnorm2d_fwd); weight = 1 unless
// HAS_W, bias = 0 unless HAS_B (invstd / weight / bias only read with RELU).
// x and g are NCHW-contiguous [N, C, HW]. Boxes, windows and chunks exactly as batchnorm2d_stats: a dispatch covers
// nb items x cb channels from (n0, c0); xo is the residual element offset of (n0, c0) in the x and g windows
// (both start at the same aligned element); channel c's m = n * HW + j is at xo + (m / hw) * chw + (c - c0) * hw + m % hw.
// One invocation per (box channel, chunk) (nwork = cb * nk, grid ceil(nwork / WG), folded), summing its chunk in
// order: no workgroup barriers. Writes part[2 * (c * ktot + kbase + k) + {0, 1}].
// Bindings: 0 x · 1 g · 2 mean · 3 invstd · 4 weight · 5 bias (reads) · 6 part (write) · 7 p (uniform).

// #include "lib/batchnorm_apply.wgsl"
// #include "lib/nan.wgsl"

override WG: u32 = 64u;
override RELU: bool = false;
override HAS_W: bool = true;
override HAS_B: bool = true;

// #include "lib/batchnorm_chunks.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> part: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wk = (wid.y * nwg.x + wid.x) * WG + lid;
  if (wk >= p.nwork) { return; }
  let ch = chunk_of(wk, p.nk, p.chunk, p.mtot);
  let c = p.c0 + ch.cl;
  let mu = mean[c];
  var sc = 1.0;
  var sh = 0.0;
  if (RELU) {
    sc = invstd[c];
    if (HAS_W) { sc *= weight[c]; }
    if (HAS_B) { sh = bias[c]; }
  }
  let w0 = walk_at(ch.m0, p.hw, p.chw, p.xo + ch.cl * p.hw);
  var e = w0.e;
  var j = w0.j;
  let wrap = p.chw - p.hw;
  var sg = 0.0;
  var sgx = 0.0;
  for (var m = ch.m0; m < ch.m1; m++) {
    let xv = x[e];
    var gv = g[e];
    if (RELU) {
      if (!relu_keeps(bn_apply(xv, mu, sc, sh, HAS_B))) { gv = 0.0; }
    }
    sg += gv;
    sgx += gv * (xv - mu);
    e++;
    j++;
    if (j == p.hw) { j = 0u; e += wrap; }
  }
  let o = 2u * (c * p.ktot + p.kbase + ch.k);
  part[o] = sg;
  part[o + 1u] = sgx;
}
