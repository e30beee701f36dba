// The README's example, run on the reference tiny checkpoint (search branch, to stay fast).
import { readTorchCheckpoint, refreshExactConstants } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { readFixtureBytes } from '../../../test-support/helpers';
import { ESpikeFormer, inferESpikeFormerOptions } from './index';

it('README example: a SpikeTrack checkpoint’s backbone, loaded and run', async () => {
  const { tensors } = readTorchCheckpoint(readFixtureBytes('tiny-256-t3/model.pth.tar'));
  const encoder = new Map<string, tf.Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith('encoder.') && !k.startsWith('encoder.mrm.')) encoder.set(k.slice(8), t);
    else t.dispose();
  }
  const { options, preset } = inferESpikeFormerOptions(encoder);
  expect(preset).toBe('tiny');
  const backbone = new ESpikeFormer(options);
  backbone.loadStateDict(encoder);
  for (const t of encoder.values()) t.dispose();
  backbone.eval();
  await refreshExactConstants(backbone);

  const run = () => {
    const search = tf.randomNormal([1, 1, 256, 256, 3]);
    const features = backbone.apply(search, 'search');
    expect(features.shape).toEqual([1, 1, 16, 16, 128]);
    tf.dispose([search, features]);
  };
  // the first call keeps the folded conv + BN weights (ConvBn's cache); later calls add nothing
  const loaded = tf.memory().numTensors;
  run();
  const before = tf.memory().numTensors;
  run();
  expect(tf.memory().numTensors).toBe(before);
  backbone.dispose();
  expect(tf.memory().numTensors).toBeLessThan(loaded);
});
