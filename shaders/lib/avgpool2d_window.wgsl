// lib/avgpool2d_window.wgsl — the divisor of one average-pooling window, PyTorch's rule (ATen AvgPoolKernel): the
// window [hs, hs + KH) x [ws, ws + KW) is first cut at the far padding edge (H + ph, W + pw), whose area is the
// count_include_pad divisor; cut to the input [0, H) x [0, W) it gives the in-bounds count (count_include_pad
// False); a nonzero divisor_override replaces both. Also the Params both avgpool2d kernels share (divisor: i32,
// 0 = none; count_pad: 1 = count_include_pad) and its uniform, binding 2 in both (after their x / gy and y / gx).

struct Params {
  total: u32, h: u32, w: u32, oh: u32, ow: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32,
  divisor: i32, count_pad: u32, xo: u32, yo: u32,
}

@group(0) @binding(2) var<uniform> p: Params;

/** Element i of planes of rows x cols, as (plane, row, column). */
fn plane_coords(i: u32, rows: u32, cols: u32) -> vec3u {
  let q = i / (rows * cols);
  let r = i - q * rows * cols;
  return vec3u(q, r / cols, r % cols);
}

/** The window of output (oy, ox) within the input: (hs, ws, he, we), half-open, possibly empty. */
fn avg_window(oy: u32, ox: u32) -> vec4i {
  let hs = i32(oy * p.sh) - i32(p.ph);
  let ws = i32(ox * p.sw) - i32(p.pw);
  let he = min(hs + i32(p.kh), i32(p.h + p.ph));
  let we = min(ws + i32(p.kw), i32(p.w + p.pw));
  return vec4i(hs, ws, he, we);
}

/** A window cut to the input [0, H) x [0, W): its in-bounds elements (empty when x >= z or y >= w). */
fn avg_inside(win: vec4i) -> vec4i {
  return vec4i(max(win.x, 0), max(win.y, 0), min(win.z, i32(p.h)), min(win.w, i32(p.w)));
}

/** The divisor of an output's window `win` (from avg_window). */
fn avg_divisor(win: vec4i) -> f32 {
  if (p.divisor != 0) { return f32(p.divisor); }
  if (p.count_pad != 0u) { return f32((win.z - win.x) * (win.w - win.y)); }
  let c = avg_inside(win);
  return f32((c.z - c.x) * (c.w - c.y));
}
