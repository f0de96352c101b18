// batchnorm2d_finalize — per channel c, the statistics that normalise, and the running-statistics update.
// TRAINING: merges the channel's ktot chunk partials part[3 * (c * ktot + k) + {0, 1, 2}] = (count, mean, M2)
//   in order k = 0, 1, ... into the batch mean (r + sum n_k (mean_k - r) / M, r the first chunk's mean: the
//   differences are small, so their sum stays accurate) and M2 = sum M2_k + n_k (mean_k - mean)^2 over count M, then
//   mean[c] = batch mean, invstd[c] = 1 / sqrt(M2 / M + eps) (biased variance), and when UPDATE, in place:
//   rmean[c] = (1 - momentum) * rmean[c] + momentum * mean, rvar[c] = (1 - momentum) * rvar[c] + momentum * M2 / (M - 1).
// !TRAINING (evaluation): mean[c] = rmean[c], invstd[c] = 1 / sqrt(rvar[c] + eps); part is not read.
// One invocation per channel (grid ceil(C / WG), folded), a sequential merge: ktot is small (M / 4096 chunks) and on
// lavapipe a workgroup tree with barriers per channel cost ~0.3 ms a dispatch for this tiny work. Counts stay u32
// (exact past 2^24). Deterministic (fixed order, no atomics).
// Bindings: 0 part (read) · 1 mean (write) · 2 invstd (write) · 3 rmean (read_write, in place) · 4 rvar (in place)
// · 5 p (uniform). rmean / rvar are only read (eval) or only written when UPDATE (training).

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = (wid.y * nwg.x + wid.x) * WG + lid;
  if (c >= p.c) { return; }
  if (!TRAINING) {
    mean[c] = rmean[c];
    invstd[c] = inverseSqrt(rvar[c] + p.eps);
    return;
  }
  // Two sequential passes over the partials: the mean as the first chunk's mean plus the count-weighted mean of
  // the (small, accurately summed) differences to it, then M2 = sum of M2_k + n_k * (mean_k - mean)^2.
  let row = 3u * c * p.ktot;
  var r = 0.0;
  for (var k = 0u; k < p.ktot; k++) {
    if (part[row + 3u * k] > 0.0) {
      r = part[row + 3u * k + 1u];
      break;
    }
  }
  var n = 0u;
  var sd = 0.0;
  for (var k = 0u; k < p.ktot; k++) {
    let o = row + 3u * k;
    let nb = part[o];
    n += u32(nb);
    sd += nb * (part[o + 1u] - r);
  }
  let mu = r + sd / f32(n);
  var m2 = 0.0;
  for (var k = 0u; k < p.ktot; k++) {
    let o = row + 3u * k;
    let d = part[o + 1u] - mu;
    m2 += part[o + 2u] + part[o] * d * d;
  }
  mean[c] = mu;
  invstd[c] = inverseSqrt(m2 / f32(n) + p.eps);
  if (UPDATE) {
    rmean[c] = (1.0 - p.momentum) * rmean[c] + p.momentum * mu;
    rvar[c] = (1.0 - p.momentum) * rvar[c] + p.momentum * (m2 / f32(n - 1u));
  }
}
