/**
 * `@spiketrack/neurons`: the spiking foundation of spiketrack. Browser-safe; Node-only code is in
 * `@spiketrack/neurons/node`, the tfjs-layers adapters in `@spiketrack/neurons/layers`.
 */
export {
  type BackendName,
  type BackendSelection,
  BACKEND_NAMES,
  isSoftwareWebGPUAdapter,
  type SelectBackendOptions,
  selectBackend,
} from './core/backend';
export { BackendError, CheckpointError, ConfigError, ShapeError, SpikeTrackError } from './core/errors';
export { assertGradients, ensureGradients, hasGradients } from './core/gradients';
export { fromTorchLayout, TORCH_LAYOUTS, type TorchLayout, toTorchLayout, torchShapeOf } from './core/layout';
export {
  type AnyModule,
  type BufferOptions,
  type ForwardHook,
  type LoadReport,
  Module,
  type ParamOptions,
  type StateDict,
  type StateDictLayout,
} from './core/module';
export {
  isRecordingOps,
  type OpKind,
  type OpRecord,
  type OpRecorder,
  recordOp,
  startOpRecorder,
  withOpRecorder,
} from './core/op-recorder';
export { assertRank, assertSameShape, assertShape, type DimSpec, formatShape } from './core/shape';
export { isSpikeSource, type SpikeSource } from './core/spike-source';
export * from './io/index';
export * from './kernels/index';
export * from './monitor/index';
export * from './neurons/index';
export * from './nn/index';
export * from './optim/index';
export * from './surrogates/index';

import { registerWasmConvGradients } from './kernels/wasm-conv-backprop';

// The conv gradients tfjs-backend-wasm lacks, so that every conv trains on wasm (no wasm import needed).
registerWasmConvGradients();
