/** The GOT-10k toolkit protocol on hand-computed cases: continuous IoU, clipping, frame selection, pooling. */
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { evaluateGot10kProtocol, got10kIou } from './got10k-protocol';
import type { Box, Sequence } from './types';

const G: Box = [0, 0, 10, 10];
const seq = (name: string, groundTruth: Box[], extra: Partial<Sequence> = {}): Sequence => ({
  name,
  dataset: 'got10k',
  frames: groundTruth.map((_, i) => `${i}.jpg`),
  groundTruth,
  hasGroundTruth: true,
  ...extra,
});

describe.skipIf(testBackend() !== 'cpu')('GOT-10k toolkit protocol', () => {
  it('computes continuous IoU, clipped to the image where its size is known', () => {
    expect(got10kIou(G, G)).toBeCloseTo(1, 12);
    expect(got10kIou(G, [5, 0, 10, 10])).toBeCloseTo(50 / 150, 12); // x 5…10 × y 0…10
    expect(got10kIou(G, [10, 0, 10, 10])).toBe(0); // touching: no −1 convention, no overlap
    expect(got10kIou(G, [9, 0, 10, 10])).toBeCloseTo(10 / 190, 12);
    // In a 12×12 image, [8, 0, 10, 10] becomes [8, 0, 4, 10]: the same as the gt [8, 0, 4, 10].
    expect(got10kIou([8, 0, 10, 10], [8, 0, 4, 10], [12, 12])).toBeCloseTo(1, 12);
    expect(got10kIou([8, 0, 10, 10], [8, 0, 4, 10])).toBeCloseTo(40 / 100, 12);
  });

  it('drops frame 0 and covered frames and pools frames over sequences', () => {
    const a = seq('a', [G, G, G, G], { cover: [8, 8, 0, 4] });
    const b = seq('b', [G, G], { absent: [false, false] });
    const e = evaluateGot10kProtocol(
      new Map<string, Box[]>([
        ['a', [[50, 50, 1, 1], [5, 0, 10, 10], [100, 100, 1, 1], G]],
        ['b', [G, G]],
      ]),
      [a, b],
    );
    // a scores frames 1 and 3: IoU 1/3 and 1; b frame 1: 1.
    expect(e.sequences.a!.ao).toBeCloseTo(2 / 3, 12);
    expect(e.sequences.a).toMatchObject({ sr50: 0.5, sr75: 0.5, frames: 2 });
    expect(e.overall.ao).toBeCloseTo(7 / 9, 12);
    expect(e.overall.sr50).toBeCloseTo(2 / 3, 12);
    expect(e.overall.frames).toBe(3);
    expect(() => evaluateGot10kProtocol(new Map([['a', [G]]]), [a])).toThrow(/1 boxes for 4 frames/);
    expect(() => evaluateGot10kProtocol(new Map(), [b])).toThrow(/no results for sequence 'b'/);
  });
});
