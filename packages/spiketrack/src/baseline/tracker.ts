/**
 * The interface every plain (tfjs-free, synchronous) tracker of the benchmark harness implements:
 * frames are 8-bit RGB images (`RgbImage`, HWC), boxes `[x, y, w, h]` in pixels (`Box`), as the
 * `Tracker` runtime takes them.
 */
import type { RgbImage } from '../frames/rgb-image';
import type { Box } from '../tracker/box';

/** What a tracker reports for one frame. */
export interface PlainTrackResult {
  readonly box: Box;
  /** The tracker's confidence (for the NCC baseline: the peak correlation, −1 … 1). */
  readonly score: number;
}

/** A single-object tracker: initialized on the first frame's box, then called once per frame. */
export interface PlainTracker {
  /** Starts tracking the object in `box` of `frame` (the sequence's first frame). */
  initialize(frame: RgbImage, box: Box): void;
  /** Locates the object in the next frame. */
  track(frame: RgbImage): PlainTrackResult;
  /** Frees what the tracker holds; it cannot be used afterwards. */
  dispose(): void;
}
