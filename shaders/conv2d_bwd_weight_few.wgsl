// conv2d_bwd_weight_few — conv2d_bwd_weight's contract (same params and partials; g and x bound as vec4) for 3x3 taps
// at stride 1, dilation 1, where x has few channels (the U-Net's first layer: one):
//   part[s, a_base + a, b_base + b, ky, kx] = sum over rows r in slice s (r = n*gh + oy, r < n*gh) and ox < gw of
//     g[n, a, oy, ox] * x[n, b, oy - ph + ky, ox - pw + kx]   (x is zero outside [0, xh) x [0, xw)).
// Why: conv2d_bwd_weight_sg puts its lanes over x channels; with one x channel 7 of its 8 lanes compute padding. Here
// the lanes run over quads of 4 consecutive g pixels of the slice's rows instead: per quad a lane loads 8 vec4 of g
// (8 g channels) and, per tap row, the 3 aligned vec4 of x that hold the 6 columns its 3 taps meet, 17 loads for
// 8 x 9 x 4 = 288 multiply-adds; then the subgroup sums its lanes (subgroupAdd) and lane k writes g channel a0 + k.
// One workgroup (one subgroup of WG lanes): one slice x one block of 8 g channels x one x channel, 1-D over
// nslices * ceil(a/8) * b (x channel fastest), folded past 65,535. Accumulators acc[k*9 + ky*3 + kx], a vec4 over the
// quad's pixels. Summation: per lane its quads in order (each a vec4 of 4 products), the 4 components, then the
// subgroup's lanes: not the reference's order (tolerance as for a sum of rows*gw terms).
// Bindings: 0 g · 1 x (read, as vec4) · 2 part (write) · 3 p (uniform Params), as conv2d_bwd_weight.
// Assumes (the launcher checks): kh = kw = 3, sh = sw = 1, dh = dw = 1; gw and xw multiples of 4, g_off, g_ns, x_off
// and x_ns multiples of 4; SHIFT = (-pw) mod 4; WG = the adapter's subgroup size, at least 8.

enable subgroups;

override WG: u32 = 8u;
// (-pw) mod 4: where a quad's first x column (ox0 - pw) sits in its vec4.
override SHIFT: u32 = 3u;

// #include "lib/conv2d_bwd_weight_params.wgsl"

@group(0) @binding(0) var<storage, read> g: array<vec4f>;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;

alias Acc = array<vec4f, 72>;

// The 3 tap columns of x row iy for the quad at g columns ox0 .. ox0 + 3: xs[kx] = x[iy, ox0 - pw + kx + j], j < 4
// (zero outside x), from the 3 aligned vec4 from column ox0 - pw - SHIFT.
fn xrow(plane: u32, iy: i32, ox0: u32) -> array<vec4f, 3> {
  let inside = iy >= 0 && iy < i32(p.xh);
  let w4 = i32(p.xw / 4u);
  let q0 = (i32(ox0) - p.pw - i32(SHIFT)) / 4;
  let rb = (plane + u32(clamp(iy, 0, i32(p.xh) - 1)) * p.xw) / 4u;
  var c: array<f32, 12>;
  for (var q = 0u; q < 3u; q++) {
    let qx = q0 + i32(q);
    let f = select(vec4f(0.0), x[rb + u32(clamp(qx, 0, w4 - 1))], inside && qx >= 0 && qx < w4);
    c[4u * q] = f.x; c[4u * q + 1u] = f.y; c[4u * q + 2u] = f.z; c[4u * q + 3u] = f.w;
  }
  var xs: array<vec4f, 3>;
  for (var kx = 0u; kx < 3u; kx++) {
    xs[kx] = vec4f(c[SHIFT + kx], c[SHIFT + kx + 1u], c[SHIFT + kx + 2u], c[SHIFT + kx + 3u]);
  }
  return xs;
}

// acc[k*9 + ky*3 + kx] += gk * xs[kx] for the 3 taps of tap row ky (k, ky constants at every call).
fn taps(acc: ptr<function, Acc>, o: u32, gk: vec4f, xs: array<vec4f, 3>) {
  (*acc)[o] += gk * xs[0];
  (*acc)[o + 1u] += gk * xs[1];
  (*acc)[o + 2u] += gk * xs[2];
}

