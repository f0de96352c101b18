import type { NumArray } from '../core/dtype.js';
import { defineGroup, defineKernel, ELEMENTWISE, grid1d, variantOf, type KernelSpec } from './define_kernel.js';

/**
 * One row per unary op: the forward and gradient in WGSL (filled into the `@slot` of shaders/unary.wgsl and
 * shaders/unary_bwd.wgsl) and in JS (the reference). `saves` says what backward reads: the input x, the output y.
 */
export interface UnaryDef {
  readonly wgsl: string;
  readonly js: (x: number, a: number) => number;
  readonly dwgsl: string;
  readonly djs: (x: number, y: number, g: number, a: number) => number;
  readonly saves: 'x' | 'y' | 'none';
  /** The forward (`exact`) and the gradient (`dexact`) are selections or sign flips: bit-exact. */
  readonly exact?: boolean;
  readonly dexact?: boolean;
}

/**
 * erfc(x) in float64 for the references (relative error ~1e-11): the Maclaurin series of erf below 2.5, the
 * continued fraction of erfc above (evaluated bottom-up from 200 terms); negative x by erfc(-x) = 2 - erfc(x).
 */
export function erfc64(x: number): number {
  if (x < 0) return 2 - erfc64(-x);
  if (x < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = x;
  for (let k = 200; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The standard normal CDF and density (float64). */
const normalCdf = (x: number) => 0.5 * erfc64(-x / Math.SQRT2);
const normalPdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** GELU's tanh approximation: tanh(sqrt(2 / pi) * (x + 0.044715 x^3)) and PyTorch's derivative of 0.5 x (1 + that). */
const GELU_BETA = Math.sqrt(2 / Math.PI);
const geluTanhT = (x: number) => Math.tanh(GELU_BETA * (x + 0.044715 * x * x * x));
const geluTanhGrad = (x: number) => {
  const t = geluTanhT(x);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_BETA * (1 + 3 * 0.044715 * x * x);
};

export const UNARY = {
  neg: { wgsl: '-x', js: (x) => -x, dwgsl: '-g', djs: (_x, _y, g) => -g, saves: 'none', exact: true, dexact: true },
  exp: { wgsl: 'exp(x)', js: (x) => Math.exp(x), dwgsl: 'g * y', djs: (_x, y, g) => g * y, saves: 'y' },
  log: { wgsl: 'log(x)', js: (x) => Math.log(x), dwgsl: 'g / x', djs: (x, _y, g) => g / x, saves: 'x' },
  sqrt: { wgsl: 'sqrt(x)', js: (x) => Math.sqrt(x), dwgsl: 'g * 0.5 / y', djs: (_x, y, g) => (g * 0.5) / y, saves: 'y' },
  abs: { wgsl: 'abs(x)', js: (x) => Math.abs(x), dwgsl: 'g * sign(x)', djs: (x, _y, g) => g * Math.sign(x), saves: 'x', exact: true },
  relu: {
    // NaN propagates (PyTorch): relu(NaN) = NaN, and its gradient passes g (threshold_backward masks only x <= 0).
    wgsl: 'select(0.0, x, relu_keeps(x))', js: (x) => (x > 0 || x !== x ? x : 0), dwgsl: 'select(0.0, g, relu_keeps(x))', djs: (x, _y, g) => (x > 0 || x !== x ? g : 0), saves: 'x',
    exact: true, dexact: true,
  },
  leaky_relu: {
    wgsl: 'select(a * x, x, x > 0.0)', js: (x, a) => (x > 0 ? x : a * x),
    dwgsl: 'select(a * g, g, x > 0.0)', djs: (x, _y, g, a) => (x > 0 ? g : a * g), saves: 'x',
  },
  // The two-branch form never evaluates exp of a large positive number (no overflow to inf/inf).
  sigmoid: {
    wgsl: 'select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0)',
    js: sigmoid64,
    dwgsl: 'g * y * (1.0 - y)', djs: (_x, y, g) => g * y * (1 - y), saves: 'y',
  },
  tanh: { wgsl: 'tanh(x)', js: (x) => Math.tanh(x), dwgsl: 'g * (1.0 - y * y)', djs: (_x, y, g) => g * (1 - y * y), saves: 'y' },
  // GELU (F.gelu), its tanh form (approximate='tanh') and SiLU (F.silu): functions of shaders/lib/activation.wgsl.
  gelu: {
    wgsl: 'gelu_erf(x)', js: (x) => x * normalCdf(x),
    dwgsl: 'g * gelu_erf_grad(x)', djs: (x, _y, g) => g * (normalCdf(x) + x * normalPdf(x)), saves: 'x',
  },
  gelu_tanh: {
    wgsl: 'gelu_tanh(x)', js: (x) => 0.5 * x * (1 + geluTanhT(x)),
    dwgsl: 'g * gelu_tanh_grad(x)', djs: (x, _y, g) => g * geluTanhGrad(x), saves: 'x',
  },
  silu: {
    wgsl: 'silu(x)', js: (x) => x * sigmoid64(x),
    dwgsl: 'g * silu_grad(x)', djs: (x, _y, g) => g * sigmoid64(x) * (1 + x * (1 - sigmoid64(x))), saves: 'x',
  },
} as const satisfies Record<string, UnaryDef>;

export type UnaryName = keyof typeof UNARY;

/** One row per binary op: WGSL expression of a and b (shaders/binary.wgsl) and its JS reference. */
export interface BinaryDef {
  readonly wgsl: string;
  readonly js: (a: number, b: number) => number;
  /** A selection or comparison: bit-exact. */
  readonly exact?: boolean;
}

export const BINARY = {
  add: { wgsl: 'a + b', js: (a, b) => a + b },
  /** a broadcast to the output shape (expand); b only sets the shape. */
  lhs: { wgsl: 'a', js: (a) => a, exact: true },
  sub: { wgsl: 'a - b', js: (a, b) => a - b },
  mul: { wgsl: 'a * b', js: (a, b) => a * b },
  div: { wgsl: 'a / b', js: (a, b) => a / b },
  pow: { wgsl: 'powf(a, b)', js: (a, b) => Math.pow(a, b) },
  maximum: { wgsl: 'max_nan(a, b)', js: (a, b) => Math.max(a, b), exact: true },
  minimum: { wgsl: 'min_nan(a, b)', js: (a, b) => Math.min(a, b), exact: true },
  eq: { wgsl: 'select(0.0, 1.0, a == b)', js: (a, b) => (a === b ? 1 : 0), exact: true },
  gt: { wgsl: 'select(0.0, 1.0, a > b)', js: (a, b) => (a > b ? 1 : 0), exact: true },
  lt: { wgsl: 'select(0.0, 1.0, a < b)', js: (a, b) => (a < b ? 1 : 0), exact: true },
} as const satisfies Record<string, BinaryDef>;

export type BinaryName = keyof typeof BINARY;

const WG = 256;

function unaryKernels(name: string, d: UnaryDef) {
  const fwd = defineKernel({
    name,
    shader: 'unary',
    family: 'unary',
    slots: { f: d.wgsl },
    reads: { x: 'f32' },
    writes: { y: 'f32' },
    params: { n: 'u32', a: 'f32' },
    constants: { WG },
    description: `y = ${d.wgsl} elementwise (shaders/unary.wgsl)`,
    grid: (p, c) => grid1d(p.n, c.WG as number),
    cost: (p) => ({ flops: p.n, bytes: 8 * p.n }),
    tolerance: () => (d.exact ? 'exact' : ELEMENTWISE),
    ref({ x }, { y }, p) {
      for (let i = 0; i < p.n; i++) y[i] = d.js(x[i]!, p.a);
    },
  });
  const bwd = defineKernel({
    name: `${name}_bwd`,
    shader: 'unary_bwd',
    family: 'unary_bwd',
    slots: { df: d.dwgsl },
    reads: { x: 'f32', y: 'f32', g: 'f32' },
    writes: { gx: 'f32' },
    params: { n: 'u32', a: 'f32' },
    constants: { WG },
    description: `gx = ${d.dwgsl}: the gradient of ${name} from x, y = ${name}(x) and g (shaders/unary_bwd.wgsl)`,
    grid: (p, c) => grid1d(p.n, c.WG as number),
    cost: (p) => ({ flops: 2 * p.n, bytes: 4 * p.n * (d.saves === 'none' ? 2 : 3) }),
    tolerance: () => (d.dexact ? 'exact' : ELEMENTWISE),
    ref({ x, y, g }, { gx }, p) {
      for (let i = 0; i < p.n; i++) gx[i] = d.djs(x[i]!, y[i]!, g[i]!, p.a);
    },
  });
  return [fwd, bwd] as const;
}

export const BINARY_PARAMS = {
  n: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32',
  sa0: 'u32', sa1: 'u32', sa2: 'u32', sa3: 'u32', sa4: 'u32', sa5: 'u32',
  sb0: 'u32', sb1: 'u32', sb2: 'u32', sb3: 'u32', sb4: 'u32', sb5: 'u32',
} as const;

type BinaryP = Readonly<Record<keyof typeof BINARY_PARAMS, number>>;

function binaryKernel(name: string, d: BinaryDef) {
  return defineKernel({
    name,
    shader: 'binary',
    family: 'binary',
    slots: { f: d.wgsl },
    reads: { a: 'f32', b: 'f32' },
    writes: { y: 'f32' },
    params: BINARY_PARAMS,
    constants: { WG, BROADCAST: true },
    description: `y = ${d.wgsl} elementwise, a and b broadcast by strides (BROADCAST) (shaders/binary.wgsl)`,
    grid: (p, c) => grid1d(p.n, c.WG as number),
    cost: (p, c) => ({ flops: p.n, bytes: 4 * (p.n + (c.BROADCAST ? operandNumel(p, 'a') + operandNumel(p, 'b') : 2 * p.n)) }),
    tolerance: () => (d.exact ? 'exact' : ELEMENTWISE),
    ref({ a, b }, { y }, p, c) {
      if (!c.BROADCAST) {
        for (let i = 0; i < p.n; i++) y[i] = d.js(a[i]!, b[i]!);
        return;
      }
      binaryBroadcastRef(a, b, y, p, d.js);
    },
  });
}

function binaryBroadcastRef(a: NumArray, b: NumArray, y: NumArray, p: BinaryP, f: (a: number, b: number) => number) {
  const dims = [0, p.d1, p.d2, p.d3, p.d4, p.d5];
  const sa = [p.sa0, p.sa1, p.sa2, p.sa3, p.sa4, p.sa5];
  const sb = [p.sb0, p.sb1, p.sb2, p.sb3, p.sb4, p.sb5];
  for (let i = 0; i < p.n; i++) {
    let r = i;
    let ia = 0;
    let ib = 0;
    for (let k = 5; k >= 1; k--) {
      const ck = r % dims[k]!;
      r = Math.floor(r / dims[k]!);
      ia += ck * sa[k]!;
      ib += ck * sb[k]!;
    }
    ia += r * sa[0]!;
    ib += r * sb[0]!;
    y[i] = f(a[ia]!, b[ib]!);
  }
}

/** Distinct elements one operand of a broadcasting launch reads: the product of the dims along which its stride is not 0. */
function operandNumel(p: BinaryP, which: 'a' | 'b'): number {
  const inner = p.d1 * p.d2 * p.d3 * p.d4 * p.d5;
  const dims = [inner ? p.n / inner : 0, p.d1, p.d2, p.d3, p.d4, p.d5];
  const s = which === 'a' ? [p.sa0, p.sa1, p.sa2, p.sa3, p.sa4, p.sa5] : [p.sb0, p.sb1, p.sb2, p.sb3, p.sb4, p.sb5];
  return dims.reduce((acc, d, k) => acc * (s[k] ? d : 1), 1);
}

export const UNARY_KERNELS = Object.fromEntries(
  Object.entries(UNARY).flatMap(([k, d]) => unaryKernels(k, d).map((s) => [s.name, s] as const)),
) as Record<UnaryName | `${UnaryName}_bwd`, KernelSpec>;

export const BINARY_KERNELS = Object.fromEntries(Object.entries(BINARY).map(([k, d]) => [k, binaryKernel(k, d)])) as Record<
  BinaryName,
  KernelSpec
>;

/**
 * NAME_vec4: NAME's flat case (a, b and y share the index) on vec4, one invocation per 4 elements
 * (shaders/binary_vec4.wgsl, the same table expression per component); for launches of a multiple of 4 elements.
 */
function binaryVec4Kernel(name: BinaryName): KernelSpec {
  const base = BINARY_KERNELS[name] as KernelSpec<'a' | 'b', 'y', keyof typeof BINARY_PARAMS>;
  return variantOf(base, {
    name: `${name}_vec4`,
    shader: 'binary_vec4',
    constants: { WG },
    description: `y = ${BINARY[name].wgsl} elementwise on vec4, a, b and y of one shape, n a multiple of 4 (shaders/binary_vec4.wgsl)`,
    grid: (p, c) => grid1d(p.n / 4, c.WG as number),
    // The base's flat case (BROADCAST = false): same reference and traffic.
    cost: (p) => base.cost!(p, { BROADCAST: false }),
    ref: (reads, writes, p) => base.ref(reads, writes, p, { BROADCAST: false }),
  });
}

export const BINARY_VEC4_KERNELS = Object.fromEntries(
  (Object.keys(BINARY) as BinaryName[]).map((k) => [`${k}_vec4`, binaryVec4Kernel(k)] as const),
) as Record<`${BinaryName}_vec4`, KernelSpec>;

/** fill: y[i] = value. */
export const fill = defineKernel({
  name: 'fill',
  reads: {},
  writes: { y: 'f32' },
  params: { n: 'u32', value: 'f32' },
  constants: { WG },
  description: 'y[i] = value for n elements',
  grid: (p, c) => grid1d(p.n, c.WG as number),
  cost: (p) => ({ flops: 0, bytes: 4 * p.n }),
  tolerance: () => 'exact',
  ref(_r, { y }, p) {
    y.fill(p.value, 0, p.n);
  },
});

/** The elementwise kernels (table rows + fill): one source group. */
export const ELEMENTWISE_KERNELS = defineGroup('elementwise', { ...UNARY_KERNELS, ...BINARY_KERNELS, ...BINARY_VEC4_KERNELS, fill });
