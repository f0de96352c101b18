// batchnorm2d_finalize — per channel c, the statistics that normalise, and the running-statistics update.
// TRAINING: merges the channel's ktot chunk partials part[3 * (c * ktot + k) + {0, 1, 2}] = (count, mean, M2)
//   (Chan et al.'s pairwise update) into the batch mean and M2 over count M, then
//   mean[c] = batch mean, invstd[c] = 1 / sqrt(M2 / M + eps) (biased variance), and when UPDATE, in place:
//   rmean[c] = (1 - momentum) * rmean[c] + momentum * mean, rvar[c] = (1 - momentum) * rvar[c] + momentum * M2 / (M - 1).
// !TRAINING (evaluation): mean[c] = rmean[c], invstd[c] = 1 / sqrt(rvar[c] + eps); part is not read.
// One workgroup per channel (grid C, folded): thread t merges partials t, t + WG, ... in order, then a fixed-order
// tree in workgroup memory merges the threads (deterministic, no atomics). Counts stay u32 (exact past 2^24).
// Bindings: 0 part (read) · 1 mean (write) · 2 invstd (write) · 3 rmean (read_write, in place) · 4 rvar (in place)
// · 5 p (uniform). rmean / rvar are only read (eval) or only written when UPDATE (training). WG is a power of two.

override WG: u32 = 64u;
override TRAINING: bool = true;
override UPDATE: bool = true;

struct Params { c: u32, ktot: u32, eps: f32, momentum: f32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> invstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> rmean: array<f32>;
@group(0) @binding(4) var<storage, read_write> rvar: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

struct Acc { n: u32, mu: f32, m2: f32 }

var<workgroup> wn: array<u32, WG>;
var<workgroup> wmu: array<f32, WG>;
var<workgroup> wm2: array<f32, WG>;

fn merge(a: Acc, b: Acc) -> Acc {
  if (b.n == 0u) { return a; }
  if (a.n == 0u) { return b; }
  let n = a.n + b.n;
  let fb = f32(b.n) / f32(n);
  let d = b.mu - a.mu;
  return Acc(n, a.mu + d * fb, a.m2 + b.m2 + d * d * f32(a.n) * fb);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.y * nwg.x + wid.x;
  if (c >= p.c) { return; }
  if (!TRAINING) {
    if (lid == 0u) {
      mean[c] = rmean[c];
      invstd[c] = inverseSqrt(rvar[c] + p.eps);
    }
    return;
  }
  var acc = Acc(0u, 0.0, 0.0);
  for (var k = lid; k < p.ktot; k += WG) {
    let o = 3u * (c * p.ktot + k);
    acc = merge(acc, Acc(u32(part[o]), part[o + 1u], part[o + 2u]));
  }
  wn[lid] = acc.n;
  wmu[lid] = acc.mu;
  wm2[lid] = acc.m2;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let r = merge(Acc(wn[lid], wmu[lid], wm2[lid]), Acc(wn[lid + s], wmu[lid + s], wm2[lid + s]));
      wn[lid] = r.n;
      wmu[lid] = r.mu;
      wm2[lid] = r.m2;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let n = wn[0];
    let mu = wmu[0];
    let m2 = wm2[0];
    mean[c] = mu;
    invstd[c] = inverseSqrt(m2 / f32(n) + p.eps);
    if (UPDATE) {
      rmean[c] = (1.0 - p.momentum) * rmean[c] + p.momentum * mu;
      rvar[c] = (1.0 - p.momentum) * rvar[c] + p.momentum * (m2 / f32(n - 1u));
    }
  }
}
