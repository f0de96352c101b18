// conv2d_bwd_weight_sg — conv2d_bwd_weight for CPU-like adapters with subgroups (lavapipe): the same contraction,
// params, bindings and partials, another split of the work:
//   part[s, a_base + a, b_base + b, ky, kx] = sum over rows r in slice s (r = n*gh + oy, r < n*gh) and ox < gw of
//     g[n, a, oy, ox] * x[n, b, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw]   (x is zero outside [0, xh) x [0, xw)).
// Why: on Mesa 25.0.7 a storage load whose address is not a compile-time constant is a per-lane scalar loop, even
// when all lanes load the same address, so loads per multiply-add decide speed. Here no two lanes load the same value:
// lane l loads 4 consecutive g pixels of channel a0 + l%8 and hands them to the others with subgroupBroadcast; it
// loads, for its own x channel, the window of each tap row that those 4 pixels meet over the block's taps (6 values
// per tap row for 3 taps at stride 1, not 12). Per 4 pixels of a 3x3 stride-1 conv a lane makes 4 + 18 loads for
// 8 a x 9 taps x 4 pixels = 288 multiply-adds (the portable kernel: 12 loads for 32).
// One workgroup: one slice, one block of 8 a channels, a block of nty <= 3 tap rows ky0.. and nt <= 4 taps kx0.. per
// row, WG x channels. Lane l: x channel b = bb*WG + l, accumulators acc[i*8 + k] for tap row ky0 + i and channel
// a0 + k, a vec4 over the taps kx0 + t.
// Summation: per (a, b, tap), groups of 4 pixels (rows in order, groups along a row in order), each group's 4
// products added left to right, then to the running sum from 0: not the reference's order (tolerance as for a sum of
// rows*gw terms).
// Tap blocks: ceil(kh/3) row blocks of ceil(kh/ceil(kh/3)) rows, ceil(kw/4) column blocks of ceil(kw/ceil(kw/4)) taps
// (the last block may be shorter). The shapes of the U-Net (3x3 stride 1, 1x1, 2x2 stride 2 as the transposed conv's
// weight gradient) take windowed paths with constant strides and block sizes; any other geometry loads each (pixel,
// tap) value. PATH picks one at compile time (the launcher knows the geometry: one small pipeline per path), or 0 at
// run time from the params (uniform branches; shapes stay per-run data, all paths in one slower-to-compile pipeline).
// Grid: 1-D over nslices * ceil(a/8) * row blocks * column blocks * ceil(b/WG) workgroups (x block fastest), folded
// past 65,535. Bindings: 0 g · 1 x (read) · 2 part (write) · 3 p (uniform Params), as conv2d_bwd_weight.
// Assumes: subgroups of at least 8 invocations made of consecutive local invocation indices, WG a multiple of 8 (the
// broadcasts read lanes 0..7 of the caller's subgroup, which loaded a0..a0+7). Lanes past the channels load clamped
// values and still take part in the broadcasts; only their stores are masked.

enable subgroups;

override WG: u32 = 8u;
// The path: 1 3x3 taps at column stride 1; 2 1x1 at stride 1; 3 2x2 at column stride 2 (all with column dilation 1);
// 4 any geometry; 0 chosen at run time from the params (the only value valid for every launch).
override PATH: u32 = 0u;

// #include "lib/conv2d_bwd_weight_io.wgsl"

// A workgroup's job (uniform): rows r0..r1 of one slice, tap rows ky0.. and columns ix = ox*sw - c + t*dw.
struct Job { r0: u32, r1: u32, ky0: u32, c: i32 }

// acc[i*8 + k]: tap row i of the block, g channel a0 + k; components: taps of the row.
struct Acc { v: array<vec4f, 24> }

