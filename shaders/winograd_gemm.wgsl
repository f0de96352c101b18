// winograd_gemm — the 36 products of Winograd F(4x4, 3x3): m[e][co][t] (+)= sum over ci < cin of u[e][u_ci0 + ci][co] *
// v[e][ci][t] for e < 36, co < cp (a multiple of 8; u's pad columns are zeros) and tiles t < t4*4; with ACCUMULATE (a
// later block of input channels) m is added to.
// Layout: u as vec4 over output channels, u4[(e*u_cin + u_ci0 + ci)*cp/4 + co/4] (winograd_weight); v and m as vec4 over 4
// consecutive tiles, v4[(e*cin + ci)*t4 + t/4] (winograd_input), m4[(e*cp + co)*t4 + t/4] (winograd_output reads it).
// Why this shape (lavapipe, Mesa 25.0.7: every storage load is a per-lane scalar loop, vec4 loads share its cost over 4
// floats): one invocation = 4 tiles (one vec4 of v per input channel) x CO output channels (8, 16 or 32), CO vec4
// accumulators. Lane l of the subgroup loads the block's output channels' u of input channel ci0 + l%8 (CO/4 vec4) and
// the subgroup shares them with subgroupBroadcast(., j), j = 0..7, so u costs CO/4 loads per lane per 8 input channels
// and each v load feeds CO/4 x 8 vec4 products (the loads, per-lane loops on lavapipe, are what costs: a wider CO
// spills accumulators to the stack, which is cheap beside them). Each accumulator takes a block's 8 products summed
// first (written once per block). Summation order differs from a plain loop over ci.
// Grid: one workgroup of WG lanes = one (e, block of CO output channels, run of WG tile quads), 1-D over
// 36 * ceil(cp/CO) * ceil(t4/WG) with the channel block fastest (neighbouring workgroups reuse the same v), folded past
// 65,535. Lanes past t4 compute on a clamped quad and store nothing; channel quads past cp are neither loaded nor stored.
// Bindings: 0 u (read) · 1 v (read) · 2 m (write) · 3 p (uniform Params).
// Assumes the subgroup size is >= 8 and WG is a multiple of it or at most it (WG = the adapter's subgroup size).
// #include "lib/subgroup_quad.wgsl"

override WG: u32 = 8u;
// Output channels per invocation: 8, 16 or 32.
override CO: u32 = 8u;
override ACCUMULATE: bool = false;

struct Params { cin: u32, cp: u32, t4: u32, u_cin: u32, u_ci0: u32 }

@group(0) @binding(0) var<storage, read> u: array<vec4f>;
@group(0) @binding(1) var<storage, read> v: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> m: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

// One block of nv <= 8 input channels from ci0: lane l loads u of channel ci0 + l%8 (zeros past nv), v of every channel.
// nq: the block's output-channel quads inside cp (uniform); quads past it are skipped.
fn block(acc: ptr<function, array<vec4f, 32>>, e: u32, ci0: u32, nv: u32, cq: u32, nq: u32, tq: u32, l8: u32) {
  let ui = (e * p.u_cin + p.u_ci0 + ci0 + min(l8, nv - 1u)) * (p.cp / 4u) + cq;
  let ok = l8 < nv;
  let vb = (e * p.cin + ci0) * p.t4 + tq;
  let x = V8(v[vb], v[vb + min(1u, nv - 1u) * p.t4], v[vb + min(2u, nv - 1u) * p.t4], v[vb + min(3u, nv - 1u) * p.t4],
             v[vb + min(4u, nv - 1u) * p.t4], v[vb + min(5u, nv - 1u) * p.t4], v[vb + min(6u, nv - 1u) * p.t4],
             v[vb + min(7u, nv - 1u) * p.t4]);
  quad(acc, 0u, select(vec4f(0.0), u[ui], ok), x);
  quad(acc, 4u, select(vec4f(0.0), u[ui + 1u], ok), x);
  if (CO >= 16u && nq > 2u) {
    quad(acc, 8u, select(vec4f(0.0), u[ui + 2u], ok), x);
    quad(acc, 12u, select(vec4f(0.0), u[ui + 3u], ok), x);
  }
  if (CO >= 32u && nq > 4u) {
    quad(acc, 16u, select(vec4f(0.0), u[ui + 4u], ok), x);
    quad(acc, 20u, select(vec4f(0.0), u[ui + 5u], ok), x);
    quad(acc, 24u, select(vec4f(0.0), u[ui + 6u], ok), x);
    quad(acc, 28u, select(vec4f(0.0), u[ui + 7u], ok), x);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let wi = wid.y * nwg.x + wid.x;
  let ntb = (p.t4 + WG - 1u) / WG;
  let ncb = (p.cp + CO - 1u) / CO;
  // Uniform across the workgroup: returning here keeps every later broadcast in uniform control flow.
  if (wi >= 36u * ncb * ntb) { return; }
  let cb = wi % ncb;
  let rest = wi / ncb;
  let tb = rest % ntb;
  let e = rest / ntb;
  let tq0 = tb * WG + lid;
  let tq = min(tq0, p.t4 - 1u);
  let cq = cb * (CO / 4u);
  // Quads of this block inside cp (cp is a multiple of 8: always 2, 4 or 8 here, uniform).
  let nq = min(CO, p.cp - cb * CO) / 4u;
  let l8 = sid & 7u;

  var acc: array<vec4f, 32>;
  let nfull = p.cin & ~7u;
  var ci0 = 0u;
  for (; ci0 < nfull; ci0 += 8u) {
    block(&acc, e, ci0, 8u, cq, nq, tq, l8);
  }
  if (ci0 < p.cin) {
    block(&acc, e, ci0, p.cin - ci0, cq, nq, tq, l8);
  }
  if (tq0 < p.t4) {
    let mb = (e * p.cp + cb * CO) * p.t4 + tq0;
    for (var j = 0u; j < nq * 4u; j++) {
      let o = mb + j * p.t4;
      if (ACCUMULATE) {
        m[o] = m[o] + acc[j];
      } else {
        m[o] = acc[j];
      }
    }
  }
}
