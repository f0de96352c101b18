// class_target_check — records the class targets that are not a class, for the device's deferred check (the next
// readback or sync throws naming the op and a bad value; no readback of its own):
//   bad(r) = t != ignore (when IGNORE) and t outside [0, C),   t = class_target(tgt[off + r])   for r in [0, n),
// so an f32 target that is no integer counts as bad (lib/class_target.wgsl). For each bad target:
//   flag[2 slot] += 1 (atomicAdd: how many),   flag[2 slot + 1] = max(flag[2 slot + 1], raw bits) (atomicMax: one
//   bad value, the same one on every run).
// flag is the device's small check buffer (bound whole; the backend reads and clears it at the next readback); slot is
// the one the device gave this op's launches. tgt is bound as a window; off is the first target's index in it.
// One invocation per target; 1-D grid folded past 65,535 workgroups.
// Bindings: 0 tgt (read) · 1 flag (write, atomic) · 2 p (uniform Params).

// #include "lib/class_target.wgsl"

override WG: u32 = 256u;
override TGT_F32: bool = false;
override IGNORE: bool = true;

struct Params { n: u32, off: u32, C: u32, ignore: i32, slot: u32 }

@group(0) @binding(0) var<storage, read> tgt: array<u32>;
@group(0) @binding(1) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;
  if (r >= p.n) { return; }
  let raw = tgt[p.off + r];
  let t = class_target(raw, TGT_F32);
  if ((IGNORE && t == p.ignore) || (t >= 0 && u32(t) < p.C)) { return; }
  atomicAdd(&flag[2u * p.slot], 1u);
  atomicMax(&flag[2u * p.slot + 1u], raw);
}
