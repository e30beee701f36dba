// Barrel of src/checkpoint: reading checkpoint bytes and saving models as safetensors.
export { type SaveCheckpointOptions, saveCheckpoint } from './save';
export { type CheckpointSource, readCheckpointBytes } from './source';
