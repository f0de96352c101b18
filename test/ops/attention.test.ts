// Matrix products (batched matmul, bmm, linear), permute / transpose / narrow / chunk, scaled dot-product attention
// and MultiheadAttention: against float64 loops written here, float64 gradcheck, GPU == CPU, split under small
// binding limits (batch groups, row blocks, split-K), and bad calls. PyTorch parity: test/ops/attention_torch.test.ts.
import { describe, expect, test } from 'vitest';
import { ArgumentError, F, LimitError, nn, ShapeError, Tensor, tensor, withDevice, withKernelPolicy, type Device } from '../../src/index.js';
import { RecordingMetaBackend } from '../../src/bench/recorder.js';
import { reductionTol } from '../helpers/close.js';
import { cpu64, gpuSuite } from '../helpers/gpu.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randnArray, rng } from '../helpers/random.js';
import { smallLimits } from '../helpers/small_limits.js';

const { skip, dev, devices } = await gpuSuite();
const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const R = rng(1700);
type In = { data: ArrayLike<number>; shape: number[]; grad?: boolean };
const N = (shape: number[], scale = 1): In => ({ data: randnArray(R, prod(shape), scale), shape });

/** c[b] = a[b] · b[b] in float64 (a [B, M, K], b [B, K, N]; B = 1 for 2-D). */
function naiveBmm(a: ArrayLike<number>, b: ArrayLike<number>, B: number, M: number, K: number, Nn: number, bShared = false): Float64Array {
  const c = new Float64Array(B * M * Nn);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < Nn; j++) {
        let s = 0;
        for (let q = 0; q < K; q++) s += a[(t * M + i) * K + q]! * b[(bShared ? 0 : t * K * Nn) + q * Nn + j]!;
        c[(t * M + i) * Nn + j] = s;
      }
    }
  }
  return c;
}

/** x.permute(perm) in float64 loops. */
function naivePermute(x: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const st = shape.map((_, i) => prod(shape.slice(i + 1)));
  const out = perm.map((p) => shape[p]!);
  const ost = out.map((_, i) => prod(out.slice(i + 1)));
  const y = new Float64Array(x.length);
  for (let i = 0; i < y.length; i++) {
    let src = 0;
    for (let k = 0; k < out.length; k++) src += (Math.floor(i / ost[k]!) % out[k]!) * st[perm[k]!]!;
    y[i] = x[src]!;
  }
  return y;
}

/** softmax(q kᵀ · scale + mask) v in float64, q [B, L, E], k [B, S, E], v [B, S, Ev]; mask [L, S] or null. */
function naiveSdpa(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, B: number, L: number, S: number, E: number, Ev: number, mask: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(B * L * Ev);
  const scale = 1 / Math.sqrt(E);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const s = new Float64Array(S);
      for (let j = 0; j < S; j++) {
        let d = 0;
        for (let e = 0; e < E; e++) d += q[(b * L + i) * E + e]! * k[(b * S + j) * E + e]!;
        s[j] = d * scale + (mask ? mask[i * S + j]! : 0);
      }
      const m = Math.max(...s);
      const w = s.map((x) => Math.exp(x - m));
      const z = w.reduce((a, x) => a + x, 0);
      for (let e = 0; e < Ev; e++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += (w[j]! / z) * v[(b * S + j) * Ev + e]!;
        out[(b * L + i) * Ev + e] = acc;
      }
    }
  }
  return out;
}

const read = async (t: Tensor) => {
  const a = await t.toArray();
  t.dispose();
  return a;
};

