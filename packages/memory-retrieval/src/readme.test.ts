// The README's example, run on the reference tiny checkpoint.
import { readTorchCheckpoint, refreshExactConstants } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { onWebGPU, readFixtureBytes } from '../../../test-support/helpers';
import { MemoryRetrieval } from './index';

it(
  'README example: an MRM of a SpikeTrack checkpoint, memorize once, retrieve per frame',
  async () => {
    const before = tf.memory().numTensors;
    const { tensors } = readTorchCheckpoint(readFixtureBytes('tiny-256-t3/model.pth.tar'));
    const prefix = 'encoder.mrm.2.';
    const weights = new Map<string, tf.Tensor>();
    for (const [k, t] of tensors) {
      if (k.startsWith(prefix)) weights.set(k.slice(prefix.length), t);
      else t.dispose();
    }
    const mrm = new MemoryRetrieval({ dim: 96, numTemplates: 3, gridSize: 256 / 16 });
    mrm.loadStateDict(weights);
    for (const t of weights.values()) t.dispose();
    mrm.eval();
    await refreshExactConstants(mrm);

    const templates = tf.randomNormal([3, 1, 16, 16, 96]);
    const memory = mrm.memorize(templates);
    expect(memory.kv.shape).toEqual([3, 1, 8, 12, 48]);
    const search = tf.randomNormal([1, 1, 16, 16, 96]);
    const out = mrm.retrieve(search, memory);
    expect(out.shape).toEqual([1, 1, 16, 16, 96]);
    const both = mrm.apply(templates, search);
    expect(Array.from(await both.data())).toEqual(Array.from(await out.data()));
    memory.dispose();
    tf.dispose([templates, search, out, both]);
    mrm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  },
  onWebGPU() ? 600_000 : 60_000,
);
