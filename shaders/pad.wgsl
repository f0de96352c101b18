// pad — constant padding (F.pad, mode 'constant'; negative pads crop), over up to 6 merged dims:
//   y[yoff + i] = x[xbase + sum_k e_k * xs_k]  if 0 <= e_k < x_k for every k,  else value,
//   where c_0..c_5 are the output coordinates of i (dims y_1..y_5, c_0 = o0 + the rest) and e_k = c_k - b_k
//   (b_k = the pad before dim k, negative when cropping). Dim 0 is the dim the op splits launches over:
//   this launch covers output rows [o0, o0 + n / (y_1 * ... * y_5)). x_0 = 0 marks a launch whose rows have
//   no input at all (all value). xbase (i32) and yoff are relative to the bound windows (aligned below the
//   first element), so tensors over the binding limit work; xbase may be negative (rows before the window).
// Backward is the same kernel: pad(gy, -pads, 0).
// One invocation per output element; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params).

override WG: u32 = 256u;

// #include "lib/pad_params.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let c = coords6(i, p.y1, p.y2, p.y3, p.y4, p.y5);
  let c0 = c[0] + p.o0;
  let c1 = c[1];
  let c2 = c[2];
  let c3 = c[3];
  let c4 = c[4];
  let c5 = c[5];
  let e0 = i32(c0) - p.b0;
  let e1 = i32(c1) - p.b1;
  let e2 = i32(c2) - p.b2;
  let e3 = i32(c3) - p.b3;
  let e4 = i32(c4) - p.b4;
  let e5 = i32(c5) - p.b5;
  // A negative e wraps to a large u32, so one unsigned compare checks both ends.
  let inside = u32(e0) < p.x0 && u32(e1) < p.x1 && u32(e2) < p.x2 && u32(e3) < p.x3 && u32(e4) < p.x4 && u32(e5) < p.x5;
  var v = p.value;
  if (inside) {
    let k = p.xbase + e0 * i32(p.xs0) + e1 * i32(p.xs1) + e2 * i32(p.xs2) + e3 * i32(p.xs3) + e4 * i32(p.xs4) + e5 * i32(p.xs5);
    v = x[u32(k)];
  }
  y[p.yoff + i] = v;
}
