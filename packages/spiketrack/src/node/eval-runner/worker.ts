/**
 * The worker thread of `spiketrack eval` (its entry point). It builds its own tracker (and, for
 * SpikeTrack, selects its own tfjs backend: each worker has its own tfjs instance), then tracks the
 * sequences the main thread sends, one at a time, writing each one's results when it finishes.
 * See `protocol.ts` for the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EvalWorkerConfig, FromWorker, ToWorker } from './protocol';
import { createSequenceTracker, isBadInput, runSequence, type SequenceTracker } from './sequence-tracker';

const port = parentPort;
const config = workerData as EvalWorkerConfig;
const post = (m: FromWorker) => port?.postMessage(m);
const fail = (name: string | null, err: unknown) =>
  post({
    type: 'error',
    name,
    message: err instanceof Error ? err.message : String(err),
    badInput: isBadInput(err),
  });

async function main(): Promise<void> {
  if (!port) throw new Error('eval worker: not started as a worker thread');
  let tracker: SequenceTracker;
  try {
    tracker = await createSequenceTracker(config);
  } catch (err) {
    fail(null, err);
    return;
  }
  port.on('message', (m: ToWorker) => {
    if (m.type === 'exit') {
      tracker.dispose();
      port.close();
      return;
    }
    const { job } = m;
    runSequence(tracker, job, config.resultsDir, () => post({ type: 'frame', name: job.name })).then(
      (seconds) => post({ type: 'done', name: job.name, frames: job.frames.length, seconds }),
      (err: unknown) => fail(job.name, err),
    );
  });
  post({ type: 'ready', backend: tracker.backend });
}

main().catch((err: unknown) => fail(null, err));