describe.skipIf(skip)('products, permutes and attention against float64 loops (GPU and CPU)', () => {
  test('matmul: 2-D, [..., M, K] x [K, N] (folded), batched [B1, B2, M, K] x [B1, B2, K, N]; bmm; odd sizes', async () => {
    for (const d of devices(cpu64)) {
      for (const [B, M, K, Nn] of [[1, 5, 9, 3], [3, 7, 5, 11], [6, 1, 13, 2], [2, 17, 33, 9]] as const) {
        const a = randnArray(R, B * M * K);
        const b = randnArray(R, B * K * Nn);
        const w = randnArray(R, K * Nn);
        using ta = tensor(a, [B, M, K], { device: d });
        using t4 = tensor(a, [1, B, M, K], { device: d });
        using tb = tensor(b, [1, B, K, Nn], { device: d });
        using tb3 = tensor(b, [B, K, Nn], { device: d });
        using tw = tensor(w, [K, Nn], { device: d });
        const tol = reductionTol(K, 3);
        const folded = F.matmul(ta, tw);
        expect(folded.shape).toEqual([B, M, Nn]);
        expect(await read(folded), `${B}x[${M}, ${K}] x [${K}, ${Nn}]`).toBeAllClose(naiveBmm(a, w, B, M, K, Nn, true), tol);
        const batched = F.matmul(t4, tb);
        expect(batched.shape).toEqual([1, B, M, Nn]);
        expect(await read(batched)).toBeAllClose(naiveBmm(a, b, B, M, K, Nn), tol);
        expect(await read(F.bmm(ta, tb3))).toBeAllClose(naiveBmm(a, b, B, M, K, Nn), tol);
      }
    }
  });

  test.each(['portable', 'reg', 'vec4', 'tiled', 'auto'] as const)("matmul policy '%s': every transpose case of the products, odd sizes past one tile", async (choice) => {
    // The forward and both gradients of linear (a·bᵀ, a·b, aᵀ·b: vec4 where chosen) and bmm (a·b, a·bᵀ, aᵀ·b: N = 33
    // leaves them to reg), against cpu64.
    const ins = [N([2, 37, 44]), N([2, 44, 33]), N([28, 44])];
    const run = async (d: Device) => {
      const [a, b, w] = ins.map((i) => tensor(Float64Array.from(i.data), i.shape, { device: d, requiresGrad: true }));
      const y = F.add(F.bmm(a!, b!), F.reshape(F.sum(F.linear(a!, w!)), [1, 1, 1]));
      y.backward(tensor(Float64Array.from({ length: y.numel }, (_, i) => Math.cos(0.3 * i)), [...y.shape], { device: d }));
      return [await y.toArray(), ...(await Promise.all([a, b, w].map((t) => t!.grad!.toArray())))];
    };
    const want = await run(cpu64);
    const got = await withKernelPolicy(dev, { matmul: choice }, () => run(dev));
    got.forEach((g, i) => expect(g, `output ${i}`).toBeAllClose(want[i]!, { rtol: 1e-4, atol: 1e-3 }));
  });

  test('linear: x [..., in] Wᵀ + b, with and without bias', async () => {
    for (const d of devices(cpu64)) {
      const [lead, inF, out] = [[2, 3], 7, 5];
      const x = randnArray(R, prod(lead) * inF);
      const wt = randnArray(R, out * inF);
      const bias = randnArray(R, out);
      // W [out, in] read transposed: the reference multiplies by Wᵀ laid out [in, out].
      const wT = Float64Array.from({ length: inF * out }, (_, i) => wt[(i % out) * inF + Math.floor(i / out)]!);
      const want = naiveBmm(x, wT, 1, prod(lead), inF, out);
      using tx = tensor(x, [...lead, inF], { device: d });
      using tw = tensor(wt, [out, inF], { device: d });
      using tbias = tensor(bias, [out], { device: d });
      const y = F.linear(tx, tw);
      expect(y.shape).toEqual([...lead, out]);
      expect(await read(y)).toBeAllClose(want, reductionTol(inF, 3));
      expect(await read(F.linear(tx, tw, tbias))).toBeAllClose(want.map((v, i) => v + bias[i % out]!), reductionTol(inF, 3));
    }
  });

  test('permute / transpose: random permutations of ranks 2-5 (odd sizes), exact', async () => {
    for (const d of devices(cpu64)) {
      for (const [shape, perm] of [[[3, 5], [1, 0]], [[2, 3, 5, 7], [0, 2, 1, 3]], [[3, 1, 4, 2, 5], [4, 0, 3, 1, 2]], [[2, 3, 4], [0, 2, 1]], [[4, 3, 2], [2, 1, 0]]] as [number[], number[]][]) {
        const x = randnArray(R, prod(shape));
        using t = tensor(x, shape, { device: d });
        const y = F.permute(t, perm);
        expect(y.shape).toEqual(perm.map((p) => shape[p]));
        expect(Array.from(await read(y)), `${JSON.stringify(shape)} by ${JSON.stringify(perm)}`).toEqual(Array.from(naivePermute(x, shape, perm)));
      }
      using t = tensor(randnArray(R, 24), [2, 3, 4], { device: d });
      expect(await read(F.transpose(t, -1, 0))).toEqual(await read(F.permute(t, [2, 1, 0])));
    }
  });

  test('narrow / chunk: slices along each dim, exact', async () => {
    for (const d of devices(cpu64)) {
      const x = randnArray(R, 2 * 5 * 3);
      using t = tensor(x, [2, 5, 3], { device: d });
      const y = F.narrow(t, 1, 1, 3);
      expect(y.shape).toEqual([2, 3, 3]);
      const want = [0, 1].flatMap((n) => [1, 2, 3].flatMap((i) => [0, 1, 2].map((j) => x[(n * 5 + i) * 3 + j]!)));
      expect(Array.from(await read(y))).toEqual(want);
      const parts = F.chunk(t, 2, 1);
      expect(parts.map((p) => p.shape)).toEqual([[2, 3, 3], [2, 2, 3]]);
      const back = F.cat(parts, 1);
      expect(Array.from(await read(back))).toEqual(Array.from(x));
      for (const p of parts) p.dispose();
    }
  });

  test('scaledDotProductAttention: no mask, an additive mask, causal; [B, H, L, E] inputs', async () => {
    for (const d of devices(cpu64)) {
      const [B, H, L, S, E, Ev] = [2, 3, 5, 7, 4, 6];
      const q = randnArray(R, B * H * L * E);
      const k = randnArray(R, B * H * S * E);
      const v = randnArray(R, B * H * S * Ev);
      const mask = randnArray(R, L * S);
      const causal = Float64Array.from({ length: L * L }, (_, i) => (i % L > Math.floor(i / L) ? -Infinity : 0));
      using tq = tensor(q, [B, H, L, E], { device: d });
      using tk = tensor(k, [B, H, S, E], { device: d });
      using tv = tensor(v, [B, H, S, Ev], { device: d });
      using tm = tensor(mask, [L, S], { device: d });
      const tol = { rtol: 1e-4, atol: 1e-5 };
      const y = F.scaledDotProductAttention(tq, tk, tv);
      expect(y.shape).toEqual([B, H, L, Ev]);
      expect(await read(y)).toBeAllClose(naiveSdpa(q, k, v, B * H, L, S, E, Ev, null), tol);
      expect(await read(F.scaledDotProductAttention(tq, tk, tv, { attnMask: tm }))).toBeAllClose(naiveSdpa(q, k, v, B * H, L, S, E, Ev, mask), tol);
      using tk2 = tensor(k.slice(0, B * H * L * E), [B, H, L, E], { device: d });
      using tv2 = tensor(v.slice(0, B * H * L * Ev), [B, H, L, Ev], { device: d });
      const c = F.scaledDotProductAttention(tq, tk2, tv2, { isCausal: true });
      expect(await read(c)).toBeAllClose(naiveSdpa(q, k.slice(0, B * H * L * E), v.slice(0, B * H * L * Ev), B * H, L, L, E, Ev, causal), tol);
    }
  });
});

