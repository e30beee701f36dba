/**
 * The fixed synthetic benchmark suites. A suite is a list of {@link SyntheticSequenceOptions}
 * derived from one seed; `synthetic-v1` is 24 sequences × 120 frames at 480×640 (H×W) whose
 * attributes cover every combination of occlusion (on/off), distractors (0/1/2), motion blur
 * (on/off) and illumination change (on/off).
 */
import { deriveSeed } from './prng';
import type { SyntheticSequenceOptions } from './sequence';

/**
 * The version of the generator's rendering. Anything that changes the pixels or boxes of a seed
 * must bump it, so that cached suites are regenerated.
 */
export const SYNTHETIC_GENERATOR_VERSION = 1;

/** The definition of a suite: its name, seed, and the size of each sequence. */
export interface SyntheticSuite {
  /** The folder name (e.g. `synthetic-v1`). */
  readonly name: string;
  readonly seed: number;
  /** Number of sequences. */
  readonly sequences: number;
  /** Frames per sequence. */
  readonly frames: number;
  readonly width: number;
  readonly height: number;
}

/** `synthetic-v1`: 24 sequences × 120 frames at 640×480 (W×H). */
export const SYNTHETIC_V1: SyntheticSuite = Object.freeze({
  name: 'synthetic-v1',
  seed: 20260601,
  sequences: 24,
  frames: 120,
  width: 640,
  height: 480,
});

/**
 * The options of every sequence of a suite, in order. Sequence i (0-based) is named
 * `<suite>-NNN` (1-based, three digits) and has: occlusion when i is odd, `⌊i/2⌋ mod 3`
 * distractors, motion blur when `⌊i/6⌋` is odd, illumination change when `⌊i/12⌋` is odd (so the
 * first 24 sequences hold each combination once). Sequences past 24 repeat the pattern.
 */
export function syntheticSuiteSequences(suite: SyntheticSuite = SYNTHETIC_V1): SyntheticSequenceOptions[] {
  return Array.from({ length: suite.sequences }, (_, i) => ({
    seed: deriveSeed(suite.seed, i),
    name: `${suite.name}-${String(i + 1).padStart(3, '0')}`,
    width: suite.width,
    height: suite.height,
    frames: suite.frames,
    occlusions: i % 2,
    distractors: Math.floor(i / 2) % 3,
    motionBlur: Math.floor(i / 6) % 2 === 1,
    illumination: Math.floor(i / 12) % 2 === 1,
  }));
}
