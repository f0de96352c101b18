// lib/binary_common.wgsl — what binary and binary_vec4 share: their Params (binary's broadcasting strides; binary_vec4
// reads n only) and the functions the elementwise table's expressions call (powf here, max_nan / min_nan from nan.wgsl).

struct Params {
  n: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
  sa0: u32, sa1: u32, sa2: u32, sa3: u32, sa4: u32, sa5: u32,
  sb0: u32, sb1: u32, sb2: u32, sb3: u32, sb4: u32, sb5: u32,
}

// #include "lib/nan.wgsl"

// PyTorch's pow: negative bases allowed for integral exponents, NaN otherwise; pow(x, 0) = 1; (-inf)^b for
// non-integral b is +inf (b > 0) or +0 (b < 0), as C's pow; a NaN operand gives NaN.
// inf and NaN come from runtime bit patterns (WGSL rejects them as constant expressions).
fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let nan = bitcast<f32>(0x7fc00000u | (bitcast<u32>(a) & 0u));
  if (is_nan(a) || is_nan(b)) { return nan; }
  if (a > 0.0) { return pow(a, b); }
  if (a == 0.0) { return bitcast<f32>(select(0u, 0x7f800000u, b < 0.0)); }
  if (b != floor(b)) {
    // By bit pattern: compilers may assume no infinities in comparisons.
    if (bitcast<u32>(a) == 0xff800000u) { return bitcast<f32>(select(0u, 0x7f800000u, b > 0.0)); }
    return nan;
  }
  let m = pow(-a, b);
  return select(m, -m, abs(b) % 2.0 == 1.0);
}
