import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import type { RgbImage } from '../frames/rgb-image';
import type { PixelRegion } from '../synthetic/pixel-region';
import { hash32, Prng } from '../synthetic/prng';
import type { Box } from '../tracker/box';
import { IMAGENET_MEAN, IMAGENET_STD } from '../tracker/preprocess';
import { sampleTarget } from '../tracker/sample-target';
import { boxInCrop, cropReadRegion, jitterBox, type TrainingSequence, TrainingSampler } from './sampler';

/** A dark frame with one bright rectangle at `box` (integer pixels). */
function frameWithBox(W: number, H: number, box: Box): RgbImage {
  const data = new Uint8Array(W * H * 3).fill(20);
  const [x, y, w, h] = box;
  for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) data.set([250, 250, 250], (r * W + c) * 3);
  return { width: W, height: H, data };
}

/** A sequence whose rectangle moves right by 2 px a frame; frames in `hidden` are invisible. */
function movingSequence(n: number, hidden: Set<number> = new Set()): TrainingSequence & { calls: number[] } {
  const calls: number[] = [];
  const box = (i: number): Box => [40 + 2 * i, 50, 24, 16];
  return {
    name: 'moving',
    length: n,
    calls,
    box,
    visible: (i) => !hidden.has(i),
    frame: (i) => {
      calls.push(i);
      return frameWithBox(200, 160, box(i));
    },
  };
}

/** A W×H frame of hashed noise, different per frame index, with a box that moves across the frame. */
function noisySequence(n: number, W = 90, H = 70): TrainingSequence {
  return {
    name: 'noisy',
    length: n,
    box: (i) => [5 + 3 * i, 40 - i, 20 + (i % 5), 14],
    visible: () => true,
    frame: (i) => {
      const data = new Uint8Array(W * H * 3);
      for (let k = 0; k < data.length; k++) data[k] = hash32(i * 1_000_003 + k) & 255;
      return { width: W, height: H, data };
    },
  };
}

/** `seq` with `frameSize`/`frameRegion`: region frames are 0 outside the region; the regions asked for are kept. */
function regional(seq: TrainingSequence): TrainingSequence & { regions: PixelRegion[]; whole: number } {
  const out = {
    ...seq,
    regions: [] as PixelRegion[],
    whole: 0,
    frame: (i: number) => {
      out.whole++;
      return seq.frame(i);
    },
    frameSize: (i: number) => {
      const { width, height } = seq.frame(i) as RgbImage;
      return { width, height };
    },
    frameRegion: (i: number, r: PixelRegion) => {
      out.regions.push(r);
      return masked(seq.frame(i) as RgbImage, r);
    },
  };
  return out;
}

/** A copy of `img` with every pixel outside `r` set to 0. */
function masked(img: RgbImage, r: PixelRegion): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let y = Math.max(0, r.y0); y < Math.min(img.height, r.y1); y++) {
    for (let x = Math.max(0, r.x0); x < Math.min(img.width, r.x1); x++) {
      const i = (y * img.width + x) * 3;
      data.set(img.data.subarray(i, i + 3), i);
    }
  }
  return { ...img, data };
}

