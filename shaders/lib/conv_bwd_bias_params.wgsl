// lib/conv_bwd_bias_params.wgsl — what conv_bwd_bias and conv_bwd_bias_vec4 share (see shaders/conv_bwd_bias.wgsl): the
// Params and an invocation's (slice, channel) with the slice's rows.

struct Params { n: u32, c: u32, h: u32, w: u32, g_off: u32, g_ns: u32, rows: u32, nslices: u32, c_base: u32, c_tot: u32 }

// Invocation i's channel ch of slice s (channel fastest), the slice's rows [r0, r1) of the n*h rows, and where its
// sum goes in part.
struct BiasSlice { ch: u32, r0: u32, r1: u32, out: u32 }

fn bias_slice(i: u32) -> BiasSlice {
  let ch = i % p.c;
  let s = i / p.c;
  let r0 = s * p.rows;
  return BiasSlice(ch, r0, min(p.n * p.h, r0 + p.rows), s * p.c_tot + p.c_base + ch);
}
