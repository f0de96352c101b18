// interpolate_nearest — F.interpolate(mode='nearest') on NCHW planes (PyTorch's CPU rule, not 'nearest-exact'):
//   y[yoff + q*OH*OW + oy*OW + ox] = x[xoff + q*IH*IW + sy*IW + sx],
//   sy = min(floor(f32(oy) * sh), IH - 1), sx likewise; sh = 1/scale_factor when one was given, else IH/OH
//   (the op passes 1 when OH == IH and 0.5 when OH == 2*IH, as PyTorch does), rounded to f32.
// The product is one correctly rounded f32 multiply, so the CPU reference (and PyTorch) pick the same pixel.
// A launch covers n = planes * OH * OW outputs of consecutive planes q (N*C planes split when over the
// binding limit; xoff/yoff are the residual offsets of the aligned windows).
// One invocation per output element; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 x (read) · 1 y (write) · 2 p (uniform Params).

override WG: u32 = 256u;

struct Params {
  n: u32, ih: u32, iw: u32, oh: u32, ow: u32, xoff: u32, yoff: u32, sh: f32, sw: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let ox = i % p.ow;
  let t = i / p.ow;
  let oy = t % p.oh;
  let q = t / p.oh;
  let sy = min(u32(floor(f32(oy) * p.sh)), p.ih - 1u);
  let sx = min(u32(floor(f32(ox) * p.sw)), p.iw - 1u);
  y[p.yoff + i] = x[p.xoff + (q * p.ih + sy) * p.iw + sx];
}
