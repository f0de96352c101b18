/** Element types. f32 is the compute type; u32/i32 hold indices (maxpool argmax, class labels). */
export type DType = 'f32' | 'u32' | 'i32';

/** What a backend stores per element: f32 tensors may be held in f64 by the CPU backend (gradcheck). */
export type NumArray = Float32Array | Float64Array | Uint32Array | Int32Array;

/** Every dtype is 4 bytes on the GPU. */
export const BYTES_PER_ELEMENT = 4;

export function arrayFor(dtype: DType, n: number, f64 = false): NumArray {
  switch (dtype) {
    case 'f32':
      return f64 ? new Float64Array(n) : new Float32Array(n);
    case 'u32':
      return new Uint32Array(n);
    case 'i32':
      return new Int32Array(n);
  }
}

export function dtypeOf(a: ArrayLike<number>): DType {
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  return 'f32';
}
