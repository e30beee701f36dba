import { CheckpointError } from '@spiketrack/neurons';
import { BUNDLED_MODEL, loadBundledModel, SpikeTrackModel } from 'spiketrack';

/** A loaded network and what the page says about it. */
export interface LoadedModel {
  model: SpikeTrackModel;
  /** `bundled: spiketrack-synthetic-v1` or the dropped file's name. */
  source: string;
  /** One line: configuration name or `custom`, dims, R, T, parameter count. */
  summary: string;
}

function describe(model: SpikeTrackModel): string {
  const c = model.config;
  let params = 0;
  for (const v of model.namedParameters().values()) params += v.size;
  const name = c.name ?? 'custom';
  return `${name}: dims [${c.dims.join(', ')}], R = ${c.resolution}, T = ${c.templates}, ${(params / 1e6).toFixed(2)} M parameters`;
}

/**
 * The model bundled with `spiketrack`. Its weights are an asset of this app: the package's
 * `bundledModelUrl()` is a `new URL(…, import.meta.url)`, which Vite emits next to the page.
 */
export async function loadDefaultModel(): Promise<LoadedModel> {
  const model = await loadBundledModel();
  // It never saw a real video: say so, as webcam tracking with it is a toy.
  const note = `Trained on ${BUNDLED_MODEL.trainedOn}. For real video, drop an official checkpoint.`;
  return { model, source: `bundled: ${BUNDLED_MODEL.name}`, summary: `${describe(model)}. ${note}` };
}

const CHECKPOINT_NAME = /\.(pth\.tar|pth|pt|tar|safetensors)$/i;

/**
 * A checkpoint the user dropped or picked: an official `.pth.tar` (read by the safe reader: no
 * pickle code runs) or a `.safetensors` file. The configuration comes from the file's metadata or
 * is inferred from its tensor shapes.
 */
export async function loadDroppedModel(file: File): Promise<LoadedModel> {
  if (!CHECKPOINT_NAME.test(file.name)) {
    throw new CheckpointError(
      `'${file.name}' is not a checkpoint: expected a .pth.tar (official SpikeTrack) or a .safetensors file`,
    );
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  // Non-strict, as the official tracker loads (`load_state_dict(strict=False)`); what is missing is shown.
  const model = await SpikeTrackModel.fromCheckpoint(bytes, { strict: false });
  model.eval();
  const missing = model.loadReport?.missing.length ?? 0;
  if (missing === model.namedParameters().size) {
    model.dispose();
    throw new CheckpointError(`'${file.name}' holds none of the network's parameters`);
  }
  const note = missing > 0 ? ` (${missing} tensors missing from the file: left at their initial values)` : '';
  return { model, source: file.name, summary: describe(model) + note };
}
