/**
 * The metrics on hand-computed cases: IoU and centers with the −1 pixel convention, the curves,
 * AUC / precision / AO / SR of small sequences, and each special rule (zero-size predictions,
 * frame 0, invalid frames, UAV's −1 center, LaSOT visibility, length mismatches).
 */
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import {
  CENTER_THRESHOLDS,
  NORM_CENTER_THRESHOLDS,
  OVERLAP_THRESHOLDS,
  centerError,
  evaluate,
  evaluateSequence,
  frameErrors,
  iou,
} from './metrics';
import { type Box, DatasetError, type DatasetFormat, type Sequence } from './types';

const seq = (
  name: string,
  groundTruth: Box[],
  dataset: DatasetFormat = 'otb',
  extra: Partial<Sequence> = {},
): Sequence => ({
  name,
  dataset,
  frames: groundTruth.map((_, i) => `${i}.jpg`),
  groundTruth,
  hasGroundTruth: true,
  ...extra,
});

const B = (x: number, y: number, w: number, h: number): Box => [x, y, w, h];
const G = B(0, 0, 10, 10);

describe.skipIf(testBackend() !== 'cpu')('metrics', () => {
  it('has pytracking’s thresholds', () => {
    expect(OVERLAP_THRESHOLDS).toHaveLength(21);
    expect(OVERLAP_THRESHOLDS[10]).toBe(0.5);
    expect(OVERLAP_THRESHOLDS[15]).toBe(0.75);
    expect(OVERLAP_THRESHOLDS[20]).toBe(1);
    expect(OVERLAP_THRESHOLDS[3]).toBe(0.15000000000000002); // i · 0.05, as torch.arange
    expect(CENTER_THRESHOLDS).toEqual(Array.from({ length: 51 }, (_, i) => i));
    expect(NORM_CENTER_THRESHOLDS[20]).toBe(0.2);
    expect(NORM_CENTER_THRESHOLDS[50]).toBe(0.5);
  });

  it('computes IoU with the −1 pixel convention', () => {
    expect(iou(G, G)).toBe(1);
    // Overlap x 5..9 (5 px) × 0..9 (10 px) = 50; union 100 + 100 − 50.
    expect(iou(G, B(5, 0, 10, 10))).toBeCloseTo(50 / 150, 15);
    // Touching boxes (x 0..9 and 10..19) share no pixel; x 0..9 and 9..18 share one column.
    expect(iou(G, B(10, 0, 10, 10))).toBe(0);
    expect(iou(G, B(9, 0, 10, 10))).toBeCloseTo(10 / 190, 15);
    expect(iou(G, B(30, 30, 5, 5))).toBe(0);
    // Nested: 4×4 inside 10×10.
    expect(iou(G, B(2, 3, 4, 4))).toBeCloseTo(16 / 100, 15);
  });

  it('computes center errors as xy + (wh − 1)/2, normalized by the ground-truth size', () => {
    // Centers (4.5, 4.5) and (7.5, 8.5): a 3-4-5 triangle.
    expect(centerError(B(3, 4, 10, 10), G)).toBe(5);
    // Same center (4.5, 4.5) for a 4×4 box at (3, 3).
    expect(centerError(B(3, 3, 4, 4), G)).toBe(0);
    // Normalized: (4.5/10 − 4.5/10, …) after a 6 px shift in x on a 20×10 box: 6/20.
    expect(centerError(B(6, 0, 20, 10), B(0, 0, 20, 10), true)).toBeCloseTo(0.3, 15);
  });

  it('scores a hand-computed sequence (zero-size replacement, frame 0, an invalid frame)', () => {
    const s = seq('a', [G, G, G, B(0, 0, 0, 0)]);
    const pred = [B(100, 100, 5, 5), B(5, 0, 10, 10), B(3, 4, 0, 10), G];
    const e = frameErrors(pred, s);
    // Frame 0 is the ground truth; frame 2 (zero width) takes frame 1's box.
    expect(e.predictions).toEqual([G, B(5, 0, 10, 10), B(5, 0, 10, 10), G]);
    expect([...e.overlap]).toEqual([1, 1 / 3, 1 / 3, -1]);
    expect([...e.center]).toEqual([0, 5, 5, Number.POSITIVE_INFINITY]);
    expect([...e.normCenter].map((v) => Number(v.toFixed(12)))).toEqual([0, 0.5, 0.5, -1]);
    expect(e.valid).toEqual([true, true, true, false]);

    const r = evaluateSequence(pred, s);
    // overlap > t: t = 0 … 0.30 → 3 of 4 frames; 0.35 … 0.95 → 1; t = 1 → 0.
    expect(r.curves.success).toEqual([...Array(7).fill(0.75), ...Array(13).fill(0.25), 0]);
    expect(r.scores.success_auc).toBeCloseTo((7 * 0.75 + 13 * 0.25) / 21, 15);
    expect(r.scores.precision).toBe(0.75); // errors 0, 5, 5, ∞ ≤ 20
    expect(r.curves.precision[4]).toBe(0.25); // only frame 0 within 4 px
    expect(r.scores.norm_precision).toBe(0.5); // 0 and the invalid frame's −1 (pytracking)
    expect(r.scores.ao).toBeCloseTo((1 + 1 / 3 + 1 / 3) / 3, 15);
    expect(r.scores.sr50).toBe(0.25);
    expect(r.scores.sr75).toBe(0.25);
    expect(r.scores.frames).toBe(4);
    expect(r.scores.valid_frames).toBe(3);

    const x = evaluateSequence(pred, s, { excludeInvalidFrames: true });
    expect(x.scores.success_auc).toBeCloseTo(((7 * 0.75 + 13 * 0.25) / 21) * (4 / 3), 15);
    expect(x.scores.precision).toBe(1);
    expect(x.scores.norm_precision).toBeCloseTo(2 / 3, 15);
  });

  it('counts UAV’s invalid (NaN) frames as precision successes, as pytracking', () => {
    const nan = B(Number.NaN, Number.NaN, Number.NaN, Number.NaN);
    const s = seq('uav_x', [G, G, nan, G], 'uav');
    // Frame 2 predicts zero size, but its ground truth is NaN: no replacement (it stays 0-size).
    const pred = [G, B(3, 4, 10, 10), B(1, 1, 0, 0), B(3, 4, 10, 10)];
    const e = frameErrors(pred, s);
    expect(e.predictions[2]).toEqual(B(1, 1, 0, 0));
    expect([...e.center]).toEqual([0, 5, -1, 5]);
    const r = evaluateSequence(pred, s);
    expect(r.scores.precision).toBe(1);
    expect(r.curves.precision[4]).toBe(0.5); // frame 0 and the invalid frame
    expect(r.scores.valid_frames).toBe(3);
  });

  it('applies LaSOT’s visibility rule', () => {
    const s = seq('cat-1', [G, G, G], 'lasot', { targetVisible: [true, false, true] });
    const pred = [G, G, B(5, 0, 10, 10)];
    const e = frameErrors(pred, s);
    expect([...e.overlap]).toEqual([1, -1, 1 / 3]);
    expect([...e.center]).toEqual([0, Number.POSITIVE_INFINITY, 5]);
    expect(e.normCenter[1]).toBe(Number.POSITIVE_INFINITY);
    expect(e.normCenter[2]).toBeCloseTo(0.5, 15);
    const r = evaluateSequence(pred, s);
    // Success: t ≤ 0.30 → 2/3, 0.35 … 0.95 → 1/3, 1 → 0; all over the 3 frames.
    expect(r.scores.success_auc).toBeCloseTo((7 * (2 / 3) + 13 * (1 / 3)) / 21, 15);
    expect(r.scores.precision).toBeCloseTo(2 / 3, 15);
    expect(r.scores.norm_precision).toBeCloseTo(1 / 3, 15);
    expect(r.scores.ao).toBeCloseTo(2 / 3, 15);
  });

  it('cuts long predictions, pads short ones (not on LaSOT), and rejects invalid ones', () => {
    const s = seq('b', [G, G, G]);
    const long = evaluateSequence([G, G, G, G, G], s);
    expect(long.scores.success_auc).toBeCloseTo(20 / 21, 15);
    expect(long.warnings[0]).toMatch(/5 result boxes for 3 frames/);
    const short = frameErrors([G, G], s);
    expect(short.predictions[2]).toEqual(B(0, 0, 0, 0));
    expect(short.overlap[2]).toBe(0);
    expect(short.center[2]).toBeCloseTo(Math.hypot(5, 5), 12); // (−0.5, −0.5) vs (4.5, 4.5)
    expect(() =>
      frameErrors([G, G], seq('cat-2', [G, G, G], 'lasot', { targetVisible: [true, true, true] })),
    ).toThrow(/cat-2: 2 boxes for 3 frames/);
    expect(() => frameErrors([G, B(0, 0, -1, 4), G], s)).toThrow(/frame 2 has a negative size/);
    expect(() => frameErrors([G, B(0, Number.NaN, 1, 4), G], s)).toThrow(DatasetError);
    expect(() => evaluateSequence([G], seq('c', [B(0, 0, 0, 0)]))).toThrow(/no frame has a valid/);
    expect(() => evaluateSequence([G], { ...seq('d', [G]), hasGroundTruth: false })).toThrow(/not public/);
  });

  it('averages curves over sequences and finds results by name or alias', () => {
    const s1 = seq('Jogging_1', [G, G, G, B(0, 0, 0, 0)], 'otb', { aliases: ['Jogging-1'] });
    const s2 = seq('two', [G, G]);
    const e = evaluate({ 'Jogging-1': [G, B(5, 0, 10, 10), B(3, 4, 0, 10), G], two: [G, G] }, [s1, s2]);
    const auc1 = (7 * 0.75 + 13 * 0.25) / 21;
    expect(e.sequences.Jogging_1!.success_auc).toBeCloseTo(auc1, 15);
    expect(e.sequences.two!.success_auc).toBeCloseTo(20 / 21, 15);
    expect(e.overall.success_auc).toBeCloseTo((auc1 + 20 / 21) / 2, 15);
    expect(e.overall.precision).toBeCloseTo((0.75 + 1) / 2, 15);
    expect(e.overall.ao).toBeCloseTo((5 / 9 + 1) / 2, 15);
    expect(e.overall.sr50).toBeCloseTo((0.25 + 1) / 2, 15);
    expect(e.curves.success).toHaveLength(21);
    expect(() => evaluate(new Map([['two', [G, G]]]), [s1, s2])).toThrow(
      /no results for sequence 'Jogging_1'/,
    );
  });
});
