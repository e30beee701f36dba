import type { RgbImage } from '../frames/rgb-image';
import type { PixelRegion } from '../synthetic/pixel-region';
import { SyntheticSequence, type SyntheticSequenceOptions } from '../synthetic/sequence';
import { type SyntheticSuite, syntheticSuiteSequences } from '../synthetic/suite';
import type { Box } from '../tracker/box';
import type { TrainingSequence } from './sampler';

/**
 * The synthetic training suite: the generator of `synthetic-v1` with other seeds, so that
 * evaluating on `synthetic-v1` measures held-out sequences. 240 sequences × 120 frames at 640×480.
 */
export const SYNTHETIC_TRAIN_V1: SyntheticSuite = Object.freeze({
  name: 'synthetic-train-v1',
  seed: 31_415_926,
  sequences: 240,
  frames: 120,
  width: 640,
  height: 480,
});

/** The most generators kept alive per suite (each holds the background tiles it has shaded). */
const LIVE_GENERATORS = 16;

/**
 * A synthetic sequence as training data, rendered on demand: the sampler asks for the part of a
 * frame its crop reads ({@link TrainingSequence.frameRegion}), and for visibility, which needs no
 * rendering (and is kept). Its generator is built on first use, and only the
 * {@link LIVE_GENERATORS} most recently used ones of a suite are kept (a generator is deterministic,
 * so a rebuilt one renders the same pixels): the suite costs nothing to create and bounded memory
 * to sample from.
 */
class SyntheticTrainingSequence implements TrainingSequence {
  readonly name: string;
  readonly length: number;
  private generator: SyntheticSequence | null = null;
  /** Per frame: 1 visible, 0 absent, -1 not known yet. */
  private readonly visibility: Int8Array;

  constructor(
    private readonly options: SyntheticSequenceOptions & { name: string; frames: number },
    private readonly live: Set<SyntheticTrainingSequence>,
  ) {
    this.name = options.name;
    this.length = options.frames;
    this.visibility = new Int8Array(options.frames).fill(-1);
  }

  private get seq(): SyntheticSequence {
    // Most recently used last.
    this.live.delete(this);
    this.live.add(this);
    if (this.live.size > LIVE_GENERATORS) {
      const oldest = this.live.values().next().value as SyntheticTrainingSequence;
      this.live.delete(oldest);
      oldest.generator = null;
    }
    this.generator ??= new SyntheticSequence(this.options);
    return this.generator;
  }

  box(i: number): Box {
    return this.seq.groundTruth(i);
  }

  /** Visible unless the generator reports the target absent (fully occluded) in that frame. */
  visible(i: number): boolean {
    // Not known yet (or out of range, where the generator throws a RangeError).
    if (this.visibility[i] !== 0 && this.visibility[i] !== 1) {
      this.visibility[i] = this.seq.visibility(i).absent ? 0 : 1;
    }
    return this.visibility[i] === 1;
  }

  frame(i: number): RgbImage {
    return this.seq.frame(i).image;
  }

  frameSize(): { width: number; height: number } {
    const { width, height } = this.seq;
    return { width, height };
  }

  frameRegion(i: number, region: PixelRegion): RgbImage {
    return this.seq.renderRegion(i, region);
  }
}

/**
 * Training sequences of a synthetic suite (default {@link SYNTHETIC_TRAIN_V1}), rendered in
 * memory: no files, and the same pixels on every machine. Each sequence's generator is built on
 * first use (the last 16 used are kept), so this returns at once.
 */
export function syntheticTrainingSequences(suite: SyntheticSuite = SYNTHETIC_TRAIN_V1): TrainingSequence[] {
  const live = new Set<SyntheticTrainingSequence>();
  return syntheticSuiteSequences(suite).map(
    (o) =>
      new SyntheticTrainingSequence(o as SyntheticSequenceOptions & { name: string; frames: number }, live),
  );
}
