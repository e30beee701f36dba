// Barrel of src/train: the losses, the sampler, the trainer (and its gradient shards) and held-out evaluation.
export { gaussianRadius, generateHeatmap, type HeatmapOptions, heatmapValues } from './heatmap';
export {
  boxCxcywhToXyxy,
  boxXywhToXyxy,
  type FocalLossOptions,
  focalLoss,
  type GiouLossResult,
  giouLoss,
  type LossWeights,
  l1Loss,
  REFERENCE_LOSS_WEIGHTS,
  type TrackingLossOptions,
  type TrackingLossResult,
  type TrackingPrediction,
  trackingLoss,
} from './losses';
export { type BatchGradients, batchGradients } from './batch-gradients';
export {
  combineGradients,
  exportWeights,
  type GradientShard,
  importWeights,
  type ShardRequest,
  type ShardResult,
  splitBatch,
  type TensorData,
  tensorData,
} from './gradient-shard';
export { NORM_STATS_MODES, type NormStatsMode, setTrainingMode } from './norm-stats';
export { evaluateHeldOut, type HeldOutResult, type HeldOutSequence } from './held-out';
export {
  boxInCrop,
  cropReadRegion,
  jitterBox,
  type SamplerOptions,
  type TrainingSample,
  TrainingSampler,
  type TrainingSequence,
} from './sampler';
export { SYNTHETIC_TRAIN_V1, syntheticTrainingSequences } from './synthetic-data';
export {
  batchTensors,
  referenceTrainingLoss,
  type StepLog,
  TRAINER_STATE_METADATA,
  Trainer,
  type TrainerOptions,
  TrainingError,
  type TrainingLoss,
  type TrainingTargets,
} from './trainer';
