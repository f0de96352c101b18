// reduce — y[o * S + s] = scale * OP over j in chunk s of x[base(o) + off(j)], OP = sum (0) or max (1).
// The op layer merges contiguous dims, so the kept dims are k0..k5 (k0 implied, strides ks*) and the reduced
// dims r0..r5 (r0 implied, strides rs*) of x. Chunk s covers j in [s*chunk, min(r, (s+1)*chunk)): a long
// reduction runs in S chunks, then once more over the S partials (fixed order: deterministic, no atomics).
// One invocation per (o, s); 1-D grid folded past 65,535. Bindings: 0 x (read) · 1 y (write) · 2 p (uniform).

override WG: u32 = 64u;
override OP: u32 = 0u;

struct Params {
  total: u32, nchunks: u32, chunk: u32, r: u32, scale: f32,
  k1: u32, k2: u32, k3: u32, k4: u32, k5: u32,
  ks0: u32, ks1: u32, ks2: u32, ks3: u32, ks4: u32, ks5: u32,
  r1: u32, r2: u32, r3: u32, r4: u32, r5: u32,
  rs0: u32, rs1: u32, rs2: u32, rs3: u32, rs4: u32, rs5: u32,
}

// #include "lib/nan.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.total) { return; }
  let s = i % p.nchunks;
  var o = i / p.nchunks;
  let c5 = o % p.k5; o = o / p.k5;
  let c4 = o % p.k4; o = o / p.k4;
  let c3 = o % p.k3; o = o / p.k3;
  let c2 = o % p.k2; o = o / p.k2;
  let c1 = o % p.k1;
  let c0 = o / p.k1;
  let base = c0 * p.ks0 + c1 * p.ks1 + c2 * p.ks2 + c3 * p.ks3 + c4 * p.ks4 + c5 * p.ks5;
  let j0 = s * p.chunk;
  let j1 = min(p.r, j0 + p.chunk);
  var acc = select(0.0, -0x1.fffffep+127f, OP == 1u);
  for (var j = j0; j < j1; j++) {
    var q = j;
    let e5 = q % p.r5; q = q / p.r5;
    let e4 = q % p.r4; q = q / p.r4;
    let e3 = q % p.r3; q = q / p.r3;
    let e2 = q % p.r2; q = q / p.r2;
    let e1 = q % p.r1;
    let e0 = q / p.r1;
    let v = x[base + e0 * p.rs0 + e1 * p.rs1 + e2 * p.rs2 + e3 * p.rs3 + e4 * p.rs4 + e5 * p.rs5];
    if (OP == 1u) { acc = max_nan(acc, v); } else { acc += v; }
  }
  y[i] = acc * p.scale;
}
