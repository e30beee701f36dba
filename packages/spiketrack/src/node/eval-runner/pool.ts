/**
 * The worker pool of `spiketrack eval`: N worker threads, each with its own tracker and tfjs
 * backend, fed one sequence at a time from a queue. A sequence's results are written by its worker
 * when it finishes, so stopping the pool (an abort, an error) loses only the sequences in progress.
 */
import { Worker } from 'node:worker_threads';
import type { EvalJob, EvalWorkerConfig, FromWorker } from './protocol';
import { workerScriptUrl } from '../worker-script';

/** Options of {@link runEvalPool}. */
export interface EvalPoolOptions {
  readonly config: EvalWorkerConfig;
  /** Worker threads (at most one per job). */
  readonly workers: number;
  /** Stops scheduling and terminates the workers (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** After each tracked frame. */
  readonly onFrame?: (sequence: string) => void;
  /** After each finished sequence (its files are written). */
  readonly onSequence?: (sequence: string, frames: number, seconds: number) => void;
  /** When a worker has built its tracker (the backend it selected; null for NCC). */
  readonly onReady?: (backend: string | null) => void;
}

/** How {@link runEvalPool} ended. */
export interface EvalPoolResult {
  /** The sequences finished (results written), in the order they finished. */
  readonly finished: string[];
  /** True when the signal stopped it. */
  readonly aborted: boolean;
}

/** A worker's error: a sequence (or the tracker's creation) failed. */
export class EvalWorkerError extends Error {
  override readonly name = 'EvalWorkerError';
  constructor(
    message: string,
    /** The sequence, or null when the worker could not build its tracker. */
    readonly sequence: string | null,
    /** Bad input (exit code 2) rather than an internal error. */
    readonly badInput: boolean,
  ) {
    super(message);
  }
}

/**
 * Tracks `jobs` on `workers` threads. Resolves when every job is finished or the signal aborted;
 * rejects with an {@link EvalWorkerError} when a worker fails (the other workers are terminated;
 * finished results stay on disk).
 */
export async function runEvalPool(jobs: readonly EvalJob[], opts: EvalPoolOptions): Promise<EvalPoolResult> {
  const finished: string[] = [];
  if (jobs.length === 0) return { finished, aborted: false };
  const url = await workerScriptUrl('eval-worker');
  const queue = [...jobs];
  const count = Math.max(1, Math.min(opts.workers, jobs.length));
  const workers: Worker[] = [];
  return new Promise<EvalPoolResult>((resolve, reject) => {
    let settled = false;
    let running = count;
    const stop = (then: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      Promise.allSettled(workers.map((w) => w.terminate())).then(then);
    };
    const onAbort = () => stop(() => resolve({ finished, aborted: true }));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const next = (w: Worker) => {
      if (settled) return;
      const job = queue.shift();
      if (job) {
        w.postMessage({ type: 'run', job });
        return;
      }
      w.postMessage({ type: 'exit' });
      running--;
      if (running === 0) stop(() => resolve({ finished, aborted: false }));
    };
    for (let i = 0; i < count; i++) {
      const w = new Worker(url, { workerData: opts.config });
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (settled) return;
        if (m.type === 'ready') {
          opts.onReady?.(m.backend);
          next(w);
        } else if (m.type === 'frame') {
          opts.onFrame?.(m.name);
        } else if (m.type === 'done') {
          finished.push(m.name);
          opts.onSequence?.(m.name, m.frames, m.seconds);
          next(w);
        } else {
          const where = m.name === null ? 'building the tracker' : `sequence ${m.name}`;
          stop(() => reject(new EvalWorkerError(`${where}: ${m.message}`, m.name, m.badInput)));
        }
      });
      w.on('error', (err) =>
        stop(() => reject(new EvalWorkerError(`worker crashed: ${err.message}`, null, false))),
      );
      w.on('exit', (code) => {
        if (!settled && code !== 0) {
          stop(() => reject(new EvalWorkerError(`a worker exited with code ${code}`, null, false)));
        }
      });
    }
  });
}
