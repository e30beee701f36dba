/**
 * Fused multi-step neuron kernels: NI-LIF and LIF over all T steps in one pass (JavaScript on
 * `cpu`, WebAssembly SIMD on `wasm`, a WGSL compute shader on `webgpu`), bit-identical to the
 * composite `niLif` / `lif`, with gradients equal to theirs. Registration happens on first use or
 * through {@link registerFusedNeuronKernels}, never at import.
 *
 * Also the convolution gradients tfjs-backend-wasm lacks ({@link WASM_CONV_GRADIENT_KERNELS}),
 * which `@spiketrack/neurons` registers for `wasm` when it is imported.
 */
export { lifFused, niLifFused } from './fused';
export {
  type FusedOutput,
  LIF_KERNEL,
  type LifKernelAttrs,
  NI_LIF_GRAD_KERNEL,
  NI_LIF_KERNEL,
  type NiLifKernelAttrs,
} from './names';
export { FUSED_KERNEL_BACKENDS, hasFusedKernel, registerFusedNeuronKernels } from './register';
export { registerWasmBatchMatMul, setWasmSimdMatMulEnabled } from './wasm-batch-matmul';
export { registerWasmIdentity } from './wasm-identity';
export { registerWasmSlice } from './wasm-slice';
export { registerWasmDepthwise, setWasmDepthwiseEnabled } from './wasm-depthwise';
export { registerWasmConvGradients, WASM_CONV_GRADIENT_KERNELS } from './wasm-conv-backprop';