// Tap row ky of the block's 8 channels. Written out, not looped: with constant indices the accumulators are not an
// indexed private array (which lavapipe keeps in memory).
fn tap_row(acc: ptr<function, Acc>, ky: u32, gv: array<vec4f, 8>, xs: array<vec4f, 3>) {
  taps(acc, ky * 3u, gv[0], xs); taps(acc, 9u + ky * 3u, gv[1], xs);
  taps(acc, 18u + ky * 3u, gv[2], xs); taps(acc, 27u + ky * 3u, gv[3], xs);
  taps(acc, 36u + ky * 3u, gv[4], xs); taps(acc, 45u + ky * 3u, gv[5], xs);
  taps(acc, 54u + ky * 3u, gv[6], xs); taps(acc, 63u + ky * 3u, gv[7], xs);
}

// The subgroup's sums of channel a0 + k's 9 taps, written by lane k (k constant at every call).
fn emit(acc: ptr<function, Acc>, k: u32, sid: u32, ok: bool, o: u32) {
  for (var t = 0u; t < 9u; t++) {
    let v = subgroupAdd(dot((*acc)[k * 9u + t], vec4f(1.0)));
    if (sid == k && ok) { part[o + t] = v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let wi = wid.y * nwg.x + wid.x;
  let nab = (p.a + 7u) / 8u;
  // Uniform across the workgroup: returning here keeps the subgroup sums in uniform control flow.
  if (wi >= p.nslices * nab * p.b) { return; }
  let bi = wi % p.b;
  let ab = (wi / p.b) % nab;
  let s = wi / (p.b * nab);
  let a0 = ab * 8u;
  let r0 = s * p.rows;
  let r1 = min(r0 + p.rows, p.n * p.gh);
  let qpr = p.gw / 4u;
  let nq = (r1 - r0) * qpr;
  let ghw = p.gh * p.gw;

  var acc: Acc;
  // Lane lid's quads: i = lid, lid + WG, ... of the slice's, walked as (item nI, row oy, quad j) without a division per
  // quad (lavapipe has no vector integer division: each is a per-lane loop).
  let r = r0 + lid / qpr;
  var j = lid % qpr;
  var oy = r % p.gh;
  var nI = r / p.gh;
  for (var i = lid; i < nq; i += WG) {
    let ox0 = j * 4u;
    // g of the block's 8 channels (channels past a re-read channel a - 1 and count as zeros).
    let gb = p.g_off + nI * p.g_ns + oy * p.gw + ox0;
    var gv: array<vec4f, 8>;
    for (var k = 0u; k < 8u; k++) {
      gv[k] = select(vec4f(0.0), g[(gb + min(a0 + k, p.a - 1u) * ghw) / 4u], a0 + k < p.a);
    }
    let plane = p.x_off + nI * p.x_ns + bi * p.xh * p.xw;
    let iy = i32(oy) - p.ph;
    tap_row(&acc, 0u, gv, xrow(plane, iy, ox0));
    tap_row(&acc, 1u, gv, xrow(plane, iy + 1, ox0));
    tap_row(&acc, 2u, gv, xrow(plane, iy + 2, ox0));
    j += WG;
    while (j >= qpr) {
      j -= qpr;
      oy += 1u;
      if (oy == p.gh) { oy = 0u; nI += 1u; }
    }
  }
  // The subgroup's sums; lane k writes g channel a0 + k's 9 taps.
  let ob = ((s * p.a_tot + p.a_base + a0) * p.b_tot + p.b_base + bi) * 9u;
  let ks = p.b_tot * 9u;
  emit(&acc, 0u, sid, a0 < p.a, ob); emit(&acc, 1u, sid, a0 + 1u < p.a, ob + ks);
  emit(&acc, 2u, sid, a0 + 2u < p.a, ob + 2u * ks); emit(&acc, 3u, sid, a0 + 3u < p.a, ob + 3u * ks);
  emit(&acc, 4u, sid, a0 + 4u < p.a, ob + 4u * ks); emit(&acc, 5u, sid, a0 + 5u < p.a, ob + 5u * ks);
  emit(&acc, 6u, sid, a0 + 6u < p.a, ob + 6u * ks); emit(&acc, 7u, sid, a0 + 7u < p.a, ob + 7u * ks);
}
