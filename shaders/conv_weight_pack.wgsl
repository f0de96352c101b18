// conv_weight_pack — repacks a convolution weight for the forward kernels: a batch of transposes with the row axis
// zero-padded, out[(bb*nc + cc)*rpad + rr] = rr < nr ? w[(bb*nr + rr)*nc + cc] : 0  (w is [nb][nr][nc]).
// conv2d weight [Cout, Cin, kh, kw]: nb = 1, nr = Cout, nc = Cin*kh*kw; conv_transpose2d weight [Cin, Cout, kh, kw]:
// nb = Cin, nr = Cout, nc = kh*kw. Either way out is [Cin*kh*kw][rpad] with output channels contiguous, which the
// forward kernels read as vec4 (rpad = a multiple of 4, at least 4 past the channels, so 8-channel blocks stay inside).
// One invocation per 4 consecutive output elements (rr fastest), stored as one vec4: the strided reads stay scalar,
// but a store is one instead of four (on lavapipe every non-constant store is a per-lane loop: 3x faster than one
// element per invocation). Grid: 1-D over nb*nc*rpad/4, folded past 65,535 workgroups.
// Bindings: 0 w (read) · 1 out (write, as vec4) · 2 p (uniform Params). Assumes rpad % 4 == 0.

override WG: u32 = 64u;

struct Params { nb: u32, nr: u32, nc: u32, rpad: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let r4 = p.rpad / 4u;
  if (i >= p.nb * p.nc * r4) { return; }
  let rr = (i % r4) * 4u;
  let t = i / r4;
  let cc = t % p.nc;
  let bb = t / p.nc;
  let col = bb * p.nr * p.nc + cc;
  var v = vec4f(0.0);
  for (var d = 0u; d < 4u; d++) {
    let r = rr + d;
    v[d] = select(0.0, w[col + min(r, p.nr - 1u) * p.nc], r < p.nr);
  }
  out[i] = v;
}
