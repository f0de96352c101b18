// conv2d_bwd_weight_k2s2 — conv2d_bwd_weight's contract (same params, bindings and partials) for 2x2 taps at stride 2,
// no padding, dilation 1 (the U-Net up-conv's weight gradient, whose g is the up-conv's input and x its output
// gradient, and a 2x2 stride-2 conv's): each g pixel meets the 2x2 block of x at (2*oy, 2*ox), so
//   part[s, a_base + a, b_base + b, ky, kx] = sum over rows r in slice s (r = n*gh + oy, r < n*gh) and ox < gw of
//     g[n, a, oy, ox] * x[n, b, 2*oy + ky, 2*ox + kx].
// Why: conv2d_bwd_weight_sg's 2x2 path loads g and x by element (20 loads per 4 pixels, 8 a x 4 taps each); on
// lavapipe every storage load is a per-lane scalar loop and a vec4 costs about what a scalar does, so here a lane
// loads its 4 g pixels as one vec4 and the 2 x 8 x values they meet as 4 vec4: 5 loads (AB = 8) or 6 (AB = 16) per
// 4 pixels for AB a x 4 taps x 4 pixels multiply-adds. The g pixels go to the other lanes by subgroupBroadcast.
// One workgroup: one slice, one block of AB g channels a0.., WG x channels. Lane l: x channel b = bb*WG + l, loads g
// of channel a0 + l%8 (and a0 + 8 + l%8 when AB = 16); accumulator k holds channel a0 + k's 4 taps (ky*2 + kx order,
// the partials' order) as one vec4, stored as one vec4.
// Summation: per (a, b, tap), pixels in groups of 4 (rows in order, groups along a row in order), each group's 4
// products added left to right, then to the running sum from 0: not the reference's order (tolerance as for a sum of
// rows*gw terms).
// Grid: 1-D over nslices * ceil(a/AB) * ceil(b/WG) workgroups (x block fastest), folded past 65,535.
// Bindings: 0 g · 1 x (read, as vec4) · 2 part (write, as vec4) · 3 p (uniform Params), as conv2d_bwd_weight.
// Assumes (the launcher checks): kh = kw = sh = sw = 2, ph = pw = 0, dh = dw = 1, xh >= 2*gh, xw >= 2*gw; gw, xw,
// g_off, g_ns, x_off, x_ns multiples of 4; subgroups of at least 8 invocations made of consecutive local invocation
// indices, WG a multiple of 8 or at most the subgroup size (WG = the adapter's subgroup size). Lanes past the channels
// load clamped values and still take part in the broadcasts; only their stores are masked.

enable subgroups;

override WG: u32 = 8u;
// g channels per workgroup: 8 or 16.
override AB: u32 = 8u;

// #include "lib/conv2d_bwd_weight_params.wgsl"

@group(0) @binding(0) var<storage, read> g: array<vec4f>;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> part: array<vec4f>;

// The 4 taps of each of 4 pixels: t[q] = (x[2oy][2q], x[2oy][2q + 1], x[2oy + 1][2q], x[2oy + 1][2q + 1]) of the 8
// columns r0a, r0b (row 2*oy) and r1a, r1b (row 2*oy + 1).
struct Taps4 { t0: vec4f, t1: vec4f, t2: vec4f, t3: vec4f }

fn taps4(r0a: vec4f, r0b: vec4f, r1a: vec4f, r1b: vec4f) -> Taps4 {
  return Taps4(vec4f(r0a.xy, r1a.xy), vec4f(r0a.zw, r1a.zw), vec4f(r0b.xy, r1b.xy), vec4f(r0b.zw, r1b.zw));
}

// acc[k] += sum over pixels q of (lane k's g pixels)[q] * t[q], for the 8 channels of one g load (k from c0).
// Written out, not looped: with constant indices the accumulators stay in registers.
fn mac8(acc: ptr<function, array<vec4f, 16>>, c0: u32, gv: vec4f, t: Taps4) {
  let g0 = subgroupBroadcast(gv, 0u); let g1 = subgroupBroadcast(gv, 1u);
  let g2 = subgroupBroadcast(gv, 2u); let g3 = subgroupBroadcast(gv, 3u);
  let g4 = subgroupBroadcast(gv, 4u); let g5 = subgroupBroadcast(gv, 5u);
  let g6 = subgroupBroadcast(gv, 6u); let g7 = subgroupBroadcast(gv, 7u);
  (*acc)[c0] += g0.x * t.t0 + g0.y * t.t1 + g0.z * t.t2 + g0.w * t.t3;
  (*acc)[c0 + 1u] += g1.x * t.t0 + g1.y * t.t1 + g1.z * t.t2 + g1.w * t.t3;
  (*acc)[c0 + 2u] += g2.x * t.t0 + g2.y * t.t1 + g2.z * t.t2 + g2.w * t.t3;
  (*acc)[c0 + 3u] += g3.x * t.t0 + g3.y * t.t1 + g3.z * t.t2 + g3.w * t.t3;
  (*acc)[c0 + 4u] += g4.x * t.t0 + g4.y * t.t1 + g4.z * t.t2 + g4.w * t.t3;
  (*acc)[c0 + 5u] += g5.x * t.t0 + g5.y * t.t1 + g5.z * t.t2 + g5.w * t.t3;
  (*acc)[c0 + 6u] += g6.x * t.t0 + g6.y * t.t1 + g6.z * t.t2 + g6.w * t.t3;
  (*acc)[c0 + 7u] += g7.x * t.t0 + g7.y * t.t1 + g7.z * t.t2 + g7.w * t.t3;
}

