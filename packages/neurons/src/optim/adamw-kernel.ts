/**
 * AdamW's update of one parameter as one kernel on the `cpu` and `wasm` backends: a JavaScript loop
 * over the backend's arrays instead of the 14 elementwise kernels (and their scalar tensors) of the
 * composite update, bit for bit the same. Each composite op rounds to float32, so the loop rounds
 * every intermediate with `Math.fround` in the same order (float64 `+ − × ÷ √` of float32 values,
 * rounded once, are the float32 operations' results). Other backends keep the composite.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Kernel name of the fused AdamW update (inputs `param`, `grad`, `expAvg`, `expAvgSq`; outputs the new three). */
export const ADAMW_KERNEL = 'SpiketrackAdamW';

/**
 * Attributes of {@link ADAMW_KERNEL}: the numbers the composite update multiplies, divides or adds
 * (each becomes a float32 scalar there, and is rounded the same way here).
 */
export interface AdamWKernelAttrs {
  /** β₁ and 1 − β₁. */
  beta1: number;
  oneMinusBeta1: number;
  /** β₂ and 1 − β₂. */
  beta2: number;
  oneMinusBeta2: number;
  /** 1 − lr·λ (1 without weight decay: p · 1 is p). */
  decay: number;
  /** √(1 − β₂ᵗ). */
  bc2Sqrt: number;
  eps: number;
  /** lr / (1 − β₁ᵗ). */
  stepSize: number;
}

const fr = Math.fround;

/** The update, element by element, into `pOut`, `mOut`, `vOut` (which may be new arrays). */
export function adamwLoop(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  a: AdamWKernelAttrs,
): void {
  const b1 = fr(a.beta1);
  const c1 = fr(a.oneMinusBeta1);
  const b2 = fr(a.beta2);
  const c2 = fr(a.oneMinusBeta2);
  const decay = fr(a.decay);
  const bc2 = fr(a.bc2Sqrt);
  const eps = fr(a.eps);
  const step = fr(a.stepSize);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] as number;
    const mNew = fr(fr((m[i] as number) * b1) + fr(gi * c1));
    const vNew = fr(fr((v[i] as number) * b2) + fr(fr(gi * gi) * c2));
    const decayed = fr((p[i] as number) * decay);
    const denom = fr(fr(fr(Math.sqrt(vNew)) / bc2) + eps);
    pOut[i] = fr(decayed - fr(fr(mNew / denom) * step));
    mOut[i] = mNew;
    vOut[i] = vNew;
  }
}

interface CpuBackend extends tf.KernelBackend {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.backend_util.TypedArray;
}

type Inputs = { param: tf.TensorInfo; grad: tf.TensorInfo; expAvg: tf.TensorInfo; expAvgSq: tf.TensorInfo };

function checkInputs(inputs: Inputs): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new Error(`${ADAMW_KERNEL}: ${name} must be float32, got ${t.dtype}`);
    if (!tf.util.arraysEqual(t.shape, inputs.param.shape)) {
      throw new Error(
        `${ADAMW_KERNEL}: ${name} has shape [${t.shape}], the parameter [${inputs.param.shape}]`,
      );
    }
  }
}

const adamwCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as CpuBackend;
  const x = inputs as Inputs;
  checkInputs(x);
  const read = (t: tf.TensorInfo): Float32Array => {
    const v = b.data.get(t.dataId).values;
    if (v instanceof Float32Array) return v;
    return Float32Array.from(v as ArrayLike<number>);
  };
  const n = tf.util.sizeFromShape(x.param.shape);
  const [p, m, v] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  adamwLoop(
    read(x.param),
    read(x.grad),
    read(x.expAvg),
    read(x.expAvgSq),
    p,
    m,
    v,
    attrs as unknown as AdamWKernelAttrs,
  );
  const shape = x.param.shape.slice();
  return [
    b.makeTensorInfo(shape, 'float32', p),
    b.makeTensorInfo(shape, 'float32', m),
    b.makeTensorInfo(shape, 'float32', v),
  ];
};

const adamwWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmBackend;
  const x = inputs as Inputs;
  checkInputs(x);
  const shape = x.param.shape.slice();
  // Allocate before taking any view of the heap: an allocation may grow (and detach) it.
  const outs = [
    b.makeOutput(shape, 'float32'),
    b.makeOutput(shape, 'float32'),
    b.makeOutput(shape, 'float32'),
  ];
  const view = (t: tf.TensorInfo) => b.typedArrayFromHeap(t) as Float32Array;
  adamwLoop(
    view(x.param),
    view(x.grad),
    view(x.expAvg),
    view(x.expAvgSq),
    view(outs[0] as tf.TensorInfo),
    view(outs[1] as tf.TensorInfo),
    view(outs[2] as tf.TensorInfo),
    attrs as unknown as AdamWKernelAttrs,
  );
  return outs;
};

let registered = false;

/** Registers {@link ADAMW_KERNEL} for `cpu` and `wasm` (idempotent; AdamW calls it). */
export function registerAdamWKernel(): void {
  if (registered) return;
  for (const [backendName, kernelFunc] of [
    ['cpu', adamwCpu],
    ['wasm', adamwWasm],
  ] as const) {
    if (!tf.getKernel(ADAMW_KERNEL, backendName))
      tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName, kernelFunc });
  }
  registered = true;
}
