// lab_peak_fma — the kernel lab's arithmetic-throughput probe (src/kernels/lab.ts): many independent multiply-add
// chains per invocation, so the measured rate is what this adapter's ALUs sustain, not memory or latency.
//   VEC4:  6 vec4 chains a_k (k < 6), a_k starts at x[i] + (4k + j) / 32 in lane j;
//   !VEC4: 12 f32 chains a_k (k < 12), a_k starts at x[i] + k / 8;
//   iters times: each chain does 4 dependent steps a = fma(a, m, c); y[i] = the sum of every lane of every chain
//   (chains in order, then lanes x, y, z, w), so no step can be optimised away.
// Flops per invocation: 2 * 4 * iters * 24 (VEC4) or 2 * 4 * iters * 12. With 0 < m < 1 the chains contract
// towards c / (1 - m): values stay finite and rounding differences (fused or not) do not grow.
// One invocation per i < n; 1-D grid over ceil(n / WG) workgroups, folded past 65,535 (wid.y * nwg.x + wid.x).
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params).

override WG: u32 = 64u;
override VEC4: bool = true;

struct Params { n: u32, iters: u32, m: f32, c: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn step4(a: vec4f, m: vec4f, c: vec4f) -> vec4f {
  return fma(fma(fma(fma(a, m, c), m, c), m, c), m, c);
}

fn step1(a: f32, m: f32, c: f32) -> f32 {
  return fma(fma(fma(fma(a, m, c), m, c), m, c), m, c);
}

fn lanes(v: vec4f) -> f32 {
  return v.x + v.y + v.z + v.w;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let s = x[i];
  if (VEC4) {
    let m = vec4f(p.m);
    let c = vec4f(p.c);
    let l = vec4f(0.0, 1.0, 2.0, 3.0);
    var a0 = s + (l + 0.0) * 0.03125;
    var a1 = s + (l + 4.0) * 0.03125;
    var a2 = s + (l + 8.0) * 0.03125;
    var a3 = s + (l + 12.0) * 0.03125;
    var a4 = s + (l + 16.0) * 0.03125;
    var a5 = s + (l + 20.0) * 0.03125;
    for (var it = 0u; it < p.iters; it++) {
      a0 = step4(a0, m, c);
      a1 = step4(a1, m, c);
      a2 = step4(a2, m, c);
      a3 = step4(a3, m, c);
      a4 = step4(a4, m, c);
      a5 = step4(a5, m, c);
    }
    y[i] = lanes(a0) + lanes(a1) + lanes(a2) + lanes(a3) + lanes(a4) + lanes(a5);
  } else {
    let m = p.m;
    let c = p.c;
    var a0 = s; var a1 = s + 0.125; var a2 = s + 0.25; var a3 = s + 0.375;
    var a4 = s + 0.5; var a5 = s + 0.625; var a6 = s + 0.75; var a7 = s + 0.875;
    var a8 = s + 1.0; var a9 = s + 1.125; var a10 = s + 1.25; var a11 = s + 1.375;
    for (var it = 0u; it < p.iters; it++) {
      a0 = step1(a0, m, c); a1 = step1(a1, m, c); a2 = step1(a2, m, c); a3 = step1(a3, m, c);
      a4 = step1(a4, m, c); a5 = step1(a5, m, c); a6 = step1(a6, m, c); a7 = step1(a7, m, c);
      a8 = step1(a8, m, c); a9 = step1(a9, m, c); a10 = step1(a10, m, c); a11 = step1(a11, m, c);
    }
    y[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  }
}
