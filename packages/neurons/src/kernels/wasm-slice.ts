/**
 * `Slice` and `Unpack` for tfjs-backend-wasm 4.22 that read their input in place.
 *
 * The backend's `Slice` starts with `readSync`, which copies the whole input out of the wasm heap
 * into a fresh JavaScript buffer before it copies the slice, and its `Unpack` (`tf.unstack`) runs
 * that `Slice` once per output: unstacking T timesteps copies the whole tensor T + 1 times and
 * allocates T large buffers for the garbage collector. On the memory retrieval's `[3, 1, 16, 16,
 * 512]` responders of a T = 3 tracker that was ~10 ms per call, 15 % of a frame. These kernels view
 * the input on the heap and copy only the elements of each output, in contiguous runs.
 * The values are the same bits (a copy); string tensors go to the native kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-heap';
import { replaceWasmKernel } from './wasm-replace';

const natives = new Map<string, tf.KernelFunc>();

/**
 * Copies the box `begin` + `size` of `src` (shape `shape`, row-major) into `dst`, in runs as long
 * as the trailing full axes allow.
 */
export function copyBox(
  src: tf.TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: tf.TypedArray,
): void {
  const rank = shape.length;
  // axes after k are whole: each step over the axes before k copies one run
  let k = rank - 1;
  let inner = 1;
  while (k >= 0 && size[k] === shape[k]) {
    inner *= shape[k] as number;
    k--;
  }
  if (k < 0) {
    dst.set(src.subarray(0, dst.length));
    return;
  }
  const strides = new Array<number>(rank);
  let s = 1;
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a] as number;
  }
  const run = inner * (size[k] as number);
  if (run === 0) return;
  const outer = size.slice(0, k);
  const count = outer.reduce((p, d) => p * d, 1);
  const idx = new Array<number>(k).fill(0);
  const base = begin[k]! * strides[k]!;
  let d = 0;
  for (let c = 0; c < count; c++) {
    let o = base;
    for (let a = 0; a < k; a++) o += (begin[a]! + idx[a]!) * strides[a]!;
    if (run >= 16) {
      dst.set(src.subarray(o, o + run), d);
    } else {
      for (let j = 0; j < run; j++) dst[d + j] = src[o + j] as number;
    }
    d += run;
    for (let a = k - 1; a >= 0; a--) {
      if (++idx[a]! < outer[a]!) break;
      idx[a] = 0;
    }
  }
}

/** A new tensor on the heap holding the box `begin` + `size` of `x`. */
function sliceOnHeap(
  backend: WasmBackend,
  x: tf.TensorInfo,
  begin: readonly number[],
  size: number[],
  outShape: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  // views taken after the allocation, which may grow (and so move) the heap
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

function heapSlice(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return (natives.get('Slice') as tf.KernelFunc)(args);
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [number[], number[]];
  return sliceOnHeap(args.backend as WasmBackend, x, b, s, s);
}

function heapUnpack(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const value = args.inputs.value as tf.TensorInfo;
  if (value.dtype === 'string') return (natives.get('Unpack') as tf.KernelFunc)(args);
  const rank = value.shape.length;
  let axis = (args.attrs as unknown as { axis: number }).axis;
  if (axis < 0) axis += rank;
  const n = value.shape[axis] as number;
  const outShape = value.shape.filter((_, a) => a !== axis);
  const begin = new Array<number>(rank).fill(0);
  const size = [...value.shape];
  size[axis] = 1;
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    begin[axis] = i;
    outs.push(sliceOnHeap(args.backend as WasmBackend, value, begin, size, [...outShape]));
  }
  return outs;
}

function replace(kernelName: string, kernelFunc: tf.KernelFunc): boolean {
  const replaced = replaceWasmKernel(kernelName, kernelFunc);
  if (replaced) natives.set(kernelName, replaced);
  return replaced !== null;
}

/**
 * Replaces the `wasm` backend's `Slice` and `Unpack` with the in-place readers of this file. Call
 * it after tfjs-backend-wasm is loaded (`selectBackend('wasm')` does); without the backend it does
 * nothing. Idempotent; returns whether it replaced the kernels now.
 */
export function registerWasmSlice(): boolean {
  const a = replace('Slice', heapSlice as tf.KernelFunc);
  const b = replace('Unpack', heapUnpack as tf.KernelFunc);
  return a || b;
}