// The 4 g pixels ox0.. of row gr, zero past the row end.
fn gmasked(gr: u32, ox0: u32) -> vec4f {
  var v = vec4f(0.0);
  for (var q = 0u; q < 4u; q++) {
    let ox = ox0 + q;
    v[q] = select(0.0, g[gr + min(ox, p.gw - 1u)], ox < p.gw);
  }
  return v;
}

// x at column ix of row xr if `inside`, else zero (padding). An index outside the binding reads some value that the
// select drops (robust buffer access).
fn xmasked(xr: u32, ix: i32, inside: bool) -> f32 {
  return select(0.0, x[xr + u32(ix)], inside);
}

fn colok(ix: i32) -> bool {
  return ix >= 0 && ix < i32(p.xw);
}

// a + sum over pixels q of g[q] * xq[q] (a vector over taps); only the first nt components (a constant after
// inlining: no multiply-adds for taps past the block).
fn fma4(a: vec4f, g: vec4f, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, nt: u32) -> vec4f {
  if (nt == 1u) { return vec4f(a.x + (g.x * x0.x + g.y * x1.x + g.z * x2.x + g.w * x3.x), a.yzw); }
  if (nt == 2u) { return vec4f(a.xy + (g.x * x0.xy + g.y * x1.xy + g.z * x2.xy + g.w * x3.xy), a.zw); }
  if (nt == 3u) { return vec4f(a.xyz + (g.x * x0.xyz + g.y * x1.xyz + g.z * x2.xyz + g.w * x3.xyz), a.w); }
  return a + (g.x * x0 + g.y * x1 + g.z * x2 + g.w * x3);
}

// Channel k's products for every tap row: xs[i*4 + q] holds pixel q's x values over the taps of row i.
fn mack(acc: ptr<function, Acc>, k: u32, gk: vec4f, xs: ptr<function, array<vec4f, 12>>, nt: u32, nty: u32) {
  for (var i = 0u; i < nty; i++) {
    let o = 8u * i + k;
    (*acc).v[o] = fma4((*acc).v[o], gk, (*xs)[4u * i], (*xs)[4u * i + 1u], (*xs)[4u * i + 2u], (*xs)[4u * i + 3u], nt);
  }
}

// Every lane's g pixels (lane k: channel a0 + k) times this lane's x values.
fn mac(acc: ptr<function, Acc>, gv: vec4f, xs: ptr<function, array<vec4f, 12>>, nt: u32, nty: u32) {
  mack(acc, 0u, subgroupBroadcast(gv, 0u), xs, nt, nty);
  mack(acc, 1u, subgroupBroadcast(gv, 1u), xs, nt, nty);
  mack(acc, 2u, subgroupBroadcast(gv, 2u), xs, nt, nty);
  mack(acc, 3u, subgroupBroadcast(gv, 3u), xs, nt, nty);
  mack(acc, 4u, subgroupBroadcast(gv, 4u), xs, nt, nty);
  mack(acc, 5u, subgroupBroadcast(gv, 5u), xs, nt, nty);
  mack(acc, 6u, subgroupBroadcast(gv, 6u), xs, nt, nty);
  mack(acc, 7u, subgroupBroadcast(gv, 7u), xs, nt, nty);
}

// Which of the block's tap rows ky0 + i (i < nty) meet the image for g row oy.
fn rowsok(oy: u32, ky0: u32, nty: u32) -> vec3<bool> {
  var ok: vec3<bool>;
  for (var i = 0u; i < 3u; i++) {
    let iy = i32(oy * p.sh) - p.ph + i32((ky0 + i) * p.dh);
    ok[i] = i < nty && iy >= 0 && iy < i32(p.xh);
  }
  return ok;
}

// The block's x rows (clamped into the image) for g row oy of item nn, in this lane's channel plane xch.
fn xrows(nn: u32, oy: u32, ky0: u32, xch: u32) -> vec3u {
  var xr: vec3u;
  for (var i = 0u; i < 3u; i++) {
    let iy = i32(oy * p.sh) - p.ph + i32((ky0 + i) * p.dh);
    xr[i] = p.x_off + nn * p.x_ns + u32(clamp(iy, 0, i32(p.xh) - 1)) * p.xw + xch;
  }
  return xr;
}

