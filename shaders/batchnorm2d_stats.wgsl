// batchnorm2d_stats — per chunk of one channel: (count, mean, M2 = sum (x - mean)^2), two passes over the chunk
// (a first mean m1, then d = x - m1: mean = m1 + sum d / n, M2 = sum d^2 - (sum d)^2 / n, the corrected two-pass
// algorithm: accurate however large the mean is against the spread, and however large N * H * W grows).
// x is NCHW-contiguous [N, C, HW] (HW = 1 for [N, C]). A dispatch covers a box of nb items x cb channels starting
// at (n0, c0), bound as one window that starts at an aligned offset (xo = residual element offset of (n0, c0));
// the box is all channels of nb items, or cb channels of one item, so the window is contiguous.
// Channel c of the box is the sequence m = n * HW + j (n < nb, j < HW) at x[xo + (m / hw) * chw + (c - c0) * hw + m % hw];
// chunk k covers m in [k * chunk, min(mtot, (k + 1) * chunk)) with mtot = nb * HW.
// One invocation per (box channel, chunk) (nwork = cb * nk, grid ceil(nwork / WG), folded past 65,535), each
// summing its chunk in order: no workgroup barriers (on lavapipe a workgroup tree cost ~10 us a workgroup, which
// dominated the small deep layers), and the second pass reads what the first left in cache.
// Writes part[3 * (c * ktot + kbase + k) + {0, 1, 2}] = (count, mean, M2) with c the tensor's channel: each
// channel's ktot partials over every box of the step, merged by batchnorm2d_finalize.
// Bindings: 0 x (read) · 1 part (write) · 2 p (uniform).

override WG: u32 = 64u;

// #include "lib/batchnorm_chunks.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wk = (wid.y * nwg.x + wid.x) * WG + lid;
  if (wk >= p.nwork) { return; }
  let ch = chunk_of(wk, p.nk, p.chunk, p.mtot);
  let w0 = walk_at(ch.m0, p.hw, p.chw, p.xo + ch.cl * p.hw);
  let wrap = p.chw - p.hw;
  var s = 0.0;
  var e = w0.e;
  var j = w0.j;
  for (var m = ch.m0; m < ch.m1; m++) {
    s += x[e];
    e++;
    j++;
    if (j == p.hw) { j = 0u; e += wrap; }
  }
  let cnt = f32(ch.m1 - ch.m0);
  let m_1 = s / cnt;
  // The corrected two-pass form: the first pass's rounding error in the mean comes back as sum d.
  var sd = 0.0;
  var q = 0.0;
  e = w0.e;
  j = w0.j;
  for (var m = ch.m0; m < ch.m1; m++) {
    let d = x[e] - m_1;
    sd += d;
    q += d * d;
    e++;
    j++;
    if (j == p.hw) { j = 0u; e += wrap; }
  }
  let o = 3u * ((p.c0 + ch.cl) * p.ktot + p.kbase + ch.k);
  part[o] = cnt;
  part[o + 1u] = m_1 + sd / cnt;
  part[o + 2u] = q - sd * sd / cnt;
}
