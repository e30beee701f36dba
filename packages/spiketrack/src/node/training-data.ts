import { ConfigError } from '@spiketrack/neurons';
import type { Dataset, Sequence } from '../eval/types';
import type { Box } from '../tracker/box';
import type { TrainingSequence } from '../train/sampler';
import { readImageFile } from './image-file';

/** Whether frame `i` of a benchmark sequence can serve as a training frame. */
function usable(seq: Sequence, i: number): boolean {
  const b = seq.groundTruth[i];
  if (!b || !b.every(Number.isFinite) || !(b[2] > 0 && b[3] > 0)) return false;
  if (seq.absent?.[i]) return false;
  if (seq.targetVisible && seq.targetVisible[i] === false) return false;
  return true;
}

/**
 * The sequences of a benchmark read with `readDataset` (GOT-10k train, LaSOT, TrackingNet, …) as
 * training data: frames are decoded from disk when sampled; a frame is visible when its box is
 * valid and the dataset does not mark the target absent, fully occluded or out of view. Sequences
 * without public ground truth (test splits) are left out.
 */
export function datasetTrainingSequences(dataset: Dataset): TrainingSequence[] {
  const out = dataset.sequences
    .filter((s) => s.hasGroundTruth && s.frames.length >= 2)
    .map(
      (s): TrainingSequence => ({
        name: s.name,
        length: Math.min(s.frames.length, s.groundTruth.length),
        box: (i: number): Box => s.groundTruth[i] as Box,
        visible: (i: number) => usable(s, i),
        frame: (i: number) => readImageFile(s.frames[i] as string),
      }),
    );
  if (out.length === 0) {
    throw new ConfigError(
      `${dataset.name}: no sequence with ground truth and at least 2 frames to train on (test splits have only the first box)`,
    );
  }
  return out;
}
