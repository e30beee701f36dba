/**
 * The Tracker on a small random network (R = 32, T = 3): the same boxes as the steps done by hand
 * (crop → normalize → trackFrame → TrackerLogic, templates re-encoded on updates), frame
 * conversions, clear errors for bad input, and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU, testBackend } from '../../../../test-support/helpers';
import type { RgbImage } from '../frames/rgb-image';
import { SpikeTrackModel } from '../model/model';
import type { Box } from './box';
import { resolveTrackerParams } from './params';
import { cropToTensor, normalizeCrop } from './preprocess';
import { sampleTarget } from './sample-target';
import { Tracker } from './tracker';
import { TrackerLogic } from './tracker-logic';

const W = 80;
const H = 64;
const config = {
  dims: [8, 8, 16, 16] as const,
  numHeads: 2,
  resolution: 32,
  templates: 3,
  decoderChannel: 16,
};

/** A textured frame with a bright square at (x, y). */
function frameAt(x: number, y: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const inside = c >= x && c < x + 16 && r >= y && r < y + 12;
      for (let k = 0; k < 3; k++)
        data[(r * W + c) * 3 + k] = inside ? 200 + 20 * k : (r * 7 + c * 13 + k * 50) % 120;
    }
  }
  return { width: W, height: H, data };
}

const frames = [frameAt(30, 20), frameAt(32, 21), frameAt(35, 23), frameAt(37, 22)];
const init: Box = [30, 20, 16, 12];
const model = new SpikeTrackModel({ config, seed: 11 });
model.eval();
afterAll(() => model.dispose());

