/**
 * The tracker's logic driven by the reference's recorded head outputs (units/tracker_trace):
 * boxes, confidences, update decisions and template slot order, frame by frame.
 */
import { describe, expect, it } from 'vitest';
import { readFixtureF32, readFixtureJson, testBackend } from '../../../../test-support/helpers';
import { type Box, checkBox, clipBox, mapBoxBack } from './box';
import { resolveTrackerParams, TRACKER_PRESETS } from './params';
import { type HeadMapsData, TrackerError, TrackerLogic } from './tracker-logic';

interface TraceJson {
  image_hw: [number, number];
  search_size: number;
  search_factor: number;
  num_templates: number;
  update_intervals: number;
  update_threshold: number;
  init_bbox_xywh: [number, number, number, number];
  frames: {
    frame: number;
    state_xywh: [number, number, number, number];
    conf_score: number;
    template_slots_from_frame: number[];
    updated: boolean;
  }[];
  tolerance: { state_abs: number; conf_abs: number };
}

/** `[1, C, F, F]` (NCHW) → `F·F·C` channels last. */
function channelsLast(values: Float32Array, c: number, f: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < f * f; i++) out[i * c + ch] = values[ch * f * f + i] as number;
  return out;
}

// Pure JS (no tfjs): one backend is enough.
describe.skipIf(testBackend() !== 'cpu')('TrackerLogic (reference tracker_trace)', () => {
  const trace = readFixtureJson<TraceJson>('units/tracker_trace.json');
  const maps = readFixtureF32('units/tracker_trace.safetensors');
  const F = trace.search_size / 16;
  const headAt = (frame: number): HeadMapsData => {
    const get = (k: string) => {
      const t = maps.get(`frame${frame}.${k}`);
      if (!t) throw new Error(`tracker_trace: no frame${frame}.${k}`);
      return t.values;
    };
    return {
      featSize: F,
      score: get('score_map'),
      size: channelsLast(get('size_map'), 2, F),
      offset: channelsLast(get('offset_map'), 2, F),
    };
  };

  it('reproduces every frame: box, confidence, update decision and slot order', () => {
    const [H, W] = trace.image_hw;
    const params = resolveTrackerParams(trace.search_size, trace.num_templates, {
      searchFactor: trace.search_factor,
      updateInterval: trace.update_intervals,
      updateThreshold: trace.update_threshold,
    });
    const logic = new TrackerLogic(params);
    logic.initialize(trace.init_bbox_xywh, { width: W, height: H });
    expect(logic.slots).toEqual([0, 0, 0]);
    // The crop the reference took for each frame: only resize_factor matters to the logic.
    for (const f of trace.frames) {
      const [, , w, h] = logic.state;
      const resizeFactor = trace.search_size / Math.ceil(Math.sqrt(w * h) * trace.search_factor);
      const step = logic.step(headAt(f.frame), resizeFactor);
      expect(logic.frameId).toBe(f.frame);
      for (let i = 0; i < 4; i++) {
        expect(
          Math.abs((step.box[i] as number) - (f.state_xywh[i] as number)),
          `frame ${f.frame} box[${i}]`,
        ).toBeLessThanOrEqual(trace.tolerance.state_abs);
      }
      expect(Math.abs(step.score - f.conf_score), `frame ${f.frame} conf`).toBeLessThanOrEqual(
        trace.tolerance.conf_abs,
      );
      expect(step.update, `frame ${f.frame} updated`).toBe(f.updated);
      expect(step.slots, `frame ${f.frame} slots`).toEqual(f.template_slots_from_frame);
    }
  });

  it('keeps one template with T = 1 and uses the presets', () => {
    const logic = new TrackerLogic(resolveTrackerParams(256, 1, { updateInterval: 1, updateThreshold: 0 }));
    logic.initialize(trace.init_bbox_xywh, { width: 480, height: 360 });
    const s = logic.step(headAt(1), 1);
    expect(s.update).toBe(true);
    expect(s.slots).toEqual([0]);
    expect(resolveTrackerParams(256, 3)).toMatchObject({
      updateInterval: 25,
      updateThreshold: 0.7,
      margin: 10,
    });
    expect(resolveTrackerParams(256, 3, { preset: 'lasot' })).toMatchObject(TRACKER_PRESETS.lasot);
    expect(() => resolveTrackerParams(256, 3, { preset: 'got' as 'lasot' })).toThrow(/unknown preset 'got'/);
    expect(() => resolveTrackerParams(256, 3, { updateInterval: 0 })).toThrow(
      /updateInterval must be a positive integer/,
    );
  });

  it('rejects bad boxes, maps and NaN outputs with clear errors', () => {
    const logic = new TrackerLogic(resolveTrackerParams(256, 3));
    expect(() => logic.state).toThrow(/initialize/);
    const frame = { width: 100, height: 80 };
    expect(() => logic.initialize([10, 10, 0, 5], frame)).toThrow(/zero or negative size/);
    expect(() => logic.initialize([120, 10, 5, 5], frame)).toThrow(/outside the 100 × 80 frame/);
    expect(() => logic.initialize([10, Number.NaN, 5, 5], frame)).toThrow(/four finite numbers/);
    logic.initialize([10, 10, 20, 20], frame);
    const good = headAt(1);
    expect(() => logic.step({ ...good, size: new Float32Array(3) }, 1)).toThrow(
      /size map to hold 512 values/,
    );
    const nan = Float32Array.from(good.score);
    nan[7] = Number.NaN;
    expect(() => logic.step({ ...good, score: nan }, 1)).toThrow(TrackerError);
    const inf = Float32Array.from(good.size).fill(Number.POSITIVE_INFINITY);
    expect(() => logic.step({ ...good, size: inf }, 1)).toThrow(/non-finite box/);
    expect(logic.frameId).toBe(0);
  });

  it('maps boxes back and clips them as the reference (hand-computed)', () => {
    // Previous state centred at (50, 40); the crop of 100 px resized to 50 (factor 0.5), so
    // half_side = 0.5·50/0.5 = 50: a crop box centred at (60, 30) px lands at (50 + 10, 40 − 20).
    const b = mapBoxBack([60, 30, 20, 10], [40, 30, 20, 20] as Box, 50, 0.5);
    expect(b).toEqual([50, 15, 20, 10]);
    // clip_box with margin 10 in a 100 × 80 frame.
    expect(clipBox([-5, 75, 3, 30], 80, 100, 10)).toEqual([0, 70, 10, 10]);
    expect(clipBox([95, -20, 30, 25], 80, 100, 10)).toEqual([90, 0, 10, 10]);
    expect(checkBox(Float64Array.from([1, 2, 3, 4]), 'box')).toEqual([1, 2, 3, 4]);
  });
});
