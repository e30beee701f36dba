/**
 * What a gradient worker does, apart from its messages: build the network, the sampler and the loss
 * of a {@link TrainWorkerConfig}, and compute a {@link ShardResult} for each {@link ShardRequest}.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';
import type * as tf from '@tensorflow/tfjs-core';
import { SpikeTrackModel } from '../../model/model';
import { assertTrackingNetwork, type TrackingNetwork } from '../../model/tracking-network';
import { batchGradients } from '../../train/batch-gradients';
import { importWeights, type ShardRequest, type ShardResult, tensorData } from '../../train/gradient-shard';
import { type TrainingSequence, TrainingSampler } from '../../train/sampler';
import { syntheticTrainingSequences } from '../../train/synthetic-data';
import { referenceTrainingLoss, type TrainingLoss } from '../../train/training-loss';
import { readDataset } from '../eval-files';
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
  const file = config.model.path;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`train worker: cannot import the network module ${file}: ${(e as Error).message}`);
  }
  const factory = typeof mod.createModel === 'function' ? mod.createModel : mod.default;
  if (typeof factory !== 'function')
    throw new ConfigError(`train worker: ${file} exports no createModel function`);
  const model: unknown = await (factory as (o: Record<string, unknown>) => unknown)(
    config.model.options ?? {},
  );
  assertTrackingNetwork(model, `train worker: ${file} createModel()`);
  const loss =
    typeof mod.trainingLoss === 'function' ? (mod.trainingLoss as TrainingLoss) : referenceTrainingLoss();
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
      model.train();
      const g = batchGradients(model, loss, samples, params);
      try {
        const partValues = Object.fromEntries(
          g.partNames.map((n, i) => [n, (g.parts[i] as tf.Scalar).dataSync()[0] as number]),
        );
        return {
          count: samples.length,
          loss: g.value.dataSync()[0] as number,
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
