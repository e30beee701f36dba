// Barrel of src/checkpoint: reading checkpoints (safe torch reader, safetensors), saving models,
// averaging checkpoints.
export {
  type AverageCheckpointsOptions,
  type AveragedCheckpoint,
  averageCheckpoints,
  type CheckpointToAverage,
} from './average';
export {
  type CheckpointContents,
  type LoadCheckpointOptions,
  loadCheckpoint,
  type ReadCheckpointOptions,
  readCheckpoint,
} from './load';
export { type SaveCheckpointOptions, saveCheckpoint } from './save';
export { type CheckpointSource, readCheckpointBytes } from './source';
