// conv_weight_pack — repacks a convolution weight for the forward kernels: a batch of transposes with the row axis
// zero-padded, out[(bb*nc + cc)*rpad + rr] = rr < nr ? w[(bb*nr + rr)*nc + cc] : 0  (w is [nb][nr][nc]).
// conv2d weight [Cout, Cin, kh, kw]: nb = 1, nr = Cout, nc = Cin*kh*kw; conv_transpose2d weight [Cin, Cout, kh, kw]:
// nb = Cin, nr = Cout, nc = kh*kw. Either way out is [Cin*kh*kw][rpad] with output channels contiguous, which the
// forward kernels read as vec4 (rpad = a multiple of 4, at least 4 past the channels, so 8-channel blocks stay inside).
// One invocation per output element (rr fastest). Grid: 1-D over nb*nc*rpad, folded past 65,535 workgroups.
// Bindings: 0 w (read) · 1 out (write) · 2 p (uniform Params).

override WG: u32 = 64u;

struct Params { nb: u32, nr: u32, nc: u32, rpad: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.nb * p.nc * p.rpad) { return; }
  let rr = i % p.rpad;
  let t = i / p.rpad;
  let cc = t % p.nc;
  let bb = t / p.nc;
  let v = w[(bb * p.nr + min(rr, p.nr - 1u)) * p.nc + cc];
  out[i] = select(0.0, v, rr < p.nr);
}
