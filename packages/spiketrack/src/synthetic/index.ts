/**
 * The synthetic tracking benchmark (browser-safe part): a seeded generator of sequences with
 * ground truth, and the fixed suites. Writing them to disk is in `spiketrack/node`.
 */
export type { PixelRegion } from './pixel-region';
export {
  coverLevel,
  type ResolvedSyntheticOptions,
  type SyntheticFrame,
  SyntheticSequence,
  type SyntheticSequenceOptions,
  type SyntheticVisibility,
} from './sequence';
export {
  SYNTHETIC_GENERATOR_VERSION,
  SYNTHETIC_V1,
  type SyntheticSuite,
  syntheticSuiteSequences,
} from './suite';
