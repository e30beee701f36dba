/**
 * One asynchronous per-frame interface over every tracker the CLI drives: the spiking
 * {@link Tracker} and the plain (synchronous, tfjs-free) NCC baseline. `spiketrack demo` and the
 * `spiketrack eval` workers both track through it.
 */
import { ConfigError } from '@spiketrack/neurons';
import { NccTracker } from '../baseline/ncc';
import type { RgbImage } from '../frames/rgb-image';
import type { Box } from './box';
import type { TrackingNetwork } from '../model/tracking-network';
import type { Tracker } from './tracker';

/** A tracker driven one sequence after another, one frame at a time. */
export interface FrameTracker {
  /** Starts a sequence on its first frame's box (and forgets any previous sequence). */
  initialize(frame: RgbImage, box: Box): Promise<void>;
  /** Locates the object in the next frame; `score` is the tracker's confidence. */
  track(frame: RgbImage): Promise<{ box: Box; score: number }>;
  /** Frees what the tracker holds. */
  dispose(): void;
}

/** The NCC baseline as a {@link FrameTracker}: a fresh {@link NccTracker} for every sequence. */
export function nccFrameTracker(): FrameTracker {
  let ncc: NccTracker | null = null;
  return {
    async initialize(frame, box) {
      ncc?.dispose();
      ncc = new NccTracker();
      ncc.initialize(frame, box);
    },
    async track(frame) {
      if (!ncc) throw new ConfigError('ncc tracker: initialize before track');
      return ncc.track(frame);
    },
    dispose() {
      ncc?.dispose();
      ncc = null;
    },
  };
}

/** A {@link Tracker} as a {@link FrameTracker}; `onDispose` runs after the tracker is disposed. */
export function spikingFrameTracker(tracker: Tracker<TrackingNetwork>, onDispose?: () => void): FrameTracker {
  return {
    initialize: (frame, box) => tracker.initialize(frame, box),
    track: (frame) => tracker.track(frame),
    dispose: () => {
      tracker.dispose();
      onDispose?.();
    },
  };
}
