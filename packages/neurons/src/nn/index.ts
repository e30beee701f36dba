// Barrel of src/nn: basic layers with PyTorch names and layouts.
export {
  BatchNorm1d,
  BatchNorm2d,
  BatchNormBase,
  type BatchNormConstants,
  type BatchNormOptions,
  type ExactConstants,
  type FoldedWeights,
  FrozenBatchNorm1d,
  FrozenBatchNorm2d,
  FrozenBatchNormBase,
  foldBatchNorm,
  hasExactConstants,
  NormBase,
  refreshExactConstants,
} from './batchnorm';
export {
  type CalibrateNormsOptions,
  type CalibrateNormsReport,
  calibrateFrozenNorms,
} from './calibrate-norms';
export { Identity, ModuleList, Sequential, type TensorModule } from './containers';
export { FoldedWeightsCache } from './folded-weights-cache';
export {
  Conv1d,
  type Conv1dOptions,
  type Conv1dPadding,
  Conv2d,
  type Conv2dFnOptions,
  type Conv2dOptions,
  type Conv2dPadding,
  conv2dNhwc,
  type Pair as ConvPair,
  type PaddingPairs,
} from './conv';
export { biasUniform, kaimingUniform } from './init';
export { Linear, type LinearOptions } from './linear';
export {
  AdaptiveAvgPool2d,
  adaptiveAvgPool2d,
  type OutputSize,
  type ResizeBilinearOptions,
  resizeBilinear,
  Upsample,
  type UpsampleOptions,
} from './pooling';
export { type RecordedMatMulOptions, recordedMatMul } from './products';
export { ParameterList } from './parameter-list';
