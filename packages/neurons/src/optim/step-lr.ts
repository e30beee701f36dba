import { ConfigError } from '../core/errors';

/** Options of {@link stepLr}: `torch.optim.lr_scheduler.StepLR`'s. */
export interface StepLrOptions {
  /** The learning rate at epoch 0. */
  baseLr: number;
  /** The rate is multiplied by `gamma` every `stepSize` epochs. */
  stepSize: number;
  /** Default 0.1. */
  gamma?: number;
}

/**
 * The learning rate of epoch `epoch` (0-based) under a step schedule:
 * `baseLr · gamma^⌊epoch / stepSize⌋`, as `StepLR` gives after `epoch` calls of `scheduler.step()`.
 * SpikeTrack's configs drop the rate ×0.1 once, at `LR_DROP_EPOCH` (stepSize = that epoch, and
 * training ends before the second drop).
 */
export function stepLr(epoch: number, opts: StepLrOptions): number {
  const gamma = opts.gamma ?? 0.1;
  if (!(Number.isInteger(epoch) && epoch >= 0))
    throw new ConfigError(`stepLr: epoch must be an integer ≥ 0, got ${epoch}`);
  if (!(Number.isInteger(opts.stepSize) && opts.stepSize >= 1)) {
    throw new ConfigError(`stepLr: stepSize must be an integer ≥ 1, got ${opts.stepSize}`);
  }
  if (!(opts.baseLr >= 0) || !Number.isFinite(opts.baseLr))
    throw new ConfigError(`stepLr: baseLr must be ≥ 0, got ${opts.baseLr}`);
  return opts.baseLr * gamma ** Math.floor(epoch / opts.stepSize);
}
