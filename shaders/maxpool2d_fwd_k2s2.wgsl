// maxpool2d_fwd_k2s2 — maxpool2d_fwd (same contract, params and bindings: see shaders/maxpool2d_fwd.wgsl) for the
// U-Net's 2x2 stride-2 pooling without padding or dilation on rows a multiple of 8 wide: one invocation per 4
// consecutive outputs of a row reads its window rows as 2 vec4 each and writes y (and idx) as one vec4 each: 6
// storage accesses for 4 outputs instead of 24 (on lavapipe every storage access is a per-lane loop).
// Scan order and rule as maxpool2d_fwd: taps (0, 0), (0, 1), (1, 0), (1, 1); the first starts the max, a later one
// replaces it when strictly greater (ties keep the first) or NaN (tested on the bits). In ceil mode with an odd H the
// last output row's windows have one input row.
// Assumes (the op checks): kh = kw = sh = sw = 2, ph = pw = 0, dh = dw = 1; w a multiple of 8 (so ow = w / 2 in
// either mode, a multiple of 4); xo and yo multiples of 4 (they are: every plane is a multiple of 4 elements).
// Grid: total / 4 invocations (output quads of the block's planes), 1-D folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 idx (write, i32; not touched when !INDICES) · 3 p (uniform), as vec4.

override WG: u32 = 64u;
override INDICES: bool = true;

// #include "lib/maxpool2d_params.wgsl"
// #include "lib/nan.wgsl"

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> idx: array<vec4i>;
@group(0) @binding(3) var<uniform> p: Params;

// Tap v (flat indices j) of 4 windows against their running max m and argmax mi.
fn take(m: ptr<function, vec4f>, mi: ptr<function, vec4i>, v: vec4f, j: vec4i) {
  let t = (v > *m) | is_nan4(v);
  *m = select(*m, v, t);
  *mi = select(*mi, j, t);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.total / 4u) { return; }
  let ow4 = p.ow / 4u;
  let ohw4 = p.oh * ow4;
  let q = i / ohw4;
  let r = i - q * ohw4;
  let oy = r / ow4;
  let jq = r - oy * ow4;
  let iy = 2u * oy;
  let w4 = p.w / 4u;
  // Row iy, columns 8*jq .. 8*jq + 7: window k takes columns 8*jq + 2k (kx = 0) and + 1 (kx = 1).
  let r0 = (p.xo + q * p.h * p.w) / 4u + iy * w4 + 2u * jq;
  let a = x[r0];
  let b = x[r0 + 1u];
  let j0 = vec4i(i32(iy * p.w + 8u * jq)) + vec4i(0, 2, 4, 6);
  var m = vec4f(a.xz, b.xz);
  var mi = j0;
  take(&m, &mi, vec4f(a.yw, b.yw), j0 + vec4i(1));
  if (iy + 1u < p.h) {
    let c = x[r0 + w4];
    let d = x[r0 + w4 + 1u];
    let j1 = j0 + vec4i(i32(p.w));
    take(&m, &mi, vec4f(c.xz, d.xz), j1);
    take(&m, &mi, vec4f(c.yw, d.yw), j1 + vec4i(1));
  }
  let o = p.yo / 4u + i;
  y[o] = m;
  if (INDICES) { idx[o] = mi; }
}
