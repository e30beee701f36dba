import { type BackendName, ConfigError, selectBackend } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { bundledModelUrl, loadBundledModel } from '../bundled-model';
import type { CheckpointSource } from '../checkpoint/source';
import { FrameError } from '../frames/frame-error';
import type { RgbImage } from '../frames/rgb-image';
import { type FrameInput, toRgbImage } from '../frames/to-rgb';
import { type SpikeTrackConfigInput, SpikeTrackModel } from '../model/model';
import { assertTrackingNetwork, type TemplateState, type TrackingNetwork } from '../model/tracking-network';
import type { Box } from './box';
import { type TrackerParams, type TrackerParamsInput, resolveTrackerParams } from './params';
import { cropToTensor } from './preprocess';
import { sampleTarget } from './sample-target';
import { TrackerLogic } from './tracker-logic';

/** Options of {@link Tracker.create}. */
export interface TrackerOptions<M extends TrackingNetwork = SpikeTrackModel>
  extends Omit<TrackerParamsInput, 'numTemplates' | 'templateSize' | 'searchSize'> {
  /** A checkpoint (`.pth.tar` or `.safetensors`: path in Node, URL, or bytes) to load the network from (default: the bundled model, `BUNDLED_MODEL`). */
  checkpoint?: CheckpointSource;
  /** A ready network instead (not disposed by the tracker): a `SpikeTrackModel` or any {@link TrackingNetwork}. */
  model?: M;
  /** Select this tfjs backend first (`@spiketrack/neurons` `selectBackend`; in Node, WebGPU needs `spiketrack/node`'s). */
  backend?: BackendName | 'auto';
  /**
   * With `backend`: threads for the wasm backend's kernels (`selectBackend`'s `wasmThreads`; in
   * Node they need `spiketrack/node` or `@spiketrack/neurons/node` imported).
   */
  wasmThreads?: number;
  /** The checkpoint's configuration (default: from the file or its shapes). */
  config?: SpikeTrackConfigInput;
  /** Strict checkpoint loading (default true; the official tracker loads with `strict=False`). */
  strict?: boolean;
}

/** Where one {@link Tracker.track} call spent its time, in milliseconds. */
export interface TrackTimings {
  /** Converting the frame to 8-bit RGB on the CPU (a tensor's download included). */
  frame: number;
  /** Cutting and resizing the search crop (`sample_target`). */
  crop: number;
  /** Normalizing it into the network's input tensor. */
  preprocess: number;
  /** The search branch and head on the cached templates, with the maps' download. */
  network: number;
  /** Hann window, box decoding, mapping back and clipping. */
  postprocess: number;
  /** Cutting the new template and re-encoding the template branch (0 on other frames). */
  templateUpdate: number;
  total: number;
}

/** The result of {@link Tracker.track}. */
export interface TrackResult {
  /** The target's box `[x, y, w, h]` in frame pixels. */
  box: Box;
  /** The confidence (maximum of the Hann-windowed score map). */
  score: number;
  /** Whether the templates were updated on this frame. */
  updated: boolean;
  /** The frame's index since {@link Tracker.initialize} (the initial frame is 0). */
  frame: number;
  timings: TrackTimings;
}

const now = (): number => performance.now();

/**
 * The SpikeTrack tracker: the reference's `SPIKETRACK` (`lib/test/tracker/spiketrack.py`) on a
 * {@link SpikeTrackModel}. Each frame: the `sample_target` crop around the last state (factor 4,
 * R × R, pixel-exact), ImageNet normalization, the search branch on the cached template memories
 * (`trackFrame`), and {@link TrackerLogic} (Hann window, box decoding, `map_box_back`,
 * `clip_box` with margin 10, the template update policy). The template branch runs only when the
 * templates change (`encodeTemplates`).
 *
 * ```ts
 * const tracker = await Tracker.create({ checkpoint: 'spiketrack_b256_t3.pth.tar' });
 * await tracker.initialize(frame0, [x, y, w, h]);
 * for (const frame of frames) console.log((await tracker.track(frame)).box);
 * tracker.dispose();
 * ```
 */
export class Tracker<M extends TrackingNetwork = SpikeTrackModel> {
  /** The network: a `SpikeTrackModel` (loaded, or given), or the {@link TrackingNetwork} given. */
  readonly model: M;
  readonly params: Readonly<TrackerParams>;
  /** The network-free per-frame logic (state, frame index, template slots). */
  readonly logic: TrackerLogic;
  private readonly ownsModel: boolean;
  private cache: TemplateState | null = null;
  /** The template crop of each slot (oldest first; slots may share a crop). */
  private templates: RgbImage[] = [];
  private disposed = false;

  private constructor(model: M, ownsModel: boolean, opts: TrackerParamsInput) {
    this.model = model;
    this.ownsModel = ownsModel;
    const { resolution, templates } = model.config;
    this.params = Object.freeze(resolveTrackerParams(resolution, templates, opts));
    this.logic = new TrackerLogic(this.params);
  }