// One group of 4 pixels ox0.. of g row gr: loads and multiply-adds. SW, DW, NT, NTY are constants after inlining, so
// the window loops unroll and the window lives in registers. The window of tap row i holds columns ixs + e for
// e < 3*SW + (NT-1)*DW + 1; pixels past the row end, columns outside [0, xw) and rows outside the image read as zero.
fn step(acc: ptr<function, Acc>, gr: u32, xr: vec3u, ok: vec3<bool>, ox0: u32, c: i32, SW: u32, DW: u32, NT: u32, NTY: u32) {
  let gv = gmasked(gr, ox0);
  let xn = 3u * SW + (NT - 1u) * DW + 1u;
  let ixs = i32(ox0 * SW) - c;
  var w: array<f32, 48>;
  for (var e = 0u; e < xn; e++) {
    let ix = ixs + i32(e);
    let cok = colok(ix);
    for (var i = 0u; i < NTY; i++) {
      w[16u * i + e] = xmasked(xr[i], ix, cok && ok[i]);
    }
  }
  var xs: array<vec4f, 12>;
  for (var i = 0u; i < NTY; i++) {
    for (var q = 0u; q < 4u; q++) {
      let o = 16u * i + q * SW;
      xs[4u * i + q] = vec4f(w[o], w[o + DW], w[o + 2u * DW], w[o + 3u * DW]);
    }
  }
  mac(acc, gv, &xs, NT, NTY);
}

// The groups of a job with constant SW, DW, NT, NTY, in one flat loop over (row, group of 4 pixels): a nested loop
// per row costs its setup on every row, which dominates on small images; the padding masks cost less than a second
// (unmasked) copy of the step for the groups inside the image did.
fn windowed(j: Job, gch: u32, xch: u32, SW: u32, DW: u32, NT: u32, NTY: u32) -> Acc {
  var acc: Acc;
  var nn = j.r0 / p.gh;
  var oy = j.r0 % p.gh;
  var ok = rowsok(oy, j.ky0, NTY);
  var xr = xrows(nn, oy, j.ky0, xch);
  var gr = p.g_off + nn * p.g_ns + oy * p.gw + gch;
  var ox0 = 0u;
  let groups = (j.r1 - j.r0) * ((p.gw + 3u) / 4u);
  for (var gi = 0u; gi < groups; gi++) {
    step(&acc, gr, xr, ok, ox0, j.c, SW, DW, NT, NTY);
    ox0 += 4u;
    if (ox0 >= p.gw) {
      ox0 = 0u;
      oy++;
      if (oy == p.gh) {
        oy = 0u;
        nn++;
      }
      ok = rowsok(oy, j.ky0, NTY);
      xr = xrows(nn, oy, j.ky0, xch);
      gr = p.g_off + nn * p.g_ns + oy * p.gw + gch;
    }
  }
  return acc;
}

