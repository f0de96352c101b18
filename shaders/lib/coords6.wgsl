// lib/coords6.wgsl — the row-major coords (c0..c5) of flat index i in 6 dims d0..d5 (d0 implied: c0 takes the
// rest), for the strided kernels (binary broadcasting, pad, permute).

fn coords6(i: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32) -> array<u32, 6> {
  var r = i;
  let c5 = r % d5; r = r / d5;
  let c4 = r % d4; r = r / d4;
  let c3 = r % d3; r = r / d3;
  let c2 = r % d2; r = r / d2;
  return array<u32, 6>(r / d1, r % d1, c2, c3, c4, c5);
}