describe('float64 gradcheck (CPU device)', () => {
  const causal = (q: Tensor, k: Tensor, v: Tensor) => F.scaledDotProductAttention(q, k, v, { isCausal: true });
  const cases: [string, (...xs: Tensor[]) => Tensor, In[]][] = [
    ['matmul batched 4-D', (a, b) => F.matmul(a, b), [N([2, 1, 3, 4]), N([2, 1, 4, 5])]],
    ['matmul [B, M, K] x [K, N]', (a, b) => F.matmul(a, b), [N([2, 3, 4]), N([4, 2])]],
    ['bmm', (a, b) => F.bmm(a, b), [N([3, 2, 5]), N([3, 5, 4])]],
    ['linear with bias', (x, w, b) => F.linear(x, w, b), [N([2, 3, 4]), N([5, 4]), N([5])]],
    ['linear without bias', (x, w) => F.linear(x, w), [N([3, 4]), N([2, 4])]],
    ['permute', (x) => F.permute(x, [2, 0, 3, 1]), [N([2, 3, 4, 2])]],
    ['transpose', (x) => F.transpose(x, 0, 1), [N([3, 4])]],
    ['narrow', (x) => F.narrow(x, 1, 1, 2), [N([2, 4, 3])]],
    ['sdpa', (q, k, v) => F.scaledDotProductAttention(q, k, v), [N([2, 3, 4]), N([2, 5, 4]), N([2, 5, 3])]],
    ['sdpa mask, scale', (q, k, v, m) => F.scaledDotProductAttention(q, k, v, { attnMask: m, scale: 0.3 }), [N([1, 2, 3, 4]), N([1, 2, 5, 4]), N([1, 2, 5, 2]), N([3, 5])]],
    ['sdpa causal', causal, [N([2, 4, 3]), N([2, 4, 3]), N([2, 4, 2])]],
  ];
  test.each(cases)('%s', async (_name, f, inputs) => {
    const rep = await gradcheck(f, inputs);
    expect(rep.worst, rep.where).toBeLessThan(1);
  });

  test('MultiheadAttention: gradients of query, key and value (batch_first and not)', async () => {
    for (const batchFirst of [true, false]) {
      const mha = withDevice(cpu64, () => new nn.MultiheadAttention(6, 2, { batchFirst }));
      const ins = [N([2, 3, 6]), N([2, 4, 6]), N([2, 4, 6])].map((i) => (batchFirst ? i : { ...i, shape: [i.shape[1]!, i.shape[0]!, 6] }));
      const rep = await gradcheck((q, k, v) => mha.forward(q, k, v), ins);
      expect(rep.worst, `batchFirst ${batchFirst}: ${rep.where}`).toBeLessThan(1);
      // Self-attention (one tensor as query, key and value) takes the packed in-projection.
      const self = await gradcheck((x) => mha.forward(x), [ins[1]!]);
      expect(self.worst, `self, batchFirst ${batchFirst}: ${self.where}`).toBeLessThan(1);
      mha.dispose();
    }
  });
});

