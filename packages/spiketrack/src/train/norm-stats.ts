/**
 * Which statistics a network's batch-statistic BatchNorms normalize with while it trains.
 *
 * `'batch'` (torch's training mode): each normalizes over its batch (its part of the batch in
 * data-parallel training) and updates its running statistics. `'running'`: each stays in eval mode
 * and normalizes with its running statistics, which stay fixed; gradients still reach its weight and
 * bias. The second trains exactly the network that tracks: with small batches, the batch statistics
 * differ from the running ones enough to bias what the network learned (the bundled model's boxes
 * came out ~15 % too large in eval mode, unbiased in training mode), and fine-tuning with the
 * running statistics removes that gap, as in detectors trained with frozen BatchNorms.
 */
import { type AnyModule, BatchNormBase } from '@spiketrack/neurons';

/** How batch-statistic BatchNorms normalize during training (see this file). */
export type NormStatsMode = 'batch' | 'running';

/** The modes, for validating user input. */
export const NORM_STATS_MODES: readonly NormStatsMode[] = ['batch', 'running'];

/**
 * Puts `root` in training mode with its BatchNorms normalizing as `mode` says: with `'running'`,
 * every `BatchNorm*d` under it goes back to eval mode. Returns how many BatchNorms that switched.
 */
export function setTrainingMode(root: AnyModule, mode: NormStatsMode): number {
  root.train();
  if (mode === 'batch') return 0;
  let n = 0;
  for (const [, m] of root.namedModules()) {
    if (m instanceof BatchNormBase && m.training) {
      m.eval();
      n++;
    }
  }
  return n;
}
