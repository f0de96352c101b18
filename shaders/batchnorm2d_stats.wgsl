// batchnorm2d_stats — per chunk of one channel: (count, mean, M2 = sum (x - mean)^2), two passes over the chunk
// (the chunk's mean first, then the squares around it: accurate however large N * H * W grows).
// x is NCHW-contiguous [N, C, HW] (HW = 1 for [N, C]). A dispatch covers a box of nb items x cb channels starting
// at (n0, c0), bound as one window that starts at an aligned offset (xo = residual element offset of (n0, c0));
// the box is all channels of nb items, or cb channels of one item, so the window is contiguous.
// Channel c of the box is the sequence m = n * HW + j (n < nb, j < HW) at x[xo + (m / hw) * chw + (c - c0) * hw + m % hw];
// chunk k covers m in [k * chunk, min(mtot, (k + 1) * chunk)) with mtot = nb * HW.
// One workgroup per (box channel, chunk): nwork = cb * nk workgroups, 1-D grid folded past 65,535. The WG threads
// stride the chunk, then reduce in a fixed-order tree in workgroup memory (deterministic, no atomics).
// Writes part[3 * (c * ktot + kbase + k) + {0, 1, 2}] = (count, mean, M2) with c the tensor's channel: each
// channel's ktot partials over every box of the step, merged by batchnorm2d_finalize.
// Bindings: 0 x (read) · 1 part (write) · 2 p (uniform). WG is a power of two.

override WG: u32 = 64u;

struct Params { nwork: u32, nk: u32, chunk: u32, mtot: u32, hw: u32, chw: u32, c0: u32, ktot: u32, kbase: u32, xo: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

fn wg_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wk = wid.y * nwg.x + wid.x;
  if (wk >= p.nwork) { return; }
  let cl = wk / p.nk;
  let k = wk - cl * p.nk;
  let m0 = k * p.chunk;
  let m1 = min(p.mtot, m0 + p.chunk);
  let base = p.xo + cl * p.hw;
  var s = 0.0;
  for (var m = m0 + lid; m < m1; m += WG) {
    let n = m / p.hw;
    s += x[base + n * p.chw + (m - n * p.hw)];
  }
  let cnt = f32(m1 - m0);
  let mean = wg_sum(lid, s) / cnt;
  var q = 0.0;
  for (var m = m0 + lid; m < m1; m += WG) {
    let n = m / p.hw;
    let d = x[base + n * p.chw + (m - n * p.hw)] - mean;
    q += d * d;
  }
  let m2 = wg_sum(lid, q);
  if (lid == 0u) {
    let o = 3u * ((p.c0 + cl) * p.ktot + p.kbase + k);
    part[o] = cnt;
    part[o + 1u] = mean;
    part[o + 2u] = m2;
  }
}
