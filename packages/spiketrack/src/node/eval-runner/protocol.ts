/**
 * The messages between `spiketrack eval`'s main thread and its worker threads
 * (`node:worker_threads`). The main thread sends one {@link RunSequence} at a time to each idle
 * worker; the worker answers with a `frame` message per tracked frame, then `done` or `error`.
 */
import type { Box } from '../../tracker/box';
import type { TrackerPreset } from '../../tracker/params';

/** The trackers `spiketrack eval --tracker` runs. */
export const EVAL_TRACKERS = ['spiketrack', 'ncc'] as const;

/** One of {@link EVAL_TRACKERS}. */
export type EvalTrackerName = (typeof EVAL_TRACKERS)[number];

/** What every worker is started with (`workerData`): the tracker to build and where to write. */
export interface EvalWorkerConfig {
  /** A built-in tracker, or `module` for a tracker module ({@link module}). */
  readonly tracker: EvalTrackerName | 'module';
  /**
   * `tracker: 'module'`: the absolute path of an ES module that exports
   * `createModel({ checkpoint? }): TrackingNetwork | Promise<TrackingNetwork>` (or a default export
   * that does).
   */
  readonly module?: string;
  /** The checkpoint: the network of `spiketrack` (the bundled one's path by default), the weights of a module's network. */
  readonly checkpoint?: string;
  readonly preset: TrackerPreset;
  /** The tfjs backend the worker selects for itself (`auto`, `wasm`, …; unused by `ncc`). */
  readonly backend: string;
  /** wasm: the threads of each worker's kernels (XNNPACK's pool); default 1. */
  readonly wasmThreads?: number;
  /** The results folder (`<out>/<tracker>`). */
  readonly resultsDir: string;
}

/** One sequence to track: its frame files and the initial box. */
export interface EvalJob {
  readonly name: string;
  readonly frames: readonly string[];
  readonly initBox: Box;
}

/** Main → worker. */
export type ToWorker = { readonly type: 'run'; readonly job: EvalJob } | { readonly type: 'exit' };

/** Worker → main. */
export type FromWorker =
  | { readonly type: 'ready'; readonly backend: string | null }
  | { readonly type: 'frame'; readonly name: string }
  | { readonly type: 'done'; readonly name: string; readonly frames: number; readonly seconds: number }
  | {
      readonly type: 'error';
      readonly name: string | null;
      readonly message: string;
      /** Bad input (a missing frame, a bad checkpoint, a bad box): exit code 2 rather than 1. */
      readonly badInput: boolean;
    };
