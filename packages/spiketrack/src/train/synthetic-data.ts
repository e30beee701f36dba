import { type SyntheticFrame, SyntheticSequence, type SyntheticSequenceOptions } from '../synthetic/sequence';
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

/** The most generators kept alive per suite (each holds a full-size background texture). */
const LIVE_GENERATORS = 16;

/**
 * A synthetic sequence as training data, rendered on demand (the last few frames are kept). Its
 * generator is built on first use, and only the {@link LIVE_GENERATORS} most recently used ones of
 * a suite are kept (a generator is deterministic, so a rebuilt one renders the same pixels): the
 * suite costs nothing to create and bounded memory to sample from.
 */
class SyntheticTrainingSequence implements TrainingSequence {
  readonly name: string;
  readonly length: number;
  private generator: SyntheticSequence | null = null;
  private readonly cache = new Map<number, SyntheticFrame>();

  constructor(
    private readonly options: SyntheticSequenceOptions & { name: string; frames: number },
    private readonly live: Set<SyntheticTrainingSequence>,
  ) {
    this.name = options.name;
    this.length = options.frames;
  }

  private get seq(): SyntheticSequence {
    // Most recently used last.
    this.live.delete(this);
    this.live.add(this);
    if (this.live.size > LIVE_GENERATORS) {
      const oldest = this.live.values().next().value as SyntheticTrainingSequence;
      this.live.delete(oldest);
      oldest.generator = null;
      oldest.cache.clear();
    }
    this.generator ??= new SyntheticSequence(this.options);
    return this.generator;
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
