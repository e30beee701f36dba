import { type StateDictLayout, saveModuleSafetensors } from '@spiketrack/neurons';
import { CHECKPOINT_METADATA, type SpikeTrackModel } from '../model/model';

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /**
   * `'torch'` (default): the reference's keys and PyTorch layouts (OIHW convs, `[O, I, 1]` Conv1d),
   * `num_batches_tracked` as int64: PyTorch loads it with
   * `model.load_state_dict(safetensors.torch.load_file(path))` into the reference's `SpikeTrack`.
   * `'native'`: our NHWC layouts (faster to load here, not for PyTorch).
   */
  layout?: StateDictLayout;
  /** Extra `__metadata__` string pairs. */
  metadata?: Record<string, string>;
  /**
   * Storage of the float tensors: `'F32'` (default), `'F16'` or `'BF16'` (half the size; they
   * load back as float32, rounded). PyTorch's `load_state_dict` converts them to the model's dtype.
   */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Serializes a model's weights as safetensors bytes (write them to a `.safetensors` file). The
 * file records its layout (`spiketrack.layout`) and the model's configuration
 * (`spiketrack.config`, JSON), so `SpikeTrackModel.fromCheckpoint` rebuilds the same model from it.
 */
export async function saveCheckpoint(
  model: SpikeTrackModel,
  opts: SaveCheckpointOptions = {},
): Promise<Uint8Array> {
  const layout = opts.layout ?? 'torch';
  return saveModuleSafetensors(model, {
    layout,
    ...(opts.floatDtype ? { floatDtype: opts.floatDtype } : {}),
    metadata: {
      ...(layout === 'torch' ? { format: 'pt' } : {}),
      ...opts.metadata,
      [CHECKPOINT_METADATA.config]: JSON.stringify(model.config),
    },
  });
}