describe('Tracker', () => {
  // Many network runs: minutes on SwiftShader WebGPU, so cpu and wasm only.
  it.skipIf(onWebGPU())(
    'gives the boxes of the hand-made pipeline, re-encoding the templates on updates',
    async () => {
      const opts = { updateInterval: 2, updateThreshold: -1 };
      const tracker = await Tracker.create({ model, ...opts });
      await tracker.initialize(frames[0] as RgbImage, init);

      const logic = new TrackerLogic(resolveTrackerParams(32, 3, opts));
      logic.initialize(init, { width: W, height: H });
      const encode = (crops: RgbImage[]) => {
        const ts = crops.map(cropToTensor);
        const c = model.encodeTemplates(ts);
        tf.dispose(ts);
        return c;
      };
      const z0 = sampleTarget(frames[0] as RgbImage, init, 4, 32).crop;
      let crops = [z0, z0, z0];
      let cache = encode(crops);
      for (let i = 1; i < frames.length; i++) {
        const f = frames[i] as RgbImage;
        const got = await tracker.track(f);
        const s = sampleTarget(f, logic.state, 4, 32);
        const x = cropToTensor(s.crop);
        const out = model.trackFrame(x, cache);
        const step = logic.step(
          {
            featSize: 2,
            score: await out.scoreMap.data(),
            size: await out.sizeMap.data(),
            offset: await out.offsetMap.data(),
          },
          s.resizeFactor,
        );
        tf.dispose([x, out.scoreMap, out.sizeMap, out.offsetMap, out.predBoxes]);
        expect(got.box).toEqual(step.box);
        expect(got.score).toBe(step.score);
        expect(got.frame).toBe(i);
        expect(got.updated).toBe(i % 2 === 0);
        expect(got.box.every(Number.isFinite)).toBe(true);
        expect(Object.values(got.timings).every((t) => t >= 0)).toBe(true);
        if (step.update) {
          crops = [crops[0] as RgbImage, crops[2] as RgbImage, sampleTarget(f, step.box, 4, 32).crop];
          cache.dispose();
          cache = encode(crops);
        }
      }
      expect(tracker.logic.slots).toEqual([0, 0, 2]);
      cache.dispose();
      tracker.dispose();
      expect(model.isDisposed).toBe(false); // a given model is not the tracker's to dispose
    },
    120_000,
  );

  // Many network runs: minutes on SwiftShader WebGPU, so cpu and wasm only.
  it.skipIf(onWebGPU())(
    'does not leak across track() calls, template updates included',
    async () => {
      const tracker = await Tracker.create({ model, updateInterval: 1, updateThreshold: -1 });
      await tracker.initialize(frames[0] as RgbImage, init);
      let i = 0;
      await expectNoLeak(() => tracker.track(frames[1 + (i++ % 3)] as RgbImage), 3);
      tracker.dispose();
    },
    120_000,
  );

  // Many network runs: minutes on SwiftShader WebGPU, so cpu and wasm only.
  it.skipIf(onWebGPU())(
    'takes tensors, gray and RGBA pixels, and rejects bad frames and boxes clearly',
    async () => {
      const tracker = await Tracker.create({ model });
      const f0 = frames[0] as RgbImage;
      const t = tf.tensor3d(Int32Array.from(f0.data), [H, W, 3], 'int32');
      await expect(tracker.track(t)).rejects.toThrow(/initialize\(frame, box\) before track/);
      await expect(tracker.initialize(t, [100, 10, 5, 5])).rejects.toThrow(/outside the 80 × 64 frame/);
      await expect(tracker.initialize(t, [10, 10, 0, 5])).rejects.toThrow(/zero or negative size/);
      await tracker.initialize(t, init);
      const viaTensor = await tracker.track(tf.cast(t, 'float32'));
      expect(viaTensor.box.every(Number.isFinite)).toBe(true);
      // Gray [H, W] and RGBA ImageData-like pixels are converted, not rejected.
      const gray = tf.tidy(() => tf.mean(tf.cast(t, 'float32'), 2));
      expect((await tracker.track(gray)).box.every(Number.isFinite)).toBe(true);
      const rgba = new Uint8ClampedArray(W * H * 4).fill(255);
      expect((await tracker.track({ width: W, height: H, data: rgba })).box.every(Number.isFinite)).toBe(
        true,
      );
      await expect(tracker.track(tf.zeros([H + 1, W, 3]))).rejects.toThrow(
        /the frame is 80 × 65, but the sequence started at 80 × 64/,
      );
      await expect(tracker.track(tf.fill([H, W, 3], Number.NaN))).rejects.toThrow(/non-finite value/);
      await expect(tracker.track(tf.fill([H, W, 3], 300))).rejects.toThrow(/0\.\.255/);
      await expect(tracker.track(tf.zeros([H, W, 5]))).rejects.toThrow(/expected a tensor \[H, W, 3\]/);
      await expect(tracker.track({ width: W, height: H, data: new Uint8Array(7) })).rejects.toThrow(
        /not 1, 3 or 4 channels/,
      );
      await expect(tracker.track({ videoWidth: 3 } as unknown as RgbImage)).rejects.toThrow(
        /needs a browser/,
      );
      tf.dispose([t, gray]);
      tracker.dispose();
      await expect(tracker.track(f0)).rejects.toThrow(/disposed/);
    },
    120_000,
  );

  it('takes a checkpoint or a model, not both', async () => {
    await expect(Tracker.create({ config: 'tiny_256_t3' })).rejects.toThrow(/pass \{ checkpoint \} with it/);
    await expect(Tracker.create({ model, checkpoint: 'x.pth.tar' })).rejects.toThrow(/not both/);
    await expect(Tracker.create({ model, preset: 'lasot' }).then((t) => t.params)).resolves.toMatchObject({
      updateInterval: 40,
      updateThreshold: 0.8,
      numTemplates: 3,
      searchSize: 32,
    });
  });

  it.skipIf(testBackend() !== 'cpu')('normalizes with the ImageNet statistics in float32', () => {
    const v = normalizeCrop({ width: 1, height: 1, data: Uint8Array.from([0, 128, 255]) });
    expect(v[0]).toBe(Math.fround(Math.fround(0 - Math.fround(0.485)) / Math.fround(0.229)));
    expect(v[1]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 6);
    expect(v[2]).toBeCloseTo((1 - 0.406) / 0.225, 6);
  });
});
