// What one lane's vec4 memory access costs on this adapter, by where it reads and whether the address is uniform:
// each of N invocations makes ITER dependent vec4 loads (or stores) in a loop, timed with GPU timestamps, minus
// nothing (the 'none' row, the same loop without memory, is the loop's own cost). For kernel researchers deciding
// how to trade loads for registers: on lavapipe (Mesa 25.0.7) every kind costs about the same, uniform or not
// (bench/README 'What a load costs'). Run from a checkout, the JS thread reniced like every benchmark here:
//   npx tsx bench/load_cost.ts [--reps 5]
// One JSON line per kind: median and min-max ms of the dispatch, and ns per lane access at the median.
import { parseArgs } from 'node:util';
import { BufferUsage as U, MapMode, TextureUsage } from '../src/kernels/runtime/gpu_constants.js';
import { openNodeDevice } from '../src/node.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const reps = Number(values.reps);
if (!Number.isInteger(reps) || reps < 1) throw new Error(`load_cost: --reps must be a positive integer, got ${values.reps}`);
const N = 1 << 16;
const ITER = 256;
const SRC = 1024; // vec4s read (16 KiB: fits workgroup memory)

// Per kind: the source declaration, the loop body's value (i: loop counter, k: the index), and what k depends on.
const loop = (decl: string, value: string, lane: boolean) => `
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
${decl}
@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3u) {
  var acc = vec4f(0.0);
  var idx = ${lane ? 'g.x * 7u' : '7u'};
  for (var i = 0u; i < ${ITER}u; i++) { let k = idx & ${SRC - 1}u; acc += ${value}; idx += 13u; }
  out[g.x] = acc;
}`;
const KINDS: Record<string, { code: string; bind?: 'buffer' | 'uniform' | 'texture' }> = {
  storage: { code: loop('@group(0) @binding(1) var<storage, read> src: array<vec4f>;', 'src[k]', true), bind: 'buffer' },
  storage_uniform_address: { code: loop('@group(0) @binding(1) var<storage, read> src: array<vec4f>;', 'src[k]', false), bind: 'buffer' },
  uniform_buffer: { code: loop(`@group(0) @binding(1) var<uniform> src: array<vec4f, ${SRC}>;`, 'src[k]', true), bind: 'uniform' },
  uniform_buffer_uniform_address: { code: loop(`@group(0) @binding(1) var<uniform> src: array<vec4f, ${SRC}>;`, 'src[k]', false), bind: 'uniform' },
  texture: { code: loop('@group(0) @binding(1) var src: texture_2d<f32>;', 'textureLoad(src, vec2u(k & 31u, k >> 5u), 0)', true), bind: 'texture' },
  workgroup: { code: loop(`var<workgroup> src: array<vec4f, ${SRC}>;`, 'src[k]', true) },
  store: {
    code: `@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3u) {
  var idx = g.x * 7u;
  for (var i = 0u; i < ${ITER}u; i++) { out[idx & ${N - 1}u] = vec4f(f32(idx)); idx += 13u; }
}`,
  },
  none: { code: loop('', 'vec4f(f32(k))', true) },
};

const dev = await openNodeDevice({ niceMain: 19 });
const device = dev.device;
if (!device.features.has('timestamp-query')) throw new Error('load_cost: the adapter has no timestamp-query');
const out = device.createBuffer({ size: N * 16, usage: U.STORAGE });
const src = device.createBuffer({ size: SRC * 16, usage: U.STORAGE | U.UNIFORM });
const tex = device.createTexture({ size: [32, SRC / 32], format: 'rgba32float', usage: TextureUsage.TEXTURE_BINDING });
const qs = device.createQuerySet({ type: 'timestamp', count: 2 });
const resolve = device.createBuffer({ size: 16, usage: U.QUERY_RESOLVE | U.COPY_SRC });
for (const [kind, { code, bind }] of Object.entries(KINDS)) {
  const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: out } }];
  if (bind === 'buffer' || bind === 'uniform') entries.push({ binding: 1, resource: { buffer: src } });
  if (bind === 'texture') entries.push({ binding: 1, resource: tex.createView() });
  const group = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
  const ms: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(N / 8);
    pass.end();
    const read = device.createBuffer({ size: 16, usage: U.MAP_READ | U.COPY_DST });
    enc.resolveQuerySet(qs, 0, 2, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(MapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.destroy();
    if (r > 0) ms.push(Number(t[1]! - t[0]!) / 1e6); // the first (cold) run is not counted
  }
  ms.sort((a, b) => a - b);
  const med = ms[ms.length >> 1]!;
  const r3 = (v: number) => +v.toFixed(3);
  console.log(JSON.stringify({ bench: 'load_cost', kind, median_ms: r3(med), min_ms: r3(ms[0]!), max_ms: r3(ms.at(-1)!), ns_per_lane_access: r3((med * 1e6) / (N * ITER)), adapter: dev.description }));
}
await dev.destroy();
