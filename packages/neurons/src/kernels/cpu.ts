/** The fused kernels of the `cpu` backend: the JavaScript loops over the backend's arrays. */
import type * as tf from '@tensorflow/tfjs-core';
import { backendSigmoid, lifAttrs, niLifAttrs, outputOf, stepsAndNeurons } from './kernel-util';
import { lifLoop, lifLoopConfig, niLifGradLoop, niLifLoop } from './loops';
import { LIF_KERNEL, NI_LIF_GRAD_KERNEL, NI_LIF_KERNEL } from './names';

/** The parts of tfjs-backend-cpu's `MathBackendCPU` these kernels use. */
interface CpuBackend extends tf.KernelBackend {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

function values(backend: CpuBackend, t: tf.TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (v instanceof Float32Array) return v;
  // A float32 tensor may keep the array of the int32 tensor it was cast from.
  if (v instanceof Int32Array || v instanceof Uint8Array) return Float32Array.from(v);
  throw new Error(`fused neuron kernel (cpu): expected numeric data for a ${t.dtype} tensor`);
}

const niLifCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as CpuBackend;
  const { x, decayLogits } = inputs as { x: tf.TensorInfo; decayLogits: tf.TensorInfo };
  const a = niLifAttrs(attrs!);
  const [steps, neurons] = stepsAndNeurons(x.shape);
  const y = new Float32Array(steps * neurons);
  let k: Float32Array | null = null;
  if (steps > 1) {
    const sig = backendSigmoid(decayLogits, b, 'cpu');
    k = values(b, sig).slice();
    b.disposeData(sig.dataId);
  }
  niLifLoop(values(b, x), y, k, steps, neurons, a.levels, 'cpu', outputOf(a));
  return b.makeTensorInfo(x.shape.slice(), 'float32', y);
};

const lifCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as CpuBackend;
  const { x } = inputs as { x: tf.TensorInfo };
  const a = lifAttrs(attrs!);
  const [steps, neurons] = stepsAndNeurons(x.shape);
  const y = new Float32Array(steps * neurons);
  const c = lifLoopConfig(a.tau, a.vThreshold, a.reset, a.vReset, a.decayInput);
  lifLoop(values(b, x), y, steps, neurons, c, outputOf(a));
  return b.makeTensorInfo(x.shape.slice(), 'float32', y);
};

const niLifGradCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as CpuBackend;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const out = new Float32Array(x.shape.reduce((p, d) => p * d, 1));
  niLifGradLoop(values(b, dy), values(b, x), out, (attrs as { levels: number }).levels);
  return b.makeTensorInfo(x.shape.slice(), 'float32', out);
};

export const cpuKernels: tf.KernelConfig[] = [
  { kernelName: NI_LIF_KERNEL, backendName: 'cpu', kernelFunc: niLifCpu },
  { kernelName: LIF_KERNEL, backendName: 'cpu', kernelFunc: lifCpu },
  { kernelName: NI_LIF_GRAD_KERNEL, backendName: 'cpu', kernelFunc: niLifGradCpu },
];
