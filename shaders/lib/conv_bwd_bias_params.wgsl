// lib/conv_bwd_bias_params.wgsl — what conv_bwd_bias and conv_bwd_bias_vec4 share (see shaders/conv_bwd_bias.wgsl): the
// Params and an invocation's (slice, channel) with the slice's rows.

struct Params { n: u32, c: u32, h: u32, w: u32, g_off: u32, g_ns: u32, rows: u32, nslices: u32, c_base: u32, c_tot: u32 }

// Invocation i's (of launch q) channel ch of slice s (channel fastest), the slice's rows [r0, r1) of the n*h rows, and where its
// sum goes in part.
struct BiasSlice { ch: u32, r0: u32, r1: u32, out: u32 }

fn bias_slice(i: u32, q: Params) -> BiasSlice {
  let ch = i % q.c;
  let s = i / q.c;
  let r0 = s * q.rows;
  return BiasSlice(ch, r0, min(q.n * q.h, r0 + q.rows), s * q.c_tot + q.c_base + ch);
}
