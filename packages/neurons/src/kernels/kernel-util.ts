import * as tf from '@tensorflow/tfjs-core';
import type { FusedOutput, LifKernelAttrs, NiLifKernelAttrs } from './names';

/** `[T, N]`: time steps and neurons per step of a time-first input. */
export function stepsAndNeurons(shape: readonly number[]): [number, number] {
  const steps = shape[0]!;
  const size = shape.reduce((a, b) => a * b, 1);
  return [steps, steps === 0 ? 0 : size / steps];
}

/** The kernel's attributes, typed. */
export function niLifAttrs(attrs: tf.NamedAttrMap): NiLifKernelAttrs {
  return attrs as unknown as NiLifKernelAttrs;
}

export function lifAttrs(attrs: tf.NamedAttrMap): LifKernelAttrs {
  return attrs as unknown as LifKernelAttrs;
}

export function outputOf(attrs: { output: FusedOutput }): FusedOutput {
  return attrs.output === 'membrane' ? 'membrane' : 'spikes';
}

/**
 * Runs the backend's own `Sigmoid` kernel on `logits` (so the decays are bit for bit those of
 * `tf.sigmoid` on this backend). The caller disposes the result with `backend.disposeData`.
 */
export function backendSigmoid(logits: tf.TensorInfo, backend: tf.KernelBackend, backendName: string) {
  const k = tf.getKernel('Sigmoid', backendName);
  if (!k) throw new Error(`fused NI-LIF: backend '${backendName}' has no Sigmoid kernel`);
  return k.kernelFunc({ inputs: { x: logits }, backend, attrs: {} }) as tf.TensorInfo;
}