// Any stride, dilation and block: one masked load per (row, pixel, tap); taps and rows past the block read as zero.
// One flat loop over (row, group) as in windowed.
fn general(j: Job, gch: u32, xch: u32, nt: u32, nty: u32) -> Acc {
  var acc: Acc;
  let sw = i32(p.sw);
  let dw = i32(p.dw);
  var nn = j.r0 / p.gh;
  var oy = j.r0 % p.gh;
  var ox0 = 0u;
  var ok = rowsok(oy, j.ky0, nty);
  var xr = xrows(nn, oy, j.ky0, xch);
  var gr = p.g_off + nn * p.g_ns + oy * p.gw + gch;
  let groups = (j.r1 - j.r0) * ((p.gw + 3u) / 4u);
  for (var gi = 0u; gi < groups; gi++) {
    let gv = gmasked(gr, ox0);
    var xs: array<vec4f, 12>;
    for (var i = 0u; i < 3u; i++) {
      for (var q = 0u; q < 4u; q++) {
        let ix = i32(ox0 + q) * sw - j.c;
        for (var t = 0u; t < 4u; t++) {
          let it = ix + i32(t) * dw;
          xs[4u * i + q][t] = xmasked(xr[i], it, colok(it) && ok[i] && t < nt);
        }
      }
    }
    mac(&acc, gv, &xs, 4u, 3u);
    ox0 += 4u;
    if (ox0 >= p.gw) {
      ox0 = 0u;
      oy++;
      if (oy == p.gh) {
        oy = 0u;
        nn++;
      }
      ok = rowsok(oy, j.ky0, nty);
      xr = xrows(nn, oy, j.ky0, xch);
      gr = p.g_off + nn * p.g_ns + oy * p.gw + gch;
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sgid: u32) {
  // Everything but the x channel is uniform over the workgroup (so is this return).
  let wg = wid.y * nwg.x + wid.x;
  let nkb = (p.kw + 3u) / 4u;
  let tb = (p.kw + nkb - 1u) / nkb;
  let nkyb = (p.kh + 2u) / 3u;
  let tby = (p.kh + nkyb - 1u) / nkyb;
  let nbb = (p.b + WG - 1u) / WG;
  let nab = (p.a + 7u) / 8u;
  if (wg >= p.nslices * nab * nkyb * nkb * nbb) { return; }
  let bb = wg % nbb;
  var t = wg / nbb;
  let kb = t % nkb;
  t = t / nkb;
  let kyb = t % nkyb;
  t = t / nkyb;
  let ab = t % nab;
  let s = t / nab;
  let a0 = ab * 8u;
  let kx0 = kb * tb;
  let nt = min(tb, p.kw - kx0);
  let ky0 = kyb * tby;
  let nty = min(tby, p.kh - ky0);
  let b = bb * WG + lid;

  let r0 = s * p.rows;
  let j = Job(r0, min(p.n * p.gh, r0 + p.rows), ky0, p.pw - i32(kx0 * p.dw));
  let gch = min(a0 + sgid % 8u, p.a - 1u) * p.gh * p.gw;
  let xch = min(b, p.b - 1u) * p.xh * p.xw;

  // The path: PATH when the launcher chose one for this geometry (one small pipeline per path), else by the geometry
  // at run time (uniform branches; every path compiled into one pipeline).
  var path = PATH;
  if (path == 0u) {
    path = 4u;
    if (p.sw == 1u && p.dw == 1u && nt == 3u && nty == 3u) { path = 1u; }
    if (p.sw == 1u && p.dw == 1u && nt == 1u && nty == 1u) { path = 2u; }
    if (p.sw == 2u && p.dw == 1u && nt == 2u && nty == 2u) { path = 3u; }
  }
  var acc: Acc;
  if (path == 1u) {
    acc = windowed(j, gch, xch, 1u, 1u, 3u, 3u);
  } else if (path == 2u) {
    acc = windowed(j, gch, xch, 1u, 1u, 1u, 1u);
  } else if (path == 3u) {
    acc = windowed(j, gch, xch, 2u, 1u, 2u, 2u);
  } else {
    acc = general(j, gch, xch, nt, nty);
  }

  if (b >= p.b) { return; }
  let kk = p.kh * p.kw;
  for (var k = 0u; k < 8u; k++) {
    let a = a0 + k;
    if (a >= p.a) { break; }
    let base = ((s * p.a_tot + p.a_base + a) * p.b_tot + p.b_base + b) * kk + kx0;
    for (var i = 0u; i < nty; i++) {
      for (var u = 0u; u < nt; u++) {
        part[base + (ky0 + i) * p.kw + u] = acc.v[8u * i + k][u];
      }
    }
  }
}
