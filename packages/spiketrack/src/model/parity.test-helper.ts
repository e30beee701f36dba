/**
 * Test-only: the whole-model reference cases (`tiny-256-t3`, `tiny-256-t1`): the model loaded
 * from the reference checkpoint, the case's tensors in our layouts, and its firing rates.
 */
import { FiringRateMonitor, type FiringRateReport } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import {
  expectClose,
  type FixtureTensor,
  fixturesDir,
  readFixtureF32,
  readFixtureJson,
} from '../../../../test-support/helpers';
import { toNhwc } from '../fixtures.test-helper';
import { SpikeTrackModel } from './model';

export interface CaseJson {
  name: string;
  temp_num: number;
  checkpoint: { path: string; ignored_keys: string[]; num_keys_used: number };
  firing_rates: { per_layer: Record<string, { per_step: number[]; mean: number }> };
  tolerance: {
    recommended: {
      thresholds: {
        firing_rate_abs: number;
        features_abs: number;
        kv_cache_abs: number;
        maps_abs: number;
        pred_boxes_abs: number;
        same_argmax: boolean;
      };
    };
  };
}

export interface WholeModelCase {
  name: 'tiny-256-t3' | 'tiny-256-t1';
  json: CaseJson;
  tensors: Map<string, FixtureTensor>;
  thresholds: CaseJson['tolerance']['recommended']['thresholds'];
}

export function readCase(name: WholeModelCase['name']): WholeModelCase {
  const json = readFixtureJson<CaseJson>(`${name}/case.json`);
  return {
    name,
    json,
    tensors: readFixtureF32(`${name}/tensors.safetensors`),
    thresholds: json.tolerance.recommended.thresholds,
  };
}

/** The model of a case, from the reference checkpoint (t1 loads the t3 file, non-strict). */
export async function loadCaseModel(c: WholeModelCase): Promise<SpikeTrackModel> {
  const path = `${fixturesDir}tiny-256-t3/model.pth.tar`;
  return c.name === 'tiny-256-t3'
    ? SpikeTrackModel.fromCheckpoint(path)
    : SpikeTrackModel.fromCheckpoint(path, { config: 'tiny_256_t1', strict: false });
}

/** A case tensor in our layout (images `[1, R, R, 3]`, features `[1, 1, H, W, C]`, maps NHWC). */
export function caseTensor(c: WholeModelCase, key: string): tf.Tensor {
  const t = c.tensors.get(key);
  if (!t) throw new Error(`${c.name}: no tensor '${key}'`);
  if (key.startsWith('kv_cache_')) return tf.tensor(t.values, t.shape, 'float32'); // torch layout, as TemplateMemory
  return toNhwc(t);
}

/** The templates of a case, oldest first, as `[1, R, R, 3]` tensors. */
export function caseTemplates(c: WholeModelCase): tf.Tensor[] {
  return Array.from({ length: c.json.temp_num }, (_, i) => caseTensor(c, `template_${i}`));
}

/** Asserts that `actual` equals the case tensor `key` within `atol`. */
export async function expectCaseTensor(c: WholeModelCase, actual: tf.Tensor, key: string, atol: number) {
  const expected = caseTensor(c, key);
  expect(actual.size, `${key}: size`).toBe(expected.size);
  expectClose(await actual.data(), await expected.data(), atol, `${c.name} ${key}`);
  expected.dispose();
}

/** Asserts the decoder outputs against the case (maps, boxes, same argmax, and the tracker's windowed step). */
export async function expectHeadOutputs(
  c: WholeModelCase,
  out: { scoreMap: tf.Tensor; sizeMap: tf.Tensor; offsetMap: tf.Tensor; predBoxes: tf.Tensor },
  windowed?: { boxes: tf.Tensor; scores: tf.Tensor },
): Promise<void> {
  const th = c.thresholds;
  await expectCaseTensor(c, out.scoreMap, 'score_map', th.maps_abs);
  await expectCaseTensor(c, out.sizeMap, 'size_map', th.maps_abs);
  await expectCaseTensor(c, out.offsetMap, 'offset_map', th.maps_abs);
  await expectCaseTensor(c, out.predBoxes, 'pred_boxes', th.pred_boxes_abs);
  if (th.same_argmax) {
    const ref = caseTensor(c, 'score_map');
    const a = tf.tidy(() => tf.argMax(tf.reshape(out.scoreMap, [-1])));
    const b = tf.tidy(() => tf.argMax(tf.reshape(ref, [-1])));
    expect((await a.data())[0], `${c.name}: argmax of the score map`).toBe((await b.data())[0]);
    tf.dispose([ref, a, b]);
  }
  if (windowed) {
    await expectCaseTensor(c, windowed.boxes, 'pred_boxes_windowed', th.pred_boxes_abs);
    await expectCaseTensor(c, windowed.scores, 'conf_score', th.maps_abs);
  }
}

/** Asserts every layer's per-step firing rates against the case (same layers, ±firing_rate_abs). */
export function expectFiringRates(
  c: WholeModelCase,
  report: FiringRateReport,
  filter?: (path: string) => boolean,
) {
  const ref = c.json.firing_rates.per_layer;
  const refKeys = Object.keys(ref).filter((k) => !filter || filter(k));
  const ours = Object.keys(report).filter((k) => report[k]!.calls > 0 && (!filter || filter(k)));
  expect(ours.sort(), `${c.name}: layers that fired`).toEqual(refKeys.sort());
  for (const k of refKeys) {
    expectClose(
      report[k]!.per_step,
      ref[k]!.per_step,
      c.thresholds.firing_rate_abs,
      `${c.name} firing rates of ${k}`,
    );
    expect(
      Math.abs(report[k]!.mean - ref[k]!.mean),
      `${c.name} mean firing rate of ${k}`,
    ).toBeLessThanOrEqual(1e-6);
  }
}

/** Runs `fn` under a firing-rate monitor of `model` and returns its result and the report. */
export async function withMonitor<T>(
  model: SpikeTrackModel,
  fn: () => T,
): Promise<{ result: T; report: FiringRateReport }> {
  const mon = new FiringRateMonitor(model);
  try {
    const result = fn();
    return { result, report: await mon.report() };
  } finally {
    mon.detach();
  }
}