describe.skipIf(skip)('GPU backward == CPU backward', () => {
  test('attention block: linear, permute, sdpa with mask, narrow', async () => {
    // Scaled so that the scores stay O(1): a peaked softmax makes the input gradient a cancellation of large terms.
    const ins = [N([2, 5, 6], 0.5), N([6, 6], 0.4), N([5, 5])];
    const run = async (d: Device) => {
      const [x, w, m] = ins.map((i) => tensor(Float64Array.from(i.data), i.shape, { device: d, requiresGrad: true }));
      const h = F.permute(F.reshape(F.linear(x!, w!), [2, 5, 2, 3]), [0, 2, 1, 3]);
      const y = F.scaledDotProductAttention(h, h, F.narrow(h, 3, 0, 2), { attnMask: m });
      F.sum(F.mul(y, y)).backward();
      return Promise.all([x, w, m].map(async (t) => Float64Array.from(await t!.grad!.toArray())));
    };
    const want = await run(cpu64);
    const got = await run(dev);
    got.forEach((g, i) => expect(g, `input ${i}`).toBeAllClose(want[i]!, { rtol: 1e-4, atol: 1e-5 }));
  });
});

describe('split under small binding limits (CPU float64 behind 4 KiB bindings)', () => {
  /** Forward and gradients of f on cpu64 and on the small-limit device; the latter must launch more. */
  async function compare(f: (...xs: Tensor[]) => Tensor, ins: In[], inner: Device = cpu64) {
    const small = smallLimits(inner, { maxBindingBytes: 4 << 10 }); // 1024 floats
    const run = async (d: Device) => {
      const xs = ins.map((i) => tensor(Float64Array.from(i.data), i.shape, { device: d, requiresGrad: true }));
      const y = f(...xs);
      // backward(gy) with a fixed gy: a scalar loss would be a reduction over the limit (not what is tested here).
      y.backward(tensor(Float64Array.from({ length: y.numel }, (_, i) => Math.sin(0.7 * i) + 0.2), [...y.shape], { device: d }));
      return { y: await y.toArray(), g: await Promise.all(xs.map((x) => x.grad!.toArray())) };
    };
    const a = await run(inner);
    const before = small.launches;
    const b = await run(small);
    expect(small.launches - before).toBeGreaterThan(3);
    expect(b.y).toBeAllClose(a.y, { rtol: 1e-12, atol: 1e-12 });
    b.g.forEach((g, i) => expect(g, `grad ${i}`).toBeAllClose(a.g[i]!, { rtol: 1e-10, atol: 1e-12 }));
  }

  test('matmul: batch groups (bmm), row blocks and split-K (linear over many rows)', async () => {
    await compare((a, b) => F.bmm(a, b), [N([9, 13, 11]), N([9, 11, 7])]);
    // 700 rows x 3: x and y over a window; the weight gradient gyᵀ · x accumulates K = 700 in ranges.
    await compare((x, w, b) => F.linear(x, w, b), [N([700, 3]), N([2, 3]), N([2])]);
  });

  test('permute (kept leading dim splits into runs), narrow', async () => {
    await compare((x) => F.permute(x, [0, 2, 1, 3]), [N([20, 5, 7, 3])]);
  });

  test.skipIf(skip)('narrow on the GPU: 100 short rows go through the concat kernel in windows', async () => {
    // (The CPU device and a few long rows use buffer copies, which have no binding limit.)
    await compare((x) => F.narrow(x, 1, 2, 5), [N([100, 9, 3])], dev);
  });

  test('a binary op with one operand repeated along the leading dims splits into whole periods (forward)', async () => {
    const small = smallLimits(cpu64, { maxBindingBytes: 4 << 10 });
    // Windows start at multiples of lcm(period, offset alignment): 640 floats here (the alignment is 64 floats).
    const [a, b] = [N([6, 20, 32]), N([20, 32])];
    const run = async (d: Device) => {
      const ta = tensor(Float64Array.from(a.data), a.shape, { device: d });
      const tb = tensor(Float64Array.from(b.data), b.shape, { device: d });
      return [await F.mul(ta, tb).toArray(), await F.sub(tb, ta).toArray()];
    };
    const want = await run(cpu64);
    const before = small.launches;
    const got = await run(small);
    expect(small.launches - before).toBeGreaterThan(4);
    got.forEach((g, i) => expect(g).toBeAllClose(want[i]!, { rtol: 0, atol: 0 }));
  });

  test('what cannot be split is a LimitError naming the op', () => {
    const small = smallLimits(cpu64, { maxBindingBytes: 4 << 10 });
    const t = (shape: number[]) => tensor(randnArray(R, prod(shape)), shape, { device: small });
    // b [K, N] over the limit: rows of a cannot help, and b is not split.
    expect(() => F.matmul(t([2, 4]), t([4, 300]))).toThrow(LimitError);
    expect(() => F.matmul(t([2, 4]), t([4, 300]))).toThrow(/^matmul: maxStorageBufferBindingSize/);
    // A full transpose of a big 2-D tensor keeps no leading dim in place.
    expect(() => F.permute(t([40, 30]), [1, 0])).toThrow(/^permute: maxStorageBufferBindingSize/);
  });
});

