// lib/subgroup_quad.wgsl — the inner step of the kernels that share weights through the subgroup over blocks of 8
// input channels (winograd_gemm, conv2d_fwd_k2s2): lane j of the subgroup holds the weight quad (4 output channels)
// of input channel j of the block; `quad` broadcasts the 8 quads and adds the block's 8 products, summed first, to 4
// accumulators, each a vec4 over 4 pixels or tiles (written once per block: a loop-carried write costs a blend, and
// often a spill, on lavapipe). Call it in uniform control flow (subgroupBroadcast). It enables subgroups, so a kernel
// includes it before any declaration.

enable subgroups;

// One vec4 (4 pixels or tiles) of each of 8 input channels.
struct V8 { v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f, v4: vec4f, v5: vec4f, v6: vec4f, v7: vec4f }

// acc[a0 + c] += sum over j < 8 of x.vj * (lane j's uq)[c], c < 4.
fn quad(acc: ptr<function, array<vec4f, 32>>, a0: u32, uq: vec4f, x: V8) {
  let a0_ = subgroupBroadcast(uq, 0u); let a1 = subgroupBroadcast(uq, 1u);
  let a2 = subgroupBroadcast(uq, 2u); let a3 = subgroupBroadcast(uq, 3u);
  let a4 = subgroupBroadcast(uq, 4u); let a5 = subgroupBroadcast(uq, 5u);
  let a6 = subgroupBroadcast(uq, 6u); let a7 = subgroupBroadcast(uq, 7u);
  (*acc)[a0] += x.v0 * a0_.x + x.v1 * a1.x + x.v2 * a2.x + x.v3 * a3.x + x.v4 * a4.x + x.v5 * a5.x + x.v6 * a6.x + x.v7 * a7.x;
  (*acc)[a0 + 1u] += x.v0 * a0_.y + x.v1 * a1.y + x.v2 * a2.y + x.v3 * a3.y + x.v4 * a4.y + x.v5 * a5.y + x.v6 * a6.y + x.v7 * a7.y;
  (*acc)[a0 + 2u] += x.v0 * a0_.z + x.v1 * a1.z + x.v2 * a2.z + x.v3 * a3.z + x.v4 * a4.z + x.v5 * a5.z + x.v6 * a6.z + x.v7 * a7.z;
  (*acc)[a0 + 3u] += x.v0 * a0_.w + x.v1 * a1.w + x.v2 * a2.w + x.v3 * a3.w + x.v4 * a4.w + x.v5 * a5.w + x.v6 * a6.w + x.v7 * a7.w;
}
