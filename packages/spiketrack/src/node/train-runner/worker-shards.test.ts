import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onWebGPU } from '../../../../../test-support/helpers';
import { SpikeTrackModel } from '../../model/model';
import { batchGradients } from '../../train/batch-gradients';
import { combineGradients, exportWeights, type GradientShard } from '../../train/gradient-shard';
import { TrainingSampler } from '../../train/sampler';
import { syntheticTrainingSequences } from '../../train/synthetic-data';
import { TINY_TRAIN_CONFIG } from '../../train/tiny-config.test-helper';
import { Trainer } from '../../train/trainer';
import { referenceTrainingLoss } from '../../train/training-loss';
import { createWorkerShards, TrainWorkerError } from './worker-shards';

// A tiny network at R = 32 on the synthetic generator (the worker builds the same from the config).
const config = TINY_TRAIN_CONFIG;

function setup(batchSize: number, shards: GradientShard[] = []) {
  const model = new SpikeTrackModel({ config, seed: 3 });
  const sampler = new TrainingSampler(syntheticTrainingSequences(), {
    numTemplates: 1,
    resolution: 32,
    seed: 9,
  });
  const trainer = new Trainer({ model, sampler, batchSize, shards, encoderLrScale: 1 });
  return { model, sampler, trainer };
}

// SwiftShader is far too slow for training steps.
describe.skipIf(onWebGPU())('data-parallel training on worker threads', { timeout: 300_000 }, () => {
  let shards: GradientShard[] = [];
  beforeAll(async () => {
    const { sampler, model } = setup(4);
    model.dispose();
    shards = await createWorkerShards({
      workers: 1,
      model: { kind: 'spiketrack', config },
      data: { kind: 'synthetic' },
      sampler: sampler.options,
      backend: tf.getBackend(),
    });
  });
  afterAll(async () => {
    await Promise.all(shards.map((s) => s.dispose()));
  });

  it("a worker's gradients are this thread's for the same samples and weights, and combine by sample count", async () => {
    const { model, sampler, trainer } = setup(4);
    try {
      await trainer.calibrate();
      const loss = referenceTrainingLoss();
      const params = model.trainableParameters();
      const samples = await Promise.all([0, 1, 2, 3].map((i) => sampler.sample(i)));
      const weights = exportWeights(model);
      const remote = await (shards[0] as GradientShard).gradients({ step: 0, indices: [2, 3], weights });
      model.train();
      // this thread computes both halves (the running statistics it updates do not enter training mode)
      const a = batchGradients(model, loss, samples.slice(0, 2), params);
      const b = batchGradients(model, loss, samples.slice(2), params);
      try {
        expect(remote.count).toBe(2);
        expect(remote.loss).toBeCloseTo(b.value.dataSync()[0] as number, 5);
        expect(Object.keys(remote.parts).sort()).toEqual([...b.partNames].sort());
        expect([...remote.grads.keys()].sort()).toEqual([...b.grads.keys()].sort());
        let worst = 0;
        for (const [name, g] of b.grads) {
          const mine = g.dataSync();
          const theirs = (remote.grads.get(name) as { data: Float32Array }).data;
          const scale = Math.max(1e-6, ...Array.from(mine, Math.abs));
          for (let i = 0; i < mine.length; i++)
            worst = Math.max(worst, Math.abs((mine[i] as number) - (theirs[i] as number)) / scale);
        }
        expect(worst).toBeLessThan(1e-5);
        const shapes = new Map([...params].map(([k, v]) => [k, v.shape]));
        const aGrads = new Map([...a.grads].map(([k, g]) => [k, tf.clone(g)]));
        const combined = combineGradients({ count: 2, grads: aGrads }, [remote], shapes);
        try {
          for (const [name, g] of combined) {
            const expected = tf.tidy(() =>
              tf.add(
                tf.mul(a.grads.get(name) as tf.Tensor, 0.5),
                tf.mul(b.grads.get(name) as tf.Tensor, 0.5),
              ),
            );
            const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, expected))).dataSync()[0] as number);
            const scale = tf.tidy(() => tf.max(tf.abs(expected)).dataSync()[0] as number);
            expected.dispose();
            expect(diff, name).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-6));
          }
        } finally {
          tf.dispose([...combined.values()]);
        }
      } finally {
        a.dispose();
        b.dispose();
      }
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it('a Trainer with a worker takes steps that move the weights, without leaking tensors', async () => {
    const { model, trainer } = setup(4, shards);
    try {
      await trainer.calibrate();
      const before = exportWeights(model);
      const first = await trainer.trainStep();
      expect(Number.isFinite(first.loss)).toBe(true);
      expect(Number.isFinite(first.gradNorm)).toBe(true);
      expect(first.parts.mean_iou).toBeGreaterThanOrEqual(0);
      const after = exportWeights(model);
      const moved = [...before].some(([k, w]) => {
        const now = (after.get(k) as { data: Float32Array }).data;
        return w.data.some((x, i) => x !== now[i]);
      });
      expect(moved).toBe(true);
      const tensors = tf.memory().numTensors;
      await trainer.trainStep();
      await trainer.trainStep();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(trainer.step).toBe(3);
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it('refuses more shards than the batch has samples for', () => {
    expect(() => setup(1, shards)).toThrow(
      /1 gradient shards and this thread need at least 2 samples per step, batchSize is 1/,
    );
  });
});

describe.skipIf(onWebGPU())('gradient workers that cannot start', { timeout: 120_000 }, () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spiketrack-shards-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('name the module that failed', async () => {
    const file = join(dir, 'no-model.mjs');
    await writeFile(file, 'export const nothing = 1;\n');
    const start = (path: string) =>
      createWorkerShards({
        workers: 1,
        model: { kind: 'module', path },
        data: { kind: 'synthetic' },
        sampler: { numTemplates: 1, resolution: 32 },
        backend: tf.getBackend(),
      });
    await expect(start(file)).rejects.toThrow(TrainWorkerError);
    await expect(start(file)).rejects.toThrow(/no-model\.mjs exports no createModel function/);
    await expect(start(join(dir, 'missing.mjs'))).rejects.toThrow(
      /cannot import the network module .*missing\.mjs/,
    );
  });

  it('zero workers are no shards; a negative count is an error', async () => {
    const opts = {
      model: { kind: 'spiketrack', config } as const,
      data: { kind: 'synthetic' } as const,
      sampler: { numTemplates: 1, resolution: 32 },
      backend: 'cpu',
    };
    await expect(createWorkerShards({ ...opts, workers: 0 })).resolves.toEqual([]);
    await expect(createWorkerShards({ ...opts, workers: -1 })).rejects.toThrow(
      /workers must be a non-negative integer, got -1/,
    );
  });
});
