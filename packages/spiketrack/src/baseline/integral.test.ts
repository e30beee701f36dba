import { describe, expect, it } from 'vitest';
import { expectClose, testBackend } from '../../../../test-support/helpers';
import type { RgbImage } from '../frames/rgb-image';
import { greyIntegral, resampleArea } from './integral';

/** A W×H RGB image whose grey level is `f(x, y)` (R = G = B). */
function greyImage(W: number, H: number, f: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) data.fill(f(x, y), (y * W + x) * 3, (y * W + x) * 3 + 3);
  return { width: W, height: H, data };
}

/** Exact mean of the piecewise-constant image over [x0, x1] × [y0, y1], by summing cell overlaps. */
function exactMean(img: RgbImage, x0: number, x1: number, y0: number, y1: number): number {
  let s = 0;
  for (let y = 0; y < img.height; y++) {
    const oy = Math.max(0, Math.min(y + 1, y1) - Math.max(y, y0));
    if (oy <= 0) continue;
    for (let x = 0; x < img.width; x++) {
      const ox = Math.max(0, Math.min(x + 1, x1) - Math.max(x, x0));
      if (ox > 0) s += ox * oy * img.data[(y * img.width + x) * 3]!;
    }
  }
  return s / ((x1 - x0) * (y1 - y0));
}

const img = greyImage(13, 9, (x, y) => (x * 37 + y * 91 + x * y * 7) % 256);

describe.skipIf(testBackend() !== 'cpu')('greyIntegral / resampleArea', () => {
  it('uses BT.601 luma and sums exactly', () => {
    const rgb: RgbImage = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
    const g = greyIntegral(rgb);
    expect(g.sum[3 + 1]).toBeCloseTo(0.299 * 255, 10);
    expect(g.sum[3 + 2]).toBeCloseTo((0.299 + 0.114) * 255, 10);
  });

  it('returns the pixels themselves on the pixel grid, and block means at half size', () => {
    const g = greyIntegral(img);
    const same = new Float32Array(13 * 9);
    resampleArea(g, 0, 0, 1, 1, 13, 9, same);
    expectClose(
      same,
      Array.from({ length: 13 * 9 }, (_, i) => img.data[i * 3]!),
      1e-4,
      'identity',
    );
    const half = new Float32Array(6 * 4);
    resampleArea(g, 0, 0, 2, 2, 6, 4, half);
    const px = (x: number, y: number) => img.data[(y * 13 + x) * 3]!;
    const blocks = Array.from({ length: 24 }, (_, i) => {
      const bx = (i % 6) * 2;
      const by = Math.floor(i / 6) * 2;
      return (px(bx, by) + px(bx + 1, by) + px(bx, by + 1) + px(bx + 1, by + 1)) / 4;
    });
    expectClose(half, blocks, 1e-4, '2×2 means');
  });

  it('averages exactly over real-valued footprints (shrinking and enlarging)', () => {
    const g = greyIntegral(img);
    for (const [x0, y0, dx, dy] of [
      [0.3, 0.7, 1.7, 1.3],
      [2.25, 1.5, 0.4, 0.6],
      [1.1, 0.2, 3.3, 2.9],
    ] as const) {
      const cols = Math.floor((13 - x0) / dx);
      const rows = Math.floor((9 - y0) / dy);
      const out = new Float32Array(cols * rows);
      resampleArea(g, x0, y0, dx, dy, cols, rows, out);
      const want = Array.from({ length: cols * rows }, (_, k) => {
        const i = k % cols;
        const j = Math.floor(k / cols);
        return exactMean(img, x0 + i * dx, x0 + (i + 1) * dx, y0 + j * dy, y0 + (j + 1) * dy);
      });
      expectClose(out, want, 1e-3, `footprint ${dx}×${dy}`);
    }
  });

  it('replicates the edge for footprints outside the frame', () => {
    const g = greyIntegral(img);
    const out = new Float32Array(2);
    resampleArea(g, -5, 3, 1, 1, 1, 1, out.subarray(0, 1));
    resampleArea(g, 20, 3, 1, 1, 1, 1, out.subarray(1, 2));
    expect(out[0]).toBeCloseTo(img.data[(3 * 13 + 0) * 3]!, 4);
    expect(out[1]).toBeCloseTo(img.data[(3 * 13 + 12) * 3]!, 4);
  });
});
