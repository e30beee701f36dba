/**
 * The fused kernels of the `wasm` backend. They work on the backend's heap in place: the SIMD
 * functions of `wasm-simd.ts` handle 4 neurons at a time, and the JavaScript loops (with the wasm
 * backend's clamp) the rest, or everything where SIMD is unavailable.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { backendSigmoid, lifAttrs, niLifAttrs, outputOf, stepsAndNeurons } from './kernel-util';
import { isPowerOfTwo, lifLoop, lifLoopConfig, niLifGradLoop, niLifLoop } from './loops';
import { LIF_KERNEL, NI_LIF_GRAD_KERNEL, NI_LIF_KERNEL } from './names';
import { backendMemory, heapOffset as offset, type WasmBackend } from './wasm-heap';
import { SIMD_NEURONS, wasmSimdKernels } from './wasm-simd';

function heapF32(b: WasmBackend, t: tf.TensorInfo): Float32Array {
  const a = b.typedArrayFromHeap(t);
  if (!(a instanceof Float32Array)) {
    throw new Error(`fused neuron kernel (wasm): expected float32 data, got ${t.dtype}`);
  }
  return a;
}

/** Neurons the SIMD code covers (a multiple of {@link SIMD_NEURONS}), or 0 without SIMD. */
function simdNeurons(neurons: number, simd: unknown): number {
  return simd ? neurons - (neurons % SIMD_NEURONS) : 0;
}

const niLifWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmBackend;
  const { x, decayLogits } = inputs as { x: tf.TensorInfo; decayLogits: tf.TensorInfo };
  const a = niLifAttrs(attrs!);
  const output = outputOf(a);
  const [steps, neurons] = stepsAndNeurons(x.shape);
  const sig = steps > 1 ? backendSigmoid(decayLogits, b, 'wasm') : null;
  // Allocate before taking any view of the heap: an allocation may grow (and detach) it.
  const out = b.makeOutput(x.shape.slice(), 'float32');
  const simd = wasmSimdKernels(backendMemory(b));
  const n4 = simdNeurons(neurons, simd);
  if (n4 > 0) {
    simd!.niLif(output, isPowerOfTwo(a.levels))(
      offset(b, x),
      offset(b, out),
      sig ? offset(b, sig) : 0,
      neurons * 4,
      n4 * 4,
      steps,
      a.levels,
      1 / a.levels,
    );
  }
  if (n4 < neurons) {
    const k = sig ? heapF32(b, sig) : null;
    niLifLoop(heapF32(b, x), heapF32(b, out), k, steps, neurons, a.levels, 'wasm', output, n4, neurons);
  }
  if (sig) b.disposeData(sig.dataId);
  return out;
};

const lifWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmBackend;
  const { x } = inputs as { x: tf.TensorInfo };
  const a = lifAttrs(attrs!);
  const output = outputOf(a);
  const [steps, neurons] = stepsAndNeurons(x.shape);
  const c = lifLoopConfig(a.tau, a.vThreshold, a.reset, a.vReset, a.decayInput);
  const out = b.makeOutput(x.shape.slice(), 'float32');
  const shape = {
    reset: c.reset,
    decayInput: c.decayInput,
    restZero: c.restZero,
    vResetZero: c.vResetZero,
    tauPowerOfTwo: isPowerOfTwo(c.tau),
    output,
  };
  const simd = wasmSimdKernels(backendMemory(b))?.lif(shape) ?? null;
  const n4 = simdNeurons(neurons, simd);
  if (n4 > 0) {
    simd!(
      offset(b, x),
      offset(b, out),
      neurons * 4,
      n4 * 4,
      steps,
      c.tau,
      c.vThreshold,
      c.rest,
      c.vReset,
      1 / c.tau,
    );
  }
  if (n4 < neurons) lifLoop(heapF32(b, x), heapF32(b, out), steps, neurons, c, output, n4, neurons);
  return out;
};

const niLifGradWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmBackend;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  // Allocate before taking any view of the heap: an allocation may grow (and detach) it.
  const out = b.makeOutput(x.shape.slice(), 'float32');
  niLifGradLoop(heapF32(b, dy), heapF32(b, x), heapF32(b, out), (attrs as { levels: number }).levels);
  return out;
};

export const wasmKernels: tf.KernelConfig[] = [
  { kernelName: NI_LIF_KERNEL, backendName: 'wasm', kernelFunc: niLifWasm },
  { kernelName: LIF_KERNEL, backendName: 'wasm', kernelFunc: lifWasm },
  { kernelName: NI_LIF_GRAD_KERNEL, backendName: 'wasm', kernelFunc: niLifGradWasm },
];