  /**
   * A tracker on a network given as `model`, or loaded from `checkpoint`; with neither, on the
   * bundled model ({@link BUNDLED_MODEL}: trained on synthetic sequences only; use an official
   * checkpoint on real video).
   */
  static async create<N extends TrackingNetwork>(opts: TrackerOptions<N> & { model: N }): Promise<Tracker<N>>;
  static async create(opts?: TrackerOptions): Promise<Tracker>;
  static async create(opts: TrackerOptions<TrackingNetwork> = {}): Promise<Tracker<TrackingNetwork>> {
    const { checkpoint, model, backend, wasmThreads, config, strict, ...params } = opts;
    for (const k of ['numTemplates', 'templateSize', 'searchSize'] as const) {
      if (k in opts)
        throw new ConfigError(`Tracker.create: ${k} comes from the model's configuration; do not pass it`);
    }
    if (model !== undefined && checkpoint !== undefined) {
      throw new ConfigError('Tracker.create: pass either { model } or { checkpoint }, not both');
    }
    if (model !== undefined) assertTrackingNetwork(model, 'Tracker.create: model');
    if (wasmThreads !== undefined && backend === undefined) {
      throw new ConfigError(
        'Tracker.create: wasmThreads needs a backend (e.g. { backend: "wasm", wasmThreads: 2 })',
      );
    }
    if (backend !== undefined) await selectBackend(backend, wasmThreads === undefined ? {} : { wasmThreads });
    if (model) return new Tracker(model.eval(), false, params);
    if (checkpoint === undefined && config !== undefined) {
      throw new ConfigError(
        'Tracker.create: { config } describes a checkpoint; pass { checkpoint } with it (the bundled model has its own configuration)',
      );
    }
    const loaded =
      checkpoint === undefined
        ? await loadBundledModel(bundledModelUrl(), strict === undefined ? {} : { strict })
        : await SpikeTrackModel.fromCheckpoint(checkpoint, {
            ...(config === undefined ? {} : { config }),
            ...(strict === undefined ? {} : { strict }),
          });
    try {
      return new Tracker<TrackingNetwork>(loaded, true, params);
    } catch (e) {
      loaded.dispose();
      throw e;
    }
  }

  private assertAlive(): void {
    if (this.disposed) throw new ConfigError('Tracker: the tracker has been disposed');
  }

  /** Runs the template branch on the slots' crops and replaces the cache. */
  private encodeTemplates(): void {
    const inputs = this.templates.map((t) => cropToTensor(t));
    try {
      const next = this.model.encodeTemplates(inputs);
      this.cache?.dispose();
      this.cache = next;
    } finally {
      tf.dispose(inputs);
    }
  }

  /**
   * Starts tracking the target in `box` (`[x, y, w, h]`, pixels; finite, non-zero size, inside the
   * frame): cuts the template (factor 4, R × R), fills every template slot with it and encodes the
   * templates.
   */
  async initialize(frame: FrameInput, box: Box): Promise<void> {
    this.assertAlive();
    const image = await toRgbImage(frame, 'initial frame');
    this.logic.initialize(box, image);
    const { templateFactor, templateSize, numTemplates } = this.params;
    const z = sampleTarget(image, this.logic.state, templateFactor, templateSize).crop;
    this.templates = Array.from({ length: numTemplates }, () => z);
    this.encodeTemplates();
  }

  /** Tracks the target into the next frame (the same size as the initial one). */
  async track(frame: FrameInput): Promise<TrackResult> {
    this.assertAlive();
    if (!this.cache) throw new ConfigError('Tracker: call initialize(frame, box) before track(frame)');
    const t0 = now();
    const index = this.logic.frameId + 1;
    const image = await toRgbImage(frame, `frame ${index}`);
    const { width, height } = this.logic.frameSize;
    if (image.width !== width || image.height !== height) {
      throw new FrameError(
        `frame ${index}: the frame is ${image.width} × ${image.height}, but the sequence started at ${width} × ${height}; frames must keep one size (call initialize again for a new sequence)`,
      );
    }
    const t1 = now();
    const { searchFactor, searchSize, templateFactor, templateSize } = this.params;
    const search = sampleTarget(image, this.logic.state, searchFactor, searchSize);
    const t2 = now();
    const x = cropToTensor(search.crop);
    const t3 = now();
    const out = (() => {
      try {
        return this.model.trackFrame(x, this.cache as TemplateState);
      } finally {
        x.dispose();
      }
    })();
    let maps: [Float32Array, Float32Array, Float32Array];
    const featSize = out.scoreMap.shape[1] as number;
    try {
      maps = (await Promise.all([
        out.scoreMap.data(),
        out.sizeMap.data(),
        out.offsetMap.data(),
      ])) as typeof maps;
    } finally {
      tf.dispose([out.scoreMap, out.sizeMap, out.offsetMap, out.predBoxes]);
    }
    const t4 = now();
    const step = this.logic.step(
      { featSize, score: maps[0], size: maps[1], offset: maps[2] },
      search.resizeFactor,
    );
    const t5 = now();
    let updated = false;
    if (step.update && this.params.numTemplates > 1) {
      // pop(1) then append: slot 0 stays, the others are first-in, first-out.
      const z = sampleTarget(image, step.box, templateFactor, templateSize).crop;
      this.templates.splice(1, 1);
      this.templates.push(z);
      this.encodeTemplates();
      updated = true;
    }
    const t6 = now();
    return {
      box: step.box,
      score: step.score,
      updated,
      frame: index,
      timings: {
        frame: t1 - t0,
        crop: t2 - t1,
        preprocess: t3 - t2,
        network: t4 - t3,
        postprocess: t5 - t4,
        templateUpdate: t6 - t5,
        total: t6 - t0,
      },
    };
  }

  /** Releases the template cache, and the network if the tracker loaded it. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache?.dispose();
    this.cache = null;
    this.templates = [];
    if (this.ownsModel) this.model.dispose();
  }
}
