// Barrel of src/checkpoint: reading checkpoints (safe torch reader, safetensors) and saving models.
export {
  type CheckpointContents,
  type LoadCheckpointOptions,
  loadCheckpoint,
  type ReadCheckpointOptions,
  readCheckpoint,
} from './load';
export { type SaveCheckpointOptions, saveCheckpoint } from './save';
export { type CheckpointSource, readCheckpointBytes } from './source';
