/**
 * Stage-wise parity with the whole-model reference cases: each stage is fed the reference's
 * input for it (teacher forcing), so a mismatch points at one stage. Runs on every backend, except
 * the template branch at T = 3 on WebGPU (see below).
 */
import { TemplateMemory } from '@spiketrack/memory-retrieval';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onWebGPU } from '../../../../test-support/helpers';
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

for (const name of ['tiny-256-t3', 'tiny-256-t1'] as const) {
  describe(`SpikeTrackModel stage by stage: ${name}`, () => {
    let c: WholeModelCase;
    let model: SpikeTrackModel;

    beforeAll(async () => {
      c = readCase(name);
      model = await loadCaseModel(c);
    });
    afterAll(() => model?.dispose());

    it('loads the reference checkpoint (t1: the t3 file without the 144 extra responder keys)', () => {
      const report = model.loadReport!;
      expect(report.missing).toEqual([]);
      expect(report.loaded).toHaveLength(c.json.checkpoint.num_keys_used);
      expect([...report.unexpected].sort()).toEqual([...c.json.checkpoint.ignored_keys].sort());
      expect(model.config.name).toBe(name === 'tiny-256-t3' ? 'tiny_256_t3' : 'tiny_256_t1');
    });

    for (let i = 0; i < 6; i++) {
      const from = i === 0 ? 'search' : `mrm${i - 1}_out`;
      it(`backbone segment ${i}: ${from} → mrm${i}_in`, async () => {
        const x = caseTensor(c, from);
        const x5 = i === 0 ? tf.expandDims(x, 0) : x;
        const y = model.encoder.segment(i, x5, 'search');
        await expectCaseTensor(c, y, `mrm${i}_in`, c.thresholds.features_abs);
        tf.dispose([x, x5, y]);
      });

      it(`mrm.${i} on the search path: (mrm${i}_in, kv_cache_${i}) → mrm${i}_out, with the reference's firing rates`, async () => {
        const x = caseTensor(c, `mrm${i}_in`);
        const memory = new TemplateMemory(caseTensor(c, `kv_cache_${i}`));
        const { result: y, report } = await withMonitor(model, () =>
          model.encoder.mrm.at(i).retrieve(x, memory),
        );
        await expectCaseTensor(c, y, `mrm${i}_out`, c.thresholds.features_abs);
        // The search-side neurons of this MRM: their last calls (the search's) are what ran here.
        const prefix = `encoder.mrm.${i}.`;
        const ref = c.json.firing_rates.per_layer;
        for (const [k, e] of Object.entries(report)) {
          if (!k.startsWith(prefix) || e.calls === 0) continue;
          const steps = ref[k]!.per_step;
          expect(steps.length, k).toBeGreaterThanOrEqual(e.per_step.length);
          const tail = steps.slice(steps.length - e.per_step.length);
          expect(
            e.per_step.every((v, j) => Math.abs(v - tail[j]!) <= c.thresholds.firing_rate_abs),
            `${k}: ${e.per_step} vs ${tail}`,
          ).toBe(true);
        }
        tf.dispose([x, y]);
        memory.dispose();
      });
    }

    it('decoder: encoder_out → score/size/offset maps, boxes, and the tracker’s Hann-windowed step', async () => {
      const x = caseTensor(c, 'encoder_out');
      const { result: out, report } = await withMonitor(model, () => model.decoder.apply(x));
      const hann = hann2d(model.decoder.featSize);
      await expectCaseTensor(c, hann, 'hann_window', 1e-6);
      const windowed = tf.tidy(() =>
        model.decoder.calBbox(tf.mul(out.scoreMap, hann), out.sizeMap, out.offsetMap),
      );
      await expectHeadOutputs(c, out, windowed);
      expectFiringRates(c, report, (k) => k.startsWith('decoder.'));
      tf.dispose([x, out, hann, windowed]);
    });

    // The template branch runs the whole backbone on T templates at 256×256: about 100 s on
    // SwiftShader for T = 3, so WebGPU runs it for T = 1 only.
    it.skipIf(onWebGPU() && name === 'tiny-256-t3')(
      'template branch: templates → kv_cache_0..5 (encodeTemplates)',
      async () => {
        const templates = caseTemplates(c);
        const cache = model.encodeTemplates(templates);
        for (let i = 0; i < 6; i++)
          await expectCaseTensor(c, cache.kv(i), `kv_cache_${i}`, c.thresholds.kv_cache_abs);
        cache.dispose();
        tf.dispose(templates);
      },
      300_000,
    );
  });
}
