// batchnorm2d_stats_vec4 — batchnorm2d_stats (same contract and params: per (box channel, chunk) the chunk's
// (count, mean, M2 = sum (x - mean)^2) by the corrected two-pass algorithm) reading x as vec4: valid when
// HW, the chunk length and xo are multiples of 4 (then no vec4 straddles two planes). On lavapipe every storage load
// is a per-lane scalar loop, so a vec4 load moves 4 floats for about the cost of one.
// x is NCHW-contiguous [N, C, HW]; a dispatch covers a box of nb items x cb channels from (n0, c0), bound as one
// window at an aligned offset with xo the residual element offset; channel c's m = n * HW + j is at
// x[xo + (m / hw) * chw + (c - c0) * hw + m % hw]; chunk k covers m in [k * chunk, min(mtot, (k + 1) * chunk)).
// One invocation per (box channel, chunk) (nwork = cb * nk, grid ceil(nwork / WG), folded), summing its chunk in
// order (four lanes of a vec4 accumulator, added at the end): no workgroup barriers.
// Writes part[3 * ((c0 + cl) * ktot + kbase + k) + {0, 1, 2}] = (count, mean, M2).
// Bindings: 0 x (read, as vec4) · 1 part (write) · 2 p (uniform).

override WG: u32 = 64u;

// #include "lib/batchnorm_chunks.wgsl"

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wk = (wid.y * nwg.x + wid.x) * WG + lid;
  if (wk >= p.nwork) { return; }
  let ch = chunk_of(wk, p.nk, p.chunk, p.mtot);
  // In vec4 units: position m4 is at e = (xo + cl * hw) / 4 + (m4 / hw4) * chw4 + m4 % hw4.
  let hw4 = p.hw / 4u;
  let ms = ch.m0 / 4u;
  let me = ch.m1 / 4u;
  let w0 = walk_at(ms, hw4, p.chw / 4u, (p.xo + ch.cl * p.hw) / 4u);
  let wrap = (p.chw - p.hw) / 4u;
  var s = vec4f(0.0);
  var e = w0.e;
  var j = w0.j;
  for (var m = ms; m < me; m++) {
    s += x[e];
    e++;
    j++;
    if (j == hw4) { j = 0u; e += wrap; }
  }
  let cnt = f32(ch.m1 - ch.m0);
  let m_1 = ((s.x + s.y) + (s.z + s.w)) / cnt;
  // The corrected two-pass form: the first pass's rounding error in the mean comes back as sum d.
  var sd = vec4f(0.0);
  var q = vec4f(0.0);
  e = w0.e;
  j = w0.j;
  for (var m = ms; m < me; m++) {
    let d = x[e] - m_1;
    sd += d;
    q += d * d;
    e++;
    j++;
    if (j == hw4) { j = 0u; e += wrap; }
  }
  let sdt = (sd.x + sd.y) + (sd.z + sd.w);
  let o = 3u * ((p.c0 + ch.cl) * p.ktot + p.kbase + ch.k);
  part[o] = cnt;
  part[o + 1u] = m_1 + sdt / cnt;
  part[o + 2u] = ((q.x + q.y) + (q.z + q.w)) - sdt * sdt / cnt;
}
