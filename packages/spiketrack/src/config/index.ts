// Barrel of src/config: built-in configurations and inference from checkpoint shapes.
export {
  type InferredSpikeTrackConfig,
  inferSpikeTrackConfig,
  matchSpikeTrackConfig,
  resolveSpikeTrackConfig,
  SPIKETRACK_CONFIG_NAMES,
  SPIKETRACK_CONFIGS,
  type SpikeTrackConfig,
  type SpikeTrackConfigName,
} from './config';
