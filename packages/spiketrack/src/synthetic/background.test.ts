import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { BackgroundTiles, backgroundTexture } from './background';
import { fullRegion, type PixelRegion } from './pixel-region';
import { Prng } from './prng';

/** The background's pixels of `r`, read from fresh tiles after reading `before` (partial tiles). */
function readTiles(seed: number, W: number, H: number, r: PixelRegion, before: PixelRegion[] = []) {
  const tiles = new BackgroundTiles(new Prng(seed), W, H);
  for (const b of before) tiles.read(b, new Float32Array((b.x1 - b.x0) * (b.y1 - b.y0) * 3));
  const out = new Float32Array((r.x1 - r.x0) * (r.y1 - r.y0) * 3);
  tiles.read(r, out);
  return out;
}

describe.skipIf(testBackend() !== 'cpu')('background', () => {
  it('is the background generator version 1 drew', () => {
    const { data } = backgroundTexture(new Prng(7), 100, 70);
    const bytes = new Uint8Array(data.buffer);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      'ff9f52bf5a7c0a5f33643053018d867207971477a4ca8e9af8a6f1619f665cb0',
    );
  });

  it('shades tiles on demand to exactly the whole background, in any order', () => {
    for (const [seed, W, H] of [
      [7, 100, 70],
      [8, 64, 32],
      [9, 200, 45],
    ] as const) {
      const eager = backgroundTexture(new Prng(seed), W, H).data;
      const scattered = [
        { x0: 40, y0: 30, x1: 41, y1: 31 },
        { x0: W - 10, y0: 0, x1: W, y1: 5 },
        { x0: 3, y0: H - 9, x1: 60, y1: H },
      ];
      expect(readTiles(seed, W, H, fullRegion(W, H))).toEqual(eager);
      expect(readTiles(seed, W, H, fullRegion(W, H), scattered)).toEqual(eager);
      // A region on its own: the same values, W − 30 … W columns of rows 5 … 40.
      const r = { x0: W - 30, y0: 5, x1: W, y1: Math.min(H, 40) };
      const part = readTiles(seed, W, H, r, scattered);
      const want: number[] = [];
      for (let y = r.y0; y < r.y1; y++) want.push(...eager.subarray((y * W + r.x0) * 3, (y * W + r.x1) * 3));
      expect(part).toEqual(new Float32Array(want));
    }
  });
});