// Channels a0 + c0 .. a0 + c0 + 7 inside a, at vec4 index base of channel a0 (written out: constant indices).
fn store8(acc: ptr<function, array<vec4f, 16>>, c0: u32, a0: u32, base: u32) {
  if (a0 + c0 < p.a) { part[base + c0 * p.b_tot] = (*acc)[c0]; }
  if (a0 + c0 + 1u < p.a) { part[base + (c0 + 1u) * p.b_tot] = (*acc)[c0 + 1u]; }
  if (a0 + c0 + 2u < p.a) { part[base + (c0 + 2u) * p.b_tot] = (*acc)[c0 + 2u]; }
  if (a0 + c0 + 3u < p.a) { part[base + (c0 + 3u) * p.b_tot] = (*acc)[c0 + 3u]; }
  if (a0 + c0 + 4u < p.a) { part[base + (c0 + 4u) * p.b_tot] = (*acc)[c0 + 4u]; }
  if (a0 + c0 + 5u < p.a) { part[base + (c0 + 5u) * p.b_tot] = (*acc)[c0 + 5u]; }
  if (a0 + c0 + 6u < p.a) { part[base + (c0 + 6u) * p.b_tot] = (*acc)[c0 + 6u]; }
  if (a0 + c0 + 7u < p.a) { part[base + (c0 + 7u) * p.b_tot] = (*acc)[c0 + 7u]; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  // Everything but the x channel is uniform over the workgroup (so is this return).
  let wg = wid.y * nwg.x + wid.x;
  let nbb = (p.b + WG - 1u) / WG;
  let nab = (p.a + AB - 1u) / AB;
  if (wg >= p.nslices * nbb * nab) { return; }
  let bb = wg % nbb;
  let ab = (wg / nbb) % nab;
  let s = wg / (nbb * nab);
  let a0 = ab * AB;
  let b = bb * WG + lid;
  let l8 = sid & 7u;

  // In vec4 units: this lane's g planes (channels a0 + l8, a0 + 8 + l8, clamped) and x plane (channel b, clamped).
  let ghw4 = p.gh * p.gw / 4u;
  let gw4 = p.gw / 4u;
  let xw4 = p.xw / 4u;
  let gc0 = min(a0 + l8, p.a - 1u) * ghw4;
  let gc1 = min(a0 + 8u + l8, p.a - 1u) * ghw4;
  let xc = min(b, p.b - 1u) * (p.xh * xw4);

  let r0 = s * p.rows;
  let r1 = min(p.n * p.gh, r0 + p.rows);
  var nn = r0 / p.gh;
  var oy = r0 % p.gh;
  var q = 0u;
  // Row starts: g row oy of item nn, x row 2*oy of item nn (vec4 units, channel 0).
  var gr = (p.g_off + nn * p.g_ns) / 4u + oy * gw4;
  var xr = (p.x_off + nn * p.x_ns) / 4u + 2u * oy * xw4;
  var acc: array<vec4f, 16>;
  let groups = (r1 - r0) * gw4;
  for (var gi = 0u; gi < groups; gi++) {
    let xi = xc + xr + 2u * q;
    let t = taps4(x[xi], x[xi + 1u], x[xi + xw4], x[xi + xw4 + 1u]);
    mac8(&acc, 0u, g[gc0 + gr + q], t);
    if (AB >= 16u) { mac8(&acc, 8u, g[gc1 + gr + q], t); }
    q++;
    if (q == gw4) {
      q = 0u;
      oy++;
      if (oy == p.gh) {
        oy = 0u;
        nn++;
      }
      gr = (p.g_off + nn * p.g_ns) / 4u + oy * gw4;
      xr = (p.x_off + nn * p.x_ns) / 4u + 2u * oy * xw4;
    }
  }

  if (b >= p.b) { return; }
  let base = (s * p.a_tot + p.a_base + a0) * p.b_tot + p.b_base + b;
  store8(&acc, 0u, a0, base);
  if (AB >= 16u) { store8(&acc, 8u, a0, base); }
}