describe('bad calls: typed errors naming the op and the values', () => {
  const t = (...shape: number[]) => tensor(randnArray(R, prod(shape)), shape, { device: cpu64 });
  test.each([
    ['matmul 1-D', () => F.matmul(t(3), t(3, 2)), ShapeError, /^matmul: .*\[3\].*\[3, 2\].*at least 2 dims/],
    ['matmul batch dims differ', () => F.matmul(t(2, 3, 4), t(3, 4, 5)), ShapeError, /^matmul: .*leading \(batch\) dims/],
    ['matmul inner dims', () => F.matmul(t(2, 3, 4), t(5, 2)), ShapeError, /^matmul: .*inner dims 4 and 5/],
    ['bmm not 3-D', () => F.bmm(t(3, 4), t(4, 2)), ShapeError, /^bmm: .*\[3, 4\]/],
    ['linear in features', () => F.linear(t(2, 3), t(4, 5)), ShapeError, /^linear: x \[2, 3\] and weight \[4, 5\]/],
    ['linear bias', () => F.linear(t(2, 3), t(4, 3), t(3)), ShapeError, /^linear: bias \[3\] must be \[4\]/],
    ['permute repeats a dim', () => F.permute(t(2, 3), [0, 0]), ShapeError, /^permute: dims \[0, 0\] repeat a dim/],
    ['permute too few dims', () => F.permute(t(2, 3), [1]), ArgumentError, /^permute: perm \[1\] must order every dim of x \[2, 3\]/],
    ['permute out of range', () => F.permute(t(2, 3), [0, 2]), ShapeError, /^permute: dim 2 is out of range/],
    ['narrow past the end', () => F.narrow(t(2, 3), 1, 2, 2), ShapeError, /^narrow: start 2 \+ length 2 exceeds dim 1/],
    ['sdpa embed dims', () => F.scaledDotProductAttention(t(2, 3), t(4, 5), t(4, 5)), ShapeError, /^scaledDotProductAttention: .*embed dims 3 and 5/],
    ['sdpa mask shape', () => F.scaledDotProductAttention(t(2, 3), t(4, 3), t(4, 5), { attnMask: t(3, 4) }), ShapeError, /^scaledDotProductAttention: attnMask \[3, 4\]/],
    ['sdpa causal and mask', () => F.scaledDotProductAttention(t(2, 3), t(2, 3), t(2, 3), { attnMask: t(2, 2), isCausal: true }), ArgumentError, /exclusive/],
    ['sdpa unknown option', () => F.scaledDotProductAttention(t(2, 3), t(2, 3), t(2, 3), { causal: true } as never), ArgumentError, /causal/],
    ['MHA heads', () => new nn.MultiheadAttention(6, 4), ArgumentError, /^MultiheadAttention: embed_dim 6 must be divisible by num_heads 4/],
    ['sdpa scores past one buffer', () => {
      // lavapipe's buffer limit (256 MiB), on the meta device: shapes only.
      const meta = new RecordingMetaBackend({ maxBindingBytes: 128 << 20, maxBufferBytes: 256 << 20, bindingOffsetAlignment: 256 });
      const q = Tensor.empty([8, 16384, 32], 'f32', meta);
      return F.scaledDotProductAttention(q, q, q);
    }, LimitError, /^scaledDotProductAttention: maxBufferSize .*8 batch x head slices of 16384 queries by 16384 keys/],
  ] as const)('%s', (_n, f, type, msg) => {
    expect(f).toThrow(type);
    expect(f).toThrow(msg);
  });
});
