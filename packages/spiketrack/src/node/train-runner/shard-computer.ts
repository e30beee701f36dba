/**
 * What a gradient worker does, apart from its messages: build the network, the sampler and the loss
 * of a {@link TrainWorkerConfig}, and compute a {@link ShardResult} for each {@link ShardRequest}.
 */
import { selectBackend } from '@spiketrack/neurons/node';
import { SpikeTrackModel } from '../../model/model';
import type { TrackingNetwork } from '../../model/tracking-network';
import { batchGradients } from '../../train/batch-gradients';
import { setTrainingMode } from '../../train/norm-stats';
import { importWeights, type ShardRequest, type ShardResult, tensorData } from '../../train/gradient-shard';
import { type TrainingSequence, TrainingSampler } from '../../train/sampler';
import { syntheticTrainingSequences } from '../../train/synthetic-data';
import { referenceTrainingLoss, type TrainingLoss } from '../../train/training-loss';
import { readDataset } from '../eval-files';
import { importNetworkModule } from '../network-module';
import { datasetTrainingSequences } from '../training-data';
import type { TrainWorkerConfig } from './protocol';

/** A built worker: its backend, and the step computation. */
export interface ShardComputer {
  readonly backend: string;
  gradients(request: ShardRequest): Promise<ShardResult>;
  dispose(): void;
}

async function buildModel(
  config: TrainWorkerConfig,
): Promise<{ model: TrackingNetwork; loss: TrainingLoss }> {
  if (config.model.kind === 'spiketrack') {
    return { model: new SpikeTrackModel({ config: config.model.config }), loss: referenceTrainingLoss() };
  }
  const { exports, model } = await importNetworkModule(
    config.model.path,
    config.model.options ?? {},
    'train worker',
  );
  const loss =
    typeof exports.trainingLoss === 'function'
      ? (exports.trainingLoss as TrainingLoss)
      : referenceTrainingLoss();
  return { model, loss };
}

async function sequences(config: TrainWorkerConfig): Promise<TrainingSequence[]> {
  if (config.data.kind === 'synthetic') return syntheticTrainingSequences();
  return datasetTrainingSequences(await readDataset(config.data.dir, config.data.format));
}

/** Builds the worker's backend, network, sampler and loss. */
export async function createShardComputer(config: TrainWorkerConfig): Promise<ShardComputer> {
  const chosen = await selectBackend(config.backend as Parameters<typeof selectBackend>[0]);
  const sampler = new TrainingSampler(await sequences(config), config.sampler);
  const { model, loss } = await buildModel(config);
  const params = model.trainableParameters();
  return {
    backend: chosen.backend,
    async gradients(request) {
      importWeights(model, request.weights, `step ${request.step} weights`);
      const samples = await Promise.all(request.indices.map((i) => sampler.sample(i)));
      setTrainingMode(model, request.normStats ?? 'batch');
      const g = batchGradients(model, loss, samples, params);
      try {
        const [lossValue, ...parts] = await Promise.all([g.value.data(), ...g.parts.map((p) => p.data())]);
        const partValues = Object.fromEntries(g.partNames.map((n, i) => [n, parts[i]?.[0] as number]));
        return {
          count: samples.length,
          loss: lossValue[0] as number,
          parts: partValues,
          grads: new Map([...g.grads].map(([k, t]) => [k, tensorData(t)])),
        };
      } finally {
        g.dispose();
      }
    },
    dispose() {
      model.dispose();
    },
  };
}
