// Barrel of src/model: the network, its encoder and the template cache.
export { SpikeTrackEncoder, type SpikeTrackEncoderOptions } from './encoder';
export {
  CHECKPOINT_METADATA,
  type FromCheckpointOptions,
  type SpikeTrackConfigInput,
  SpikeTrackModel,
  type SpikeTrackModelOptions,
  type TemplateInput,
} from './model';
export { TemplateCache } from './template-cache';
export {
  assertTrackingNetwork,
  isTrackingNetwork,
  type TemplateState,
  type TrackingNetwork,
  type TrackingNetworkConfig,
  toSearchTensor,
  toTemplateTensor,
} from './tracking-network';
