/**
 * The spatially flipped filter that a convolution's input gradient convolves with.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-heap';

/**
 * `filter` (`[kh, kw, a, b]`) flipped along both spatial axes, with its two channel axes swapped
 * when `swapChannels` (`[kh, kw, b, a]`): `transpose(reverse(filter, [0, 1]), [0, 1, 3, 2])`.
 * On wasm it is one copy loop over the heap: tfjs-backend-wasm's `Reverse` takes ~30 ns per
 * element (1 ms for a `[3, 3, 128, 32]` filter, every training step, for every convolution).
 * Values are moved, not computed, so every backend gives the same result.
 */
export function flipFilter(filter: tf.Tensor4D, swapChannels: boolean): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  if (tf.getBackend() !== 'wasm' || filter.dtype !== 'float32') {
    return tf.tidy(() => {
      const flipped = kh * kw === 1 ? filter : tf.reverse(filter, [0, 1]);
      return (swapChannels ? tf.transpose(flipped, [0, 1, 3, 2]) : tf.clone(flipped)) as tf.Tensor4D;
    });
  }
  const backend = tf.backend() as WasmBackend;
  // allocate first: growing the heap detaches views taken before
  const out = backend.makeOutput(swapChannels ? [kh, kw, b, a] : [kh, kw, a, b], 'float32');
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const taps = kh * kw;
  const size = a * b;
  for (let t = 0; t < taps; t++) {
    const from = (taps - 1 - t) * size;
    const to = t * size;
    if (!swapChannels) {
      dst.set(src.subarray(from, from + size), to);
      continue;
    }
    for (let i = 0; i < a; i++) {
      const row = from + i * b;
      for (let j = 0; j < b; j++) dst[to + j * a + i] = src[row + j] as number;
    }
  }
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor4D;
}
