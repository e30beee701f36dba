import { type SyntheticFrame, SyntheticSequence } from '../synthetic/sequence';
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

/** A synthetic sequence as training data, rendered on demand (the last few frames are kept). */
class SyntheticTrainingSequence implements TrainingSequence {
  readonly name: string;
  readonly length: number;
  private readonly cache = new Map<number, SyntheticFrame>();

  constructor(private readonly seq: SyntheticSequence) {
    this.name = seq.name;
    this.length = seq.length;
  }

  box(i: number): Box {
    return this.seq.groundTruth(i);
  }

  /** Visible unless the generator reports the target absent (fully occluded) in that frame. */
  visible(i: number): boolean {
    return !this.rendered(i).absent;
  }

  frame(i: number) {
    return this.rendered(i).image;
  }

  private rendered(i: number): SyntheticFrame {
    const hit = this.cache.get(i);
    if (hit) return hit;
    const f = this.seq.frame(i);
    this.cache.set(i, f);
    if (this.cache.size > 8) this.cache.delete(this.cache.keys().next().value as number);
    return f;
  }
}

/**
 * Training sequences of a synthetic suite (default {@link SYNTHETIC_TRAIN_V1}), rendered in
 * memory: no files, and the same pixels on every machine.
 */
export function syntheticTrainingSequences(suite: SyntheticSuite = SYNTHETIC_TRAIN_V1): TrainingSequence[] {
  return syntheticSuiteSequences(suite).map((o) => new SyntheticTrainingSequence(new SyntheticSequence(o)));
}
