// batchnorm2d_bwd_reduce_vec4 — batchnorm2d_bwd_reduce (same contract and params: per (box channel, chunk)
// (sum dz, sum dz * (x - mean[c])), dz = g, or with RELU dz = g where the recomputed
// z = (x - mean) * invstd * weight + bias > 0, else 0) reading x and g as vec4: valid when HW, the chunk length and
// xo are multiples of 4 (no vec4 straddles two planes). weight = 1 unless HAS_W, bias = 0 unless HAS_B.
// x and g are NCHW-contiguous [N, C, HW], boxes, windows and chunks as batchnorm2d_stats_vec4 (x and g windows
// start at the same aligned element). One invocation per (box channel, chunk) (grid ceil(nwork / WG), folded),
// summing its chunk in order: no workgroup barriers. Writes part[2 * (c * ktot + kbase + k) + {0, 1}].
// Bindings: 0 x · 1 g (vec4) · 2 mean · 3 invstd · 4 weight · 5 bias (reads) · 6 part (write) · 7 p (uniform).

// #include "lib/batchnorm_apply.wgsl"
// #include "lib/nan.wgsl"

override WG: u32 = 64u;
override RELU: bool = false;
override HAS_W: bool = true;
override HAS_B: bool = true;

// #include "lib/batchnorm_chunks.wgsl"

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> g: array<vec4f>;
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
  // In vec4 units: position m4 is at e = (xo + cl * hw) / 4 + (m4 / hw4) * chw4 + m4 % hw4.
  let hw4 = p.hw / 4u;
  let ms = ch.m0 / 4u;
  let me = ch.m1 / 4u;
  let w0 = walk_at(ms, hw4, p.chw / 4u, (p.xo + ch.cl * p.hw) / 4u);
  var e = w0.e;
  var j = w0.j;
  let wrap = (p.chw - p.hw) / 4u;
  var sg = vec4f(0.0);
  var sgx = vec4f(0.0);
  for (var m = ms; m < me; m++) {
    let xv = x[e];
    var gv = g[e];
    if (RELU) {
      gv = select(vec4f(0.0), gv, relu_keeps4(bn_apply4(xv, mu, sc, sh, HAS_B)));
    }
    sg += gv;
    sgx += gv * (xv - mu);
    e++;
    j++;
    if (j == hw4) { j = 0u; e += wrap; }
  }
  let o = 2u * (c * p.ktot + p.kbase + ch.k);
  part[o] = (sg.x + sg.y) + (sg.z + sg.w);
  part[o + 1u] = (sgx.x + sgx.y) + (sgx.z + sgx.w);
}
