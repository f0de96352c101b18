// Probes for a WebGPU adapter through Dawn's node binding (the `webgpu` package).
// Prints one JSON line {ok, description, ...}; exit 0 when an adapter exists, 1 when not, 2 when Dawn won't load.
import os from 'node:os';

if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = os.tmpdir();
let create;
try {
  ({ create } = await import('webgpu'));
} catch (e) {
  console.log(JSON.stringify({ ok: false, reason: `cannot load the 'webgpu' package: ${e.message}` }));
  process.exit(2);
}
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.log(JSON.stringify({ ok: false, reason: 'Dawn found no WebGPU adapter (no Vulkan driver Dawn accepts)' }));
  process.exit(1);
}
const info = adapter.info ?? {};
console.log(JSON.stringify({
  ok: true,
  vendor: info.vendor, architecture: info.architecture, description: info.description,
  maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  maxBufferSize: adapter.limits.maxBufferSize,
  features: [...adapter.features].sort(),
}));
process.exit(0);
