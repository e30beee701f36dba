import { type FromCheckpointOptions, SpikeTrackModel } from './model/model';

/**
 * The model bundled with the package: a small SpikeTrack network trained by `spiketrack train`
 * on the synthetic generator only (`synthetic-train-v1`: textured targets on textured
 * backgrounds, with distractors, occlusions, illumination changes and blur). It is what
 * `Tracker.create()`, `spiketrack track` and `spiketrack demo` use when no checkpoint is given.
 * It has never seen a real video: on real footage use an official checkpoint
 * (`spiketrack_{s256,b256,b384}_{t1,t3}`).
 */
export const BUNDLED_MODEL = Object.freeze({
  /** The weights' name. */
  name: 'spiketrack-synthetic-v1',
  /** The file inside the package (`spiketrack/weights/…`). */
  file: 'weights/spiketrack-synthetic-v1.safetensors',
  /**
   * Its configuration: E-SpikeFormer at [16, 32, 64, 96], R = 128, T = 1, head width 64, with
   * BatchNorm in the backbone (trained from scratch; in eval mode it computes what frozen norms do).
   */
  config: Object.freeze({
    base: 'tiny_256_t1',
    dims: Object.freeze([16, 32, 64, 96]) as readonly [number, number, number, number],
    resolution: 128,
    templates: 1,
    decoderChannel: 64,
    backboneNorm: 'batch' as const,
  }),
  /** What it learned from. */
  trainedOn: 'synthetic-train-v1 (240 generated sequences; no real video)',
  /** How it was trained (from the repository root; `training/bundled-v1/` resumes it). */
  command: 'bash training/bundled-v1/train.sh',
});

/**
 * Where the bundled weights are: a `file:` URL in Node, the served asset in a browser bundle
 * (bundlers such as Vite and webpack 5 emit the file for `new URL(…, import.meta.url)`).
 */
export function bundledModelUrl(): URL {
  return new URL('../weights/spiketrack-synthetic-v1.safetensors', import.meta.url);
}

/**
 * Loads the bundled model ({@link BUNDLED_MODEL}) in eval mode. In Node it reads the package's
 * file; in a browser it fetches {@link bundledModelUrl} (or pass `source`, e.g. the bytes or a URL
 * where your app serves the file).
 */
export async function loadBundledModel(
  source: string | URL | Uint8Array | ArrayBuffer = bundledModelUrl(),
  opts: Pick<FromCheckpointOptions, 'strict'> = {},
): Promise<SpikeTrackModel> {
  const model = await SpikeTrackModel.fromCheckpoint(source, opts);
  return model.eval();
}
