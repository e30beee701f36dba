// The README's example, run on the reference tiny checkpoint, on wasm: the template branch at
// T = 3 and 256×256 takes about a minute in pure JS (cpu) and minutes on SwiftShader (WebGPU);
// whole-model.test.ts and stages.test.ts cover those backends.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { fixturesDir } from '../../../test-support/helpers';
import { calBbox, hann2d, SpikeTrackModel } from './index';

it.skipIf(tf.getBackend() !== 'wasm')(
  'README example: fromCheckpoint, encodeTemplates, trackFrame, Hann-windowed box',
  async () => {
    const model = await SpikeTrackModel.fromCheckpoint(`${fixturesDir}tiny-256-t3/model.pth.tar`);
    const { resolution: R, templates: T } = model.config;
    expect([R, T]).toEqual([256, 3]);
    const [z0, z1, z2, search] = [1, 2, 3, 4].map((s) => tf.randomNormal([1, R, R, 3], 0, 1, 'float32', s));
    const templates = [z0!, z1!, z2!];
    const track = async () => {
      const cache = model.encodeTemplates(templates);
      const out = model.trackFrame(search!, cache);
      const hann = hann2d(R / 16);
      const { boxes, scores } = tf.tidy(() =>
        calBbox(tf.mul(out.scoreMap, hann), out.sizeMap, out.offsetMap),
      );
      const b = await boxes.data();
      const s = await scores.data();
      expect(b).toHaveLength(4);
      expect([...b, ...s].every(Number.isFinite)).toBe(true);
      expect(s[0]).toBeGreaterThan(0);
      expect(s[0]).toBeLessThan(1);
      tf.dispose([out, hann, boxes, scores]);
      cache.dispose();
    };
    // the first call keeps each conv's BatchNorm-folded weights; later calls leave nothing behind
    await track();
    const before = tf.memory().numTensors;
    await track();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    tf.dispose([z0!, z1!, z2!, search!]);
  },
  300_000,
);
