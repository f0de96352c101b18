// loss_reduce — the last, fixed-order step of every loss reduction: sums[g] = sum_{j < J} part[g * J + j] for the
// G groups of partial sums written by a loss forward kernel (invocation lid adds j = lid, lid + WG, ... in order,
// then a tree in workgroup memory: deterministic, no atomics), then the loss value by MODE:
//   0: y[0] = scale * sums[0]                                  (sum / mean of elementwise losses)
//   1: y[0] = sums[0] / sums[1]                                (weighted mean: cross-entropy 'mean')
//   2: y[0] = scale * sum_c v_c,  3: y[c] = v_c  (c < C),  v_c = 1 - (2 sums[c] + smooth) / (sums[C + c] +
//      sums[2C + c] + smooth)                                  (soft Dice from [I, P, T] per class)
// sums (all G) is kept for backward. One workgroup does everything (G and J are small: J = numel / (WG * K) of
// the forward). Grid: [1]. Bindings: 0 part (read) · 1 y · 2 sums (write) · 3 p (uniform). WG is a power of two.

override WG: u32 = 64u;
override MODE: u32 = 0u;

struct Params { G: u32, J: u32, C: u32, scale: f32, smoothing: f32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> sh: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var g = 0u; g < p.G; g++) {
    var acc = 0.0;
    for (var j = lid; j < p.J; j += WG) { acc += part[g * p.J + j]; }
    sh[lid] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (lid < s) { sh[lid] += sh[lid + s]; }
      workgroupBarrier();
    }
    if (lid == 0u) { sums[g] = sh[0]; }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  if (MODE == 0u) {
    y[0] = p.scale * sums[0];
  } else if (MODE == 1u) {
    y[0] = sums[0] / sums[1];
  } else {
    var acc = 0.0;
    for (var c = 0u; c < p.C; c++) {
      let v = 1.0 - (2.0 * sums[c] + p.smoothing) / (sums[p.C + c] + sums[2u * p.C + c] + p.smoothing);
      if (MODE == 3u) { y[c] = v; } else { acc += v; }
    }
    if (MODE == 2u) { y[0] = p.scale * acc; }
  }
}
