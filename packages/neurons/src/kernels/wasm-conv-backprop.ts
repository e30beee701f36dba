/**
 * The convolution gradient kernels tfjs-backend-wasm 4.22 lacks, registered for `wasm`:
 * `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter` and
 * `DepthwiseConv2dNativeBackpropInput`. Each is composed from ops the backend has (see
 * `conv-backprop.ts`), so `tf.grad` of every conv trains there. Also a composite
 * `Conv2DBackpropInput`, which replaces wasm's own (a plain loop, about 8× slower than the
 * backend's convolution it is composed of).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../core/errors';
import {
  type ConvBackpropGeometry,
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseConv2dFilterGradient,
  depthwiseConv2dInputGradient,
} from './conv-backprop';

/** The kernels {@link registerWasmConvGradients} provides for the `wasm` backend. */
export const WASM_CONV_GRADIENT_KERNELS: readonly string[] = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
];

type Shape4 = [number, number, number, number];

/** A kernel input as a tensor (the engine passes tensors; a bare TensorInfo is wrapped). */
function asTensor(t: tf.TensorInfo): { tensor: tf.Tensor4D; owned: boolean } {
  if (t instanceof tf.Tensor) return { tensor: t as tf.Tensor4D, owned: false };
  return { tensor: tf.engine().makeTensorFromTensorInfo(t) as tf.Tensor4D, owned: true };
}

function geometryOf(kernel: string, attrs: tf.NamedAttrMap): ConvBackpropGeometry {
  const dataFormat = attrs.dataFormat as string | undefined;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new ShapeError(`${kernel} (wasm): only NHWC is supported, got dataFormat '${dataFormat}'`);
  }
  return {
    strides: attrs.strides as ConvBackpropGeometry['strides'],
    pad: attrs.pad as ConvBackpropGeometry['pad'],
    dilations: (attrs.dilations ?? 1) as ConvBackpropGeometry['dilations'],
    dimRoundingMode: attrs.dimRoundingMode as ConvBackpropGeometry['dimRoundingMode'],
  };
}

/**
 * A kernel function that runs `compute` on tensors made of the kernel's inputs. Inside a kernel
 * the engine records no gradients, and the intermediates are disposed by the tidy.
 */
function composite(
  kernel: string,
  names: [string, string],
  compute: (a: tf.Tensor4D, b: tf.Tensor4D, attrs: tf.NamedAttrMap, g: ConvBackpropGeometry) => tf.Tensor,
): tf.KernelFunc {
  return ({ inputs, attrs }) => {
    const a = asTensor(inputs[names[0]] as tf.TensorInfo);
    const b = asTensor(inputs[names[1]] as tf.TensorInfo);
    try {
      const at = attrs ?? {};
      return tf.tidy(() => compute(a.tensor, b.tensor, at, geometryOf(kernel, at)));
    } finally {
      if (a.owned) a.tensor.dispose();
      if (b.owned) b.tensor.dispose();
    }
  };
}

const kernels: tf.KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: composite('Conv2DBackpropFilter', ['x', 'dy'], (x, dy, attrs, g) =>
      conv2dFilterGradient(x, dy, attrs.filterShape as Shape4, g),
    ),
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: 'wasm',
    kernelFunc: composite('DepthwiseConv2dNativeBackpropFilter', ['x', 'dy'], (x, dy, attrs, g) =>
      depthwiseConv2dFilterGradient(x, dy, attrs.filterShape as Shape4, g),
    ),
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: 'wasm',
    kernelFunc: composite('DepthwiseConv2dNativeBackpropInput', ['dy', 'filter'], (dy, filter, attrs, g) =>
      depthwiseConv2dInputGradient(attrs.inputShape as Shape4, dy, filter, g),
    ),
  },
];

/** Replaces tfjs-backend-wasm's slow native `Conv2DBackpropInput` (same results). */
const inputKernel: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: composite('Conv2DBackpropInput', ['dy', 'filter'], (dy, filter, attrs, g) =>
    conv2dInputGradient(attrs.inputShape as Shape4, dy, filter, g),
  ),
};

/**
 * Registers {@link WASM_CONV_GRADIENT_KERNELS} for the `wasm` backend with `tf.registerKernel`.
 * `@spiketrack/neurons` calls it when it is imported, so conv gradients work on wasm without any
 * setup; it needs no wasm import, and leaves alone kernels of these names that are already
 * registered (a future tfjs-backend-wasm may bring its own).
 *
 * Once tfjs-backend-wasm is loaded (its kernels register on import), it also replaces wasm's
 * native `Conv2DBackpropInput`, a plain loop, with a composite about 8× faster: call it again
 * after loading the backend (e.g. after `selectBackend('wasm')`) for that. Idempotent; returns the
 * kernels it registered now.
 */
export function registerWasmConvGradients(): string[] {
  const added: string[] = [];
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, k.backendName)) continue;
    tf.registerKernel(k);
    added.push(k.kernelName);
  }
  const native = tf.getKernel(inputKernel.kernelName, inputKernel.backendName);
  if (native && native.kernelFunc !== inputKernel.kernelFunc) {
    tf.unregisterKernel(inputKernel.kernelName, inputKernel.backendName);
    tf.registerKernel(inputKernel);
    added.push(inputKernel.kernelName);
  }
  return added;
}
