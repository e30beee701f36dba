/**
 * The fused kernels of the `webgpu` backend: one WGSL compute shader per neuron kind, one thread
 * per neuron looping over the T steps, run through the backend's program API
 * (`backend.runWebGPUProgram(program, inputs, dtype, uniforms)`, as tfjs-backend-webgpu's own
 * kernels do). Nothing is imported from tfjs-backend-webgpu: a program is a plain object.
 *
 * Exactness: every operation is the one the composite's shaders perform (`a − b`, `a * b`,
 * `a / b`, `clamp` guarded by `isnan`, `round`, `a >= b`). A shader compiler may contract a product
 * and a following sum into a fused multiply-add, which the composite (separate dispatches) never
 * does; each product and quotient is therefore passed through `stKeep()`, an identity the compiler
 * cannot see through (an XOR with a uniform that is 0 at run time). The decays `sigmoid(a)` come
 * from the backend's own Sigmoid kernel. No approximate built-ins (`inverseSqrt`, …) are used.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { backendSigmoid, lifAttrs, niLifAttrs, outputOf, stepsAndNeurons } from './kernel-util';
import { lifLoopConfig } from './loops';
import { type FusedOutput, LIF_KERNEL, NI_LIF_KERNEL } from './names';

/** The parts of tfjs-backend-webgpu's `WebGPUBackend` these kernels use. */
interface WebGPUBackend extends tf.KernelBackend {
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: 'float32' | 'int32' | 'uint32'; data: number[] }[],
  ): tf.TensorInfo;
}

/** The fields of tfjs-backend-webgpu's `WebGPUProgram` interface that a simple program sets. */
interface WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  size: boolean;
  getUserCode(): string;
}

const WORKGROUP = 64;

const KEEP = `
  fn stKeep(v : f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(v) ^ uniforms.zero);
  }`;

function program(
  key: string,
  variableNames: string[],
  uniforms: string,
  neurons: number,
  steps: number,
  code: string,
): WebGPUProgram {
  return {
    outputShape: [steps * neurons],
    shaderKey: key,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(neurons / WORKGROUP), 1, 1],
    variableNames,
    uniforms,
    workgroupSize: [WORKGROUP, 1, 1],
    size: false,
    getUserCode: () => code,
  };
}

const flat = (t: tf.TensorInfo): tf.TensorInfo => ({
  dataId: t.dataId,
  shape: [t.shape.reduce((a, b) => a * b, 1)],
  dtype: t.dtype,
});

function niLifCode(output: FusedOutput, withDecay: boolean): string {
  const out = output === 'spikes' ? 's' : 'mem';
  const loop = withDecay
    ? `
    for (var t = 1; t < uniforms.steps; t = t + 1) {
      let i = t * uniforms.neurons + n;
      mem = stKeep((mem - s) * f32(K[t - 1])) + f32(X[i]);
      s = stQuant(mem);
      result[i] = ${out};
    }`
    : '';
  return `${KEEP}
  fn stQuant(m : f32) -> f32 {
    var c = m;
    if (!isnan(m)) {
      c = clamp(m, uniforms.minVal, uniforms.maxVal);
    }
    return round(c) / uniforms.levels;
  }

  fn main(index : i32) {
    let n = index;
    if (n >= uniforms.neurons) {
      return;
    }
    var mem = f32(X[n]);
    var s = stQuant(mem);
    result[n] = ${out};${loop}
  }`;
}

const niLifWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WebGPUBackend;
  const { x, decayLogits } = inputs as { x: tf.TensorInfo; decayLogits: tf.TensorInfo };
  const a = niLifAttrs(attrs!);
  const output = outputOf(a);
  const [steps, neurons] = stepsAndNeurons(x.shape);
  const withDecay = steps > 1;
  const sig = withDecay ? backendSigmoid(decayLogits, b, 'webgpu') : null;
  const p = program(
    `spiketrackNiLif_${output}_${withDecay}`,
    withDecay ? ['X', 'K'] : ['X'],
    'neurons : i32, steps : i32, minVal : f32, maxVal : f32, levels : f32, zero : u32,',
    neurons,
    steps,
    niLifCode(output, withDecay),
  );
  const uniforms = [
    { type: 'int32' as const, data: [neurons] },
    { type: 'int32' as const, data: [steps] },
    { type: 'float32' as const, data: [0] },
    { type: 'float32' as const, data: [a.levels] },
    { type: 'float32' as const, data: [a.levels] },
    { type: 'uint32' as const, data: [0] },
  ];
  const res = b.runWebGPUProgram(p, sig ? [flat(x), sig] : [flat(x)], 'float32', uniforms);
  if (sig) b.disposeData(sig.dataId);
  return { dataId: res.dataId, shape: x.shape.slice(), dtype: 'float32' };
};

interface LifCodeShape {
  reset: 'hard' | 'soft' | 'none';
  decayInput: boolean;
  restZero: boolean;
  vResetZero: boolean;
  output: FusedOutput;
}

function lifCode(c: LifCodeShape): string {
  const vRel = c.restZero ? 'v' : '(v - uniforms.rest)';
  const charge = c.decayInput
    ? `let h = v + stKeep((x - ${vRel}) / uniforms.tau);`
    : `let h = (v - stKeep(${vRel} / uniforms.tau)) + x;`;
  let reset: string;
  if (c.reset === 'none') reset = 'v = h;';
  else if (c.reset === 'soft') reset = 'v = h - stKeep(s * uniforms.vth);';
  else if (c.vResetZero) reset = 'v = stKeep(h * (1.0 - s));';
  else reset = 'v = stKeep(h * (1.0 - s)) + stKeep(s * uniforms.vReset);';
  return `${KEEP}
  fn main(index : i32) {
    let n = index;
    if (n >= uniforms.neurons) {
      return;
    }
    var v = ${c.restZero ? '0.0' : 'uniforms.rest'};
    for (var t = 0; t < uniforms.steps; t = t + 1) {
      let i = t * uniforms.neurons + n;
      let x = f32(X[i]);
      ${charge}
      let z = h - uniforms.vth;
      let s = select(0.0, 1.0, z >= 0.0);
      result[i] = ${c.output === 'spikes' ? 's' : 'h'};
      ${reset}
    }
  }`;
}

const lifWebGPU: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WebGPUBackend;
  const { x } = inputs as { x: tf.TensorInfo };
  const a = lifAttrs(attrs!);
  const [steps, neurons] = stepsAndNeurons(x.shape);
  const c = lifLoopConfig(a.tau, a.vThreshold, a.reset, a.vReset, a.decayInput);
  const shape: LifCodeShape = {
    reset: c.reset,
    decayInput: c.decayInput,
    restZero: c.restZero,
    vResetZero: c.vResetZero,
    output: outputOf(a),
  };
  const p = program(
    `spiketrackLif_${shape.reset}_${shape.decayInput}_${shape.restZero}_${shape.vResetZero}_${shape.output}`,
    ['X'],
    'neurons : i32, steps : i32, tau : f32, vth : f32, rest : f32, vReset : f32, zero : u32,',
    neurons,
    steps,
    lifCode(shape),
  );
  const uniforms = [
    { type: 'int32' as const, data: [neurons] },
    { type: 'int32' as const, data: [steps] },
    { type: 'float32' as const, data: [c.tau] },
    { type: 'float32' as const, data: [c.vThreshold] },
    { type: 'float32' as const, data: [c.rest] },
    { type: 'float32' as const, data: [c.vReset] },
    { type: 'uint32' as const, data: [0] },
  ];
  const res = b.runWebGPUProgram(p, [flat(x)], 'float32', uniforms);
  return { dataId: res.dataId, shape: x.shape.slice(), dtype: 'float32' };
};

export const webgpuKernels: tf.KernelConfig[] = [
  { kernelName: NI_LIF_KERNEL, backendName: 'webgpu', kernelFunc: niLifWebGPU },
  { kernelName: LIF_KERNEL, backendName: 'webgpu', kernelFunc: lifWebGPU },
];
