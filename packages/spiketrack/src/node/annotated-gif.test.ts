import { GifReader } from 'omggif';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import type { RgbImage } from '../frames/rgb-image';
import { AnnotatedGif } from './annotated-gif';

/** A W×H RGB image filled with one colour. */
const solid = (W: number, H: number, c: [number, number, number]): RgbImage => {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) data.set(c, i * 3);
  return { width: W, height: H, data };
};

/** Frame `k` of a GIF as RGBA. */
function frameRgba(gif: Uint8Array, k: number): { w: number; h: number; rgba: Uint8Array; n: number } {
  const r = new GifReader(gif);
  const rgba = new Uint8Array(r.width * r.height * 4);
  for (let i = 0; i <= k; i++) r.decodeAndBlitFrameRGBA(i, rgba);
  return { w: r.width, h: r.height, rgba, n: r.numFrames() };
}

describe.skipIf(testBackend() !== 'cpu')('AnnotatedGif', () => {
  it('downscales, draws boxes in exact colours, and keeps every frame', () => {
    const gif = new AnnotatedGif(40, 30, { scale: 2, delay: 50 });
    gif.addFrame(solid(40, 30, [102, 153, 204]), [{ box: [4, 6, 20, 12], color: 'green' }]);
    gif.addFrame(solid(40, 30, [255, 255, 255]), [{ box: [0, 0, 40, 30], color: 'red' }]);
    expect(gif.length).toBe(2);
    const bytes = gif.finish();
    const f0 = frameRgba(bytes, 0);
    expect([f0.w, f0.h, f0.n]).toEqual([20, 15, 2]);
    const px = (f: { w: number; rgba: Uint8Array }, x: number, y: number) => [
      ...f.rgba.subarray((y * f.w + x) * 4, (y * f.w + x) * 4 + 3),
    ];
    // (102, 153, 204) = 51 × (2, 3, 4): on the colour cube, so dithering leaves it exact.
    expect(px(f0, 15, 12)).toEqual([102, 153, 204]);
    // The box [4, 6, 20, 12] is [2, 3, 10, 6] at half size: its top-left corner is green.
    expect(px(f0, 2, 3)).toEqual([0, 255, 0]);
    expect(px(f0, 11, 8)).toEqual([0, 255, 0]);
    const f1 = frameRgba(bytes, 1);
    expect(px(f1, 0, 0)).toEqual([255, 0, 0]);
    expect(px(f1, 10, 7)).toEqual([255, 255, 255]);
  });

  it('draws text on a black band at the top left', () => {
    const gif = new AnnotatedGif(60, 20);
    gif.addFrame(solid(60, 20, [255, 255, 255]), [], [{ text: '1', color: 'yellow' }]);
    const f = frameRgba(gif.finish(), 0);
    const px = (x: number, y: number) => [...f.rgba.subarray((y * f.w + x) * 4, (y * f.w + x) * 4 + 3)];
    expect(px(0, 0)).toEqual([0, 0, 0]);
    // '1' is 010/110/010/010/111 at (2, 1): its stem at column 3, rows 1..5.
    expect(px(3, 1)).toEqual([255, 255, 0]);
    expect(px(3, 5)).toEqual([255, 255, 0]);
    expect(px(40, 10)).toEqual([255, 255, 255]);
  });

  it('rejects frames of another size, bad scales, and frames after finish()', () => {
    expect(() => new AnnotatedGif(10, 10, { scale: 0 })).toThrow(/scale must be a positive integer/);
    expect(() => new AnnotatedGif(10, 10, { scale: 20 })).toThrow(/empty/);
    const gif = new AnnotatedGif(10, 10);
    expect(() => gif.addFrame(solid(8, 10, [0, 0, 0]))).toThrow(/8×10, expected 10×10/);
    gif.finish();
    expect(() => gif.addFrame(solid(10, 10, [0, 0, 0]))).toThrow(/after finish/);
  });
});
