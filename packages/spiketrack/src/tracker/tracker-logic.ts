import { ConfigError, ShapeError, SpikeTrackError } from '@spiketrack/neurons';
import { hann1dValues } from '../head/hann';
import { type Box, checkBox, clipBox, mapBoxBack } from './box';
import type { TrackerParams } from './params';

/** The network's output for one frame, on the CPU (what {@link TrackerLogic.step} reads). */
export interface HeadMapsData {
  /** F, the maps' side (R/16). */
  featSize: number;
  /** The score map, `F·F` values, row-major. */
  score: ArrayLike<number>;
  /** The size map, `F·F·2` values, channels last (w, h per cell: NHWC). */
  size: ArrayLike<number>;
  /** The offset map, `F·F·2` values, channels last (x, y per cell). */
  offset: ArrayLike<number>;
}

/** The tracker's decision for one frame. */
export interface TrackStep {
  /** The new state `[x, y, w, h]` in frame pixels (mapped back and clipped). */
  box: Box;
  /** The confidence: the maximum of the Hann-windowed score map. */
  score: number;
  /** The decoded box `[cx, cy, w, h]` as fractions of the search crop. */
  cropBox: readonly [number, number, number, number];
  /** Whether the template policy fired on this frame (interval and threshold). */
  update: boolean;
  /**
   * The frame index each template slot holds after this frame (0 = the first frame), oldest
   * first: the reference's `template_list` order.
   */
  slots: readonly number[];
}

/** The network produced something the tracker cannot use (NaN or infinite maps). */
export class TrackerError extends SpikeTrackError {}

const f32 = Math.fround;

/**
 * The reference tracker's per-frame logic without the network (`SPIKETRACK.initialize` / `track`,
 * `lib/test/tracker/spiketrack.py`), so that it can be driven by recorded or synthetic head
 * outputs:
 * 1. `response = hann2d(F) · score_map` (float32, the centred window of `head/hann.ts`);
 * 2. `cal_bbox`: the first index of the maximum; centre `(idx + offset)/F`, size read at that cell,
 *    all in float32 as torch computes them; `conf_score` = the maximum;
 * 3. `pred_box = pred_boxes · search_size / resize_factor` (float32), then `map_box_back` relative to
 *    the previous state and `clip_box(…, H, W, margin=10)` (double, as Python's floats);
 * 4. the template policy: when `frame_id % update_intervals == 0` and `conf_score > threshold`
 *    (the float32 confidence against the float32 threshold, as torch compares a tensor with a
 *    Python float), a new template is cut at the new state; the template list does `pop(1)` then
 *    `append`: slot 0 (the first frame) stays, the others are first-in, first-out. With one
 *    template there is nothing to replace (the reference's list would be popped empty), so the
 *    slots stay `[0]`.
 *
 * The frame index counts `step` calls since {@link initialize} (frame 0 is the initial frame).
 */
export class TrackerLogic {
  readonly params: Readonly<TrackerParams>;
  private _state: Box | null = null;
  private _frame = { width: 0, height: 0 };
  private _frameId = 0;
  private _slots: number[] = [];
  private windows = new Map<number, Float32Array>();

  constructor(params: TrackerParams) {
    this.params = Object.freeze({ ...params });
  }

  /** The current state `[x, y, w, h]` (the box the next search crop is centred on). */
  get state(): Box {
    if (!this._state) throw new ConfigError('TrackerLogic: call initialize(box, frame) first');
    return this._state;
  }

  /** The index of the last frame seen (0 after {@link initialize}). */
  get frameId(): number {
    return this._frameId;
  }

  /** The frame index held by each template slot, oldest first. */
  get slots(): readonly number[] {
    return this._slots;
  }

  /** The frame size given to {@link initialize}. */
  get frameSize(): { readonly width: number; readonly height: number } {
    return this._frame;
  }

  /**
   * Starts a sequence: the state is the initial box (checked: finite, positive size, inside the
   * frame), the frame index 0, and every template slot holds frame 0
   * (`template_list = [template] · num_templates`).
   */
  initialize(box: Box, frame: { width: number; height: number }): void {
    const { width, height } = frame;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new ShapeError(`TrackerLogic: frame size must be positive integers, got ${width} × ${height}`);
    }
    this._state = checkBox(box, 'initial box', frame);
    this._frame = { width, height };
    this._frameId = 0;
    this._slots = Array.from({ length: this.params.numTemplates }, () => 0);
  }

  private hann(n: number): Float32Array {
    let w = this.windows.get(n);
    if (!w) {
      const v = hann1dValues(n);
      w = new Float32Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) w[i * n + j] = f32((v[i] as number) * (v[j] as number));
      this.windows.set(n, w);
    }
    return w;
  }

  /**
   * One frame: the head's maps on the search crop cut around {@link state} with `resizeFactor`
   * (from `sampleTarget`) → the new state, the confidence, and the template decision.
   */
  step(maps: HeadMapsData, resizeFactor: number): TrackStep {
    const prev = this.state;
    const F = maps.featSize;
    if (!Number.isInteger(F) || F < 1)
      throw new ShapeError(`TrackerLogic: featSize must be a positive integer, got ${F}`);
    for (const [name, a, n] of [
      ['score', maps.score, F * F],
      ['size', maps.size, 2 * F * F],
      ['offset', maps.offset, 2 * F * F],
    ] as const) {
      if (a.length !== n) {
        throw new ShapeError(
          `TrackerLogic: expected the ${name} map to hold ${n} values (F = ${F}), got ${a.length}`,
        );
      }
    }
    if (!(resizeFactor > 0) || !Number.isFinite(resizeFactor)) {
      throw new ShapeError(`TrackerLogic: resizeFactor must be a positive number, got ${resizeFactor}`);
    }
    const hann = this.hann(F);
    let best = -1;
    let conf = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < F * F; i++) {
      const r = f32((hann[i] as number) * (maps.score[i] as number));
      if (Number.isNaN(r)) throw new TrackerError(`TrackerLogic: the score map holds NaN (cell ${i})`);
      if (r > conf) {
        conf = r;
        best = i;
      }
    }
    const ix = best % F;
    const iy = (best - ix) / F;
    const cropBox: [number, number, number, number] = [
      f32(f32(ix + (maps.offset[2 * best] as number)) / F),
      f32(f32(iy + (maps.offset[2 * best + 1] as number)) / F),
      f32(maps.size[2 * best] as number),
      f32(maps.size[2 * best + 1] as number),
    ];
    if (!cropBox.every(Number.isFinite) || !Number.isFinite(conf)) {
      throw new TrackerError(
        `TrackerLogic: the head gave a non-finite box [${cropBox.join(', ')}] (score ${conf}) at frame ${this._frameId + 1}`,
      );
    }
    const { searchSize, margin, updateInterval, updateThreshold, numTemplates } = this.params;
    const rf = f32(resizeFactor);
    const pixels = cropBox.map((v) => f32(f32(v * searchSize) / rf)) as [number, number, number, number];
    const box = clipBox(
      mapBoxBack(pixels, prev, searchSize, resizeFactor),
      this._frame.height,
      this._frame.width,
      margin,
    );
    this._frameId += 1;
    this._state = box;
    const update = this._frameId % updateInterval === 0 && conf > f32(updateThreshold);
    if (update && numTemplates > 1) {
      this._slots.splice(1, 1);
      this._slots.push(this._frameId);
    }
    return { box, score: conf, cropBox, update, slots: [...this._slots] };
  }
}
