/**
 * Data-parallel training in Node: gradient shards on worker threads. Each worker has its own tfjs
 * backend instance (tfjs-backend-wasm runs one thread per instance in Node), so N − 1 workers and
 * the main thread use N cores.
 */
import { Worker } from 'node:worker_threads';
import { SpikeTrackError } from '@spiketrack/neurons';
import type { GradientShard, ShardRequest, ShardResult } from '../../train/gradient-shard';
import { workerScriptUrl } from '../worker-script';
import type { FromTrainWorker, ToTrainWorker, TrainWorkerConfig } from './protocol';

/** A gradient worker failed (it could not build its network, a step threw, the thread died). */
export class TrainWorkerError extends SpikeTrackError {}

class WorkerShard implements GradientShard {
  private pending: { resolve: (r: ShardResult) => void; reject: (e: Error) => void } | null = null;
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    readonly index: number,
  ) {
    worker.on('message', (m: FromTrainWorker) => {
      const p = this.pending;
      this.pending = null;
      if (m.type === 'result') p?.resolve(m.result);
      else if (m.type === 'error')
        this.fail(new TrainWorkerError(`gradient worker ${index}: ${m.message}`), p);
    });
    worker.on('error', (e) =>
      this.fail(new TrainWorkerError(`gradient worker ${index} crashed: ${e.message}`), this.pending),
    );
    worker.on('exit', (code) => {
      if (code !== 0 || this.pending)
        this.fail(new TrainWorkerError(`gradient worker ${index} exited with code ${code}`), this.pending);
    });
  }

  private fail(e: Error, p: { reject: (e: Error) => void } | null): void {
    this.dead ??= e;
    this.pending = null;
    p?.reject(e);
  }

  gradients(request: ShardRequest): Promise<ShardResult> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending) return Promise.reject(new TrainWorkerError(`gradient worker ${this.index} is busy`));
    return new Promise<ShardResult>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage({ type: 'step', request } satisfies ToTrainWorker);
    });
  }

  async dispose(): Promise<void> {
    this.dead ??= new TrainWorkerError(`gradient worker ${this.index} was disposed`);
    await this.worker.terminate();
  }
}

/** Options of {@link createWorkerShards}. */
export interface WorkerShardsOptions extends TrainWorkerConfig {
  /** Worker threads (the main thread computes a part of each batch too). */
  readonly workers: number;
}

/**
 * Starts `workers` gradient workers for a data-parallel {@link Trainer} (`shards` option) and waits
 * until each has built its network and sampler. `model`, `data` and `sampler` must describe the
 * trainer's own (same architecture, same sequences, same sampler options and seed); the weights
 * travel with every step. Dispose the shards when training ends (it terminates the threads).
 *
 * ```js
 * const shards = await createWorkerShards({ workers: 1, model: { kind: 'spiketrack', config },
 *   data: { kind: 'synthetic' }, sampler: sampler.options, backend: 'wasm' });
 * const trainer = new Trainer({ model, sampler, shards });
 * ```
 */
export async function createWorkerShards(opts: WorkerShardsOptions): Promise<GradientShard[]> {
  if (!Number.isInteger(opts.workers) || opts.workers < 0)
    throw new TrainWorkerError(
      `createWorkerShards: workers must be a non-negative integer, got ${opts.workers}`,
    );
  if (opts.workers === 0) return [];
  const url = await workerScriptUrl('train-worker');
  const config: TrainWorkerConfig = {
    model: opts.model,
    data: opts.data,
    sampler: { ...opts.sampler },
    backend: opts.backend,
  };
  const workers = Array.from({ length: opts.workers }, () => new Worker(url, { workerData: config }));
  const ready = workers.map(
    (w, i) =>
      new Promise<void>((resolve, reject) => {
        const onMessage = (m: FromTrainWorker) => {
          w.off('message', onMessage);
          w.off('error', onError);
          if (m.type === 'ready') resolve();
          else if (m.type === 'error') reject(new TrainWorkerError(`gradient worker ${i}: ${m.message}`));
          else reject(new TrainWorkerError(`gradient worker ${i}: unexpected message '${m.type}'`));
        };
        const onError = (e: Error) => {
          w.off('message', onMessage);
          reject(new TrainWorkerError(`gradient worker ${i} crashed: ${e.message}`));
        };
        w.on('message', onMessage);
        w.on('error', onError);
      }),
  );
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return workers.map((w, i) => new WorkerShard(w, i));
}
