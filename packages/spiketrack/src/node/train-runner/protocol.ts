/**
 * The messages between a data-parallel {@link Trainer} (main thread) and its gradient workers
 * (`node:worker_threads`): the worker builds its own network and sampler from
 * {@link TrainWorkerConfig}, then answers each `step` with the gradients of its samples.
 */
import type { SpikeTrackConfigInput } from '../../model/model';
import type { DatasetFormat } from '../../eval/types';
import type { SamplerOptions } from '../../train/sampler';
import type { ShardRequest, ShardResult } from '../../train/gradient-shard';

/** The network a worker builds: the trainer's, with the same architecture. */
export type TrainWorkerModel =
  /** A `SpikeTrackModel` of this configuration (the weights come with every step). */
  | { readonly kind: 'spiketrack'; readonly config: SpikeTrackConfigInput }
  /**
   * A network module, as `spiketrack eval --tracker FILE` takes: the absolute path of an ES module
   * exporting `createModel(options): TrackingNetwork` (or a default export that does), called with
   * `options` (plain data; default `{}`). When it also exports `trainingLoss` (a `TrainingLoss`),
   * the worker uses it; otherwise SpikeTrack's loss.
   */
  | { readonly kind: 'module'; readonly path: string; readonly options?: Record<string, unknown> };

/** The training data a worker samples from: the same as the trainer's. */
export type TrainWorkerData =
  | { readonly kind: 'synthetic' }
  | { readonly kind: 'dataset'; readonly dir: string; readonly format: DatasetFormat };

/** What every worker is started with (`workerData`). */
export interface TrainWorkerConfig {
  readonly model: TrainWorkerModel;
  readonly data: TrainWorkerData;
  /** The trainer's sampler options (the same seed: sample i is the same everywhere). */
  readonly sampler: SamplerOptions;
  /** The tfjs backend the worker selects for itself (`wasm`, `cpu`, …). */
  readonly backend: string;
}

/** Main → worker. */
export type ToTrainWorker =
  | { readonly type: 'step'; readonly request: ShardRequest }
  | { readonly type: 'exit' };

/** Worker → main. */
export type FromTrainWorker =
  | { readonly type: 'ready'; readonly backend: string }
  | { readonly type: 'result'; readonly result: ShardResult }
  | { readonly type: 'error'; readonly message: string; readonly name: string };