/** Bounding box (fractions of R) of the bright pixels of a normalized crop (red channel). */
function brightExtent(pixels: Float32Array, R: number): Box {
  const bright = (0.9 - (IMAGENET_MEAN[0] as number)) / (IMAGENET_STD[0] as number);
  let x0 = R;
  let y0 = R;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < R; y++) {
    for (let x = 0; x < R; x++) {
      if ((pixels[(y * R + x) * 3] as number) > bright) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return [x0 / R, y0 / R, (x1 - x0 + 1) / R, (y1 - y0 + 1) / R];
}

describe.skipIf(testBackend() !== 'cpu')('TrainingSampler', () => {
  it('maps boxes into the crop as transform_image_to_crop does', () => {
    // A crop box centred on the target, factor 1: the target fills the middle of the crop.
    const b: Box = [10, 20, 40, 40];
    expect(boxInCrop(b, b, 2, 80)).toEqual([(39.5 - 40) / 80, (39.5 - 40) / 80, 1, 1]);
    // Shifted crop: the box moves by the offset times the resize factor.
    const [x] = boxInCrop(b, [20, 20, 40, 40], 0.5, 64);
    // centre (64 − 1)/2 + (30 − 40)·0.5 = 26.5, width 20: x = 16.5
    expect(x * 64).toBeCloseTo(16.5, 12);
  });

  it('jitters only when asked, with the log-normal scale and bounded centre offset', () => {
    const rng = new Prng(1);
    expect(jitterBox([5, 6, 7, 8], 0, 0, rng)).toEqual([5, 6, 7, 8]);
    for (let i = 0; i < 200; i++) {
      const [x, y, w, h] = jitterBox([100, 100, 20, 20], 3.5, 0.5, rng);
      const off = Math.sqrt(w * h) * 3.5 * 0.5;
      expect(Math.abs(x + w / 2 - 110)).toBeLessThanOrEqual(off + 1e-9);
      expect(Math.abs(y + h / 2 - 110)).toBeLessThanOrEqual(off + 1e-9);
    }
  });

  it('crops the target where the search box says, flipped or not', async () => {
    const seq = movingSequence(30);
    const R = 64;
    const sampler = new TrainingSampler([seq], {
      numTemplates: 2,
      resolution: R,
      seed: 7,
      brightnessJitter: 0,
      grayscaleProbability: 0,
    });
    let flips = 0;
    for (let k = 0; k < 12; k++) {
      const s = await sampler.sample(k);
      expect(s.templates).toHaveLength(2);
      expect(s.search).toHaveLength(R * R * 3);
      if (s.source.flipped) flips++;
      // Templates are not jittered: the target sits in the middle of each template crop.
      for (const tb of s.templateBoxes) {
        expect(tb[0] + tb[2] / 2).toBeCloseTo((R - 1) / 2 / R, 6);
        expect(tb[2] / tb[3]).toBeCloseTo(24 / 16, 6);
      }
      const seen = brightExtent(s.search, R);
      const [bx, by, bw, bh] = s.searchBox;
      if (bx >= 0 && by >= 0 && bx + bw <= 1 && by + bh <= 1) {
        // Bilinear resizing blurs the edges by up to a pixel or two of the crop.
        for (const [a, b] of [
          [seen[0], bx],
          [seen[1], by],
          [seen[0] + seen[2], bx + bw],
          [seen[1] + seen[3], by + bh],
        ] as const) {
          expect(Math.abs(a - b)).toBeLessThan(2.5 / R);
        }
      }
      const [first] = s.source.templateFrames;
      expect(s.source.searchFrame).toBeGreaterThan(first as number);
    }
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(12);
  });

  it('is deterministic per sample index, and uses only visible frames within the gap', async () => {
    const hidden = new Set([3, 4, 5, 10, 11]);
    const seq = movingSequence(40, hidden);
    const sampler = new TrainingSampler([seq], { numTemplates: 3, resolution: 32, maxGap: 6, seed: 3 });
    const a = await sampler.sample(5);
    const b = await sampler.sample(5);
    expect(Array.from(a.search)).toEqual(Array.from(b.search));
    expect(a.source).toEqual(b.source);
    const c = await sampler.sample(6);
    expect(Array.from(c.search)).not.toEqual(Array.from(a.search));
    for (let k = 0; k < 30; k++) {
      const s = await sampler.sample(k);
      const frames = [...s.source.templateFrames, s.source.searchFrame];
      for (const f of frames) expect(hidden.has(f), `frame ${f} is hidden`).toBe(false);
      const [base, ...prev] = s.source.templateFrames as [number, ...number[]];
      for (const p of prev) expect(p).toBeLessThan(base);
      expect(s.source.searchFrame - base).toBeLessThanOrEqual(6 + 5 * 50);
    }
  });

  it('names exactly the pixels sample_target reads, with its right/bottom quirk', () => {
    // crop 16 at (6, 16): x2 = 22 stays inside, y2 = 32 passes the bottom (30), so y2_pad = 3.
    expect(cropReadRegion([10, 20, 8, 8], 2, 30, 30)).toEqual({ x0: 6, y0: 16, x1: 22, y1: 29 });
    const img = noisySequence(1, 50, 40).frame(0) as RgbImage;
    const rng = new Prng(9);
    for (let k = 0; k < 300; k++) {
      const w = rng.uniform(1, 40);
      const h = rng.uniform(1, 40);
      const box: Box = [rng.uniform(-30, 70), rng.uniform(-30, 60), w, h];
      const factor = rng.uniform(0.5, 4);
      const r = cropReadRegion(box, factor, 50, 40);
      expect(r.x0 >= 0 && r.y0 >= 0 && r.x1 <= 50 && r.y1 <= 40 && r.x0 <= r.x1 && r.y0 <= r.y1).toBe(true);
      const want = sampleTarget(img, box, factor, 24).crop.data;
      const got = sampleTarget(masked(img, r), box, factor, 24).crop.data;
      expect(Buffer.from(got).equals(Buffer.from(want)), JSON.stringify(box)).toBe(true);
    }
    // A box sample_target rejects: the whole image, so that it reports it.
    expect(cropReadRegion([5, 5, Number.NaN, 3], 4, 50, 40)).toEqual({ x0: 0, y0: 0, x1: 50, y1: 40 });
  });

  it('asks a sequence with frameRegion for only what its crops read, with the same samples', async () => {
    const options = {
      numTemplates: 2,
      resolution: 32,
      seed: 4,
      grayscaleProbability: 0.5,
      flipProbability: 0.5,
    };
    const plain = new TrainingSampler([noisySequence(20)], options);
    const seq = regional(noisySequence(20));
    const parts = new TrainingSampler([seq], options);
    let flips = 0;
    let grays = 0;
    for (let k = 0; k < 40; k++) {
      const [a, b] = [await plain.sample(k), await parts.sample(k)];
      expect(b.source).toEqual(a.source);
      expect(b.templates).toEqual(a.templates);
      expect(b.search).toEqual(a.search);
      expect([b.searchBox, b.templateBoxes]).toEqual([a.searchBox, a.templateBoxes]);
      if (a.source.flipped) flips++;
      if (a.source.gray) grays++;
    }
    expect(flips > 5 && flips < 35 && grays > 5 && grays < 35).toBe(true);
    expect(seq.whole).toBe(0);
    expect(seq.regions).toHaveLength(40 * 3);
    // Crops of a 20 px box at factor 4 reach over the 90×70 frame's borders, and read less than all of it.
    expect(seq.regions.some((r) => r.x0 === 0 || r.y0 === 0 || r.x1 === 90 || r.y1 === 70)).toBe(true);
    expect(seq.regions.every((r) => (r.x1 - r.x0) * (r.y1 - r.y0) < 90 * 70)).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => new TrainingSampler([], { numTemplates: 1, resolution: 64 })).toThrow(
      /no training sequences/,
    );
    expect(() => new TrainingSampler([movingSequence(5)], { numTemplates: 0, resolution: 64 })).toThrow(
      /numTemplates/,
    );
    expect(() => new TrainingSampler([movingSequence(5)], { numTemplates: 1, resolution: 8 })).toThrow(
      /resolution/,
    );
  });
});
