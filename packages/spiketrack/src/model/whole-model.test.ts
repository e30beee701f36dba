/**
 * End-to-end parity with the whole-model reference cases: the reference path
 * `apply(templates, search)` and the cached path (`encodeTemplates` → `trackFrame`), with every
 * layer's firing rate per step.
 *
 * Cost of the full network at 256×256 (T = 3 templates + the search): about 5 s on wasm, 50 s on
 * cpu (pure JS), ~40 s per pass on SwiftShader. So: both paths on wasm; the reference path on cpu
 * (the cached path's parts, `encodeTemplates` → kv caches and each MRM's `retrieve`, are checked on
 * cpu stage by stage); on WebGPU the reference path of tiny-256-t1 end to end, with the same
 * thresholds, and every stage of both cases (stages.test.ts).
 */
import { ConvBn } from '@spiketrack/spike-transformer';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU } from '../../../../test-support/helpers';
import { calBbox } from '../head/center-predictor';
import { hann2d } from '../head/hann';
import type { SpikeTrackModel } from './model';
import {
  caseTemplates,
  caseTensor,
  expectCaseTensor,
  expectFiringRates,
  expectHeadOutputs,
  loadCaseModel,
  readCase,
  type WholeModelCase,
  withMonitor,
} from './parity.test-helper';

/** Tensors the model's eval-mode `ConvBn`s keep once they have run: a folded weight and bias each. */
const foldedTensors = (model: SpikeTrackModel): number =>
  2 * [...model.namedModules().values()].filter((m) => m instanceof ConvBn).length;

for (const name of ['tiny-256-t3', 'tiny-256-t1'] as const) {
  describe.skipIf(onWebGPU() && name !== 'tiny-256-t1')(`SpikeTrackModel end to end: ${name}`, () => {
    let c: WholeModelCase;
    let model: SpikeTrackModel;
    let templates: tf.Tensor[];
    let search: tf.Tensor;

    beforeAll(async () => {
      c = readCase(name);
      model = await loadCaseModel(c);
      templates = caseTemplates(c);
      search = caseTensor(c, 'search');
    });
    afterAll(() => {
      model?.dispose();
      tf.dispose([...(templates ?? []), search]);
    });

    const windowedStep = (out: { scoreMap: tf.Tensor; sizeMap: tf.Tensor; offsetMap: tf.Tensor }) =>
      tf.tidy(() => {
        const hann = hann2d(model.config.resolution / 16);
        return calBbox(tf.mul(out.scoreMap, hann), out.sizeMap, out.offsetMap);
      });

    it('forward(templates, search) reproduces the reference outputs and every firing rate', async () => {
      const before = tf.memory().numTensors;
      // The encoder's output is the decoder's input.
      let feats: tf.Tensor | null = null;
      const off = model.decoder.onForward((_m, inputs) => {
        feats = tf.keep(tf.clone(inputs[0] as tf.Tensor));
      });
      const { result: out, report } = await withMonitor(model, () => model.apply(templates, search));
      off();
      const windowed = windowedStep(out);
      await expectHeadOutputs(c, out, windowed);
      expectFiringRates(c, report);
      expect(feats).not.toBeNull();
      await expectCaseTensor(c, feats!, 'encoder_out', c.thresholds.features_abs);
      tf.dispose([out, windowed, feats!]);
      // all that stays are the folded weight and bias each eval-mode ConvBn keeps after its first call
      expect(tf.memory().numTensors - before).toBe(foldedTensors(model));
    }, 600_000);

    it.skipIf(tf.getBackend() === 'cpu' || onWebGPU())(
      'the cached path (encodeTemplates → trackFrame) reproduces the kv caches, outputs and firing rates',
      async () => {
        const before = tf.memory().numTensors;
        const { result, report } = await withMonitor(model, () => {
          const cache = model.encodeTemplates(templates);
          return { cache, out: model.trackFrame(search, cache) };
        });
        const { cache, out } = result;
        for (let i = 0; i < 6; i++)
          await expectCaseTensor(c, cache.kv(i), `kv_cache_${i}`, c.thresholds.kv_cache_abs);
        const windowed = windowedStep(out);
        await expectHeadOutputs(c, out, windowed);
        expectFiringRates(c, report);
        // A second frame on the same cache gives the same result, without leaking.
        const again = model.trackFrame(search, cache);
        expect(Array.from(await again.predBoxes.data())).toEqual(Array.from(await out.predBoxes.data()));
        await expectNoLeak(() => model.trackFrame(search, cache), 1);
        tf.dispose([out, windowed, again]);
        cache.dispose();
        expect(tf.memory().numTensors).toBe(before);
      },
      600_000,
    );
  });
}
