/**
 * A gradient worker of data-parallel training (its entry point): it selects its own tfjs backend
 * (each worker thread has its own tfjs instance), builds its network and sampler from
 * `workerData`, then answers each step: load the weights it was sent, sample its part of the
 * batch, and send back the gradients of the mean loss over it. See `protocol.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromTrainWorker, ToTrainWorker, TrainWorkerConfig } from './protocol';
import { createShardComputer, type ShardComputer } from './shard-computer';

const port = parentPort;
const config = workerData as TrainWorkerConfig;
const post = (m: FromTrainWorker, transfer: ArrayBuffer[] = []) => port?.postMessage(m, transfer);
const fail = (err: unknown) =>
  post({
    type: 'error',
    message: err instanceof Error ? err.message : String(err),
    name: err instanceof Error ? err.name : 'Error',
  });

async function main(): Promise<void> {
  if (!port) throw new Error('train worker: not started as a worker thread');
  let computer: ShardComputer;
  try {
    computer = await createShardComputer(config);
  } catch (err) {
    fail(err);
    return;
  }
  // one request at a time: the trainer waits for the answer before the next step
  port.on('message', (m: ToTrainWorker) => {
    if (m.type === 'exit') {
      computer.dispose();
      port.close();
      return;
    }
    computer.gradients(m.request).then(
      (result) =>
        post(
          { type: 'result', result },
          [...result.grads.values()].map((g) => g.data.buffer as ArrayBuffer),
        ),
      fail,
    );
  });
  post({ type: 'ready', backend: computer.backend });
}

main().catch(fail);
