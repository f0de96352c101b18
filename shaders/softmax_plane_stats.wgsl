// softmax_plane_stats — the online softmax statistics over planes, for rows too long for one binding: x viewed as
// [outer, D, inner] is visited one plane d (the inner values at one d) at a time, for a chunk of np pixels; the
// state st = [m (np), s (np), xt (np)] of the chunk holds the running max and sum of exp(x - m) of each pixel:
//   d == 0 (first = 1): m = x, s = 1;   else: m' = max(m, x), s = s * exp(m - m') + exp(x - m'), m = m'.
// GATHER (cross-entropy): xt = x where the pixel's class target t == d (0 on the first plane otherwise); t is
// tgt[toff + k] (i32, or f32 holding an integer when TGT_F32); without GATHER tgt is a dummy and xt untouched.
// One invocation per pixel k < np; x[xoff + k] is the pixel's value in plane d (x is bound as a window of the
// plane, xoff the residual offset below an aligned window start). Grid: ceil(np / WG) workgroups, 1-D folded.
// Bindings: 0 x · 1 tgt (read) · 2 st (read_write) · 3 p (uniform).

// #include "lib/class_target.wgsl"

override WG: u32 = 64u;
override GATHER: bool = false;
override TGT_F32: bool = false;

struct Params { np: u32, xoff: u32, toff: u32, d: u32, first: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> tgt: array<u32>;
@group(0) @binding(2) var<storage, read_write> st: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WG + lid;
  if (k >= p.np) { return; }
  let v = x[p.xoff + k];
  if (p.first != 0u) {
    st[k] = v;
    st[p.np + k] = 1.0;
  } else {
    let m = st[k];
    let m2 = max(m, v);
    st[p.np + k] = st[p.np + k] * exp(m - m2) + exp(v - m2);
    st[k] = m2;
  }
  if (GATHER) {
    let t = class_target(tgt[p.toff + k], TGT_F32);
    if (t == i32(p.d)) {
      st[2u * p.np + k] = v;
    } else if (p.first != 0u) {
      st[2u * p.np + k] = 0.0;
    }
  }
}
