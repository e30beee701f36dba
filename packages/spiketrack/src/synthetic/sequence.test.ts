import { createHash } from 'node:crypto';
import { ConfigError } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import type { PixelRegion } from './pixel-region';
import { coverLevel, SyntheticSequence, type SyntheticSequenceOptions } from './sequence';
import { syntheticSuiteSequences } from './suite';

const small: SyntheticSequenceOptions = { seed: 5, width: 96, height: 72, frames: 12 };

/** Mean grey level of a frame. */
function meanLevel(data: Uint8Array): number {
  let s = 0;
  for (const v of data) s += v;
  return s / data.length;
}

describe.skipIf(testBackend() !== 'cpu')('SyntheticSequence', () => {
  it('gives identical bytes and boxes for the same seed, and other bytes for another seed', () => {
    const a = [...new SyntheticSequence(small)];
    const b = [...new SyntheticSequence(small)];
    expect(a).toHaveLength(12);
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(b[i]!.image.data).equals(Buffer.from(a[i]!.image.data)), `frame ${i}`).toBe(true);
      expect(b[i]!.box).toEqual(a[i]!.box);
    }
    const c = new SyntheticSequence({ ...small, seed: 6 }).frame(0);
    expect(Buffer.from(c.image.data).equals(Buffer.from(a[0]!.image.data))).toBe(false);
  });

  it('renders any frame on its own exactly as in order, with the declared size and layout', () => {
    const seq = new SyntheticSequence(small);
    const direct = seq.frame(7);
    const again = [...new SyntheticSequence(small)][7]!;
    expect(Buffer.from(direct.image.data).equals(Buffer.from(again.image.data))).toBe(true);
    expect(direct.image.width).toBe(96);
    expect(direct.image.height).toBe(72);
    expect(direct.image.data).toBeInstanceOf(Uint8Array);
    expect(direct.image.data.length).toBe(96 * 72 * 3);
    expect(seq.groundTruth(7)).toEqual(direct.box);
    expect(() => seq.frame(12)).toThrow(RangeError);
    expect(() => seq.frame(-1)).toThrow(/outside 0\.\.11/);
  });

  it('moves the target smoothly inside the frame, with scale and aspect change', () => {
    const seq = new SyntheticSequence({ seed: 3, width: 160, height: 120, frames: 90 });
    const boxes = Array.from({ length: 90 }, (_, i) => seq.groundTruth(i));
    const cx = boxes.map((b) => b[0] + b[2] / 2);
    const cy = boxes.map((b) => b[1] + b[3] / 2);
    for (const [x, y, w, h] of boxes) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(160);
      expect(y + h).toBeLessThanOrEqual(120);
    }
    let maxStep = 0;
    let maxAccel = 0;
    for (let i = 1; i < 90; i++)
      maxStep = Math.max(maxStep, Math.hypot(cx[i]! - cx[i - 1]!, cy[i]! - cy[i - 1]!));
    for (let i = 1; i < 89; i++) {
      maxAccel = Math.max(
        maxAccel,
        Math.hypot(cx[i + 1]! - 2 * cx[i]! + cx[i - 1]!, cy[i + 1]! - 2 * cy[i]! + cy[i - 1]!),
      );
    }
    // speed 0.015·120 = 1.8 px/frame on average per knot; the spline may exceed it a little.
    expect(maxStep).toBeLessThan(6);
    expect(maxStep).toBeGreaterThan(0.3);
    expect(maxAccel).toBeLessThan(maxStep / 2);
    const areas = boxes.map((b) => Math.sqrt(b[2] * b[3]));
    const aspects = boxes.map((b) => b[2] / b[3]);
    expect(Math.max(...areas) / Math.min(...areas)).toBeGreaterThan(1.1);
    expect(Math.max(...aspects) / Math.min(...aspects)).toBeGreaterThan(1.1);
  });

  it('occludes the target partially, and reports it in cover/absence labels', () => {
    const seq = new SyntheticSequence({ seed: 11, width: 128, height: 96, frames: 40, occlusions: 1 });
    const frames = [...seq];
    expect(frames[0]!.cover).toBe(8);
    const partial = frames.filter((f) => f.cover > 0 && f.cover < 8);
    expect(partial.length).toBeGreaterThan(0);
    for (const f of frames) {
      expect(f.cover).toBe(coverLevel(f.visibleRatio));
      expect(f.absent).toBe(f.visibleRatio <= 1e-6);
      expect(f.visibleRatio).toBeGreaterThanOrEqual(0);
      expect(f.visibleRatio).toBeLessThanOrEqual(1);
    }
    const clear = new SyntheticSequence({ seed: 11, width: 128, height: 96, frames: 40, occlusions: 0 });
    expect([...clear].every((f) => f.cover === 8 && f.visibleRatio === 1)).toBe(true);
  });

  it('changes the illumination over time only when asked', () => {
    const base = {
      seed: 2,
      width: 64,
      height: 48,
      frames: 60,
      distractors: 0,
      occlusions: 0,
      noise: 0,
      motionBlur: false,
    };
    const spread = (illumination: boolean) => {
      const seq = new SyntheticSequence({ ...base, illumination });
      const means = [0, 15, 30, 45, 59].map((i) => meanLevel(seq.frame(i).image.data));
      return Math.max(...means) - Math.min(...means);
    };
    const lit = spread(true);
    const flat = spread(false);
    expect(lit).toBeGreaterThan(5);
    expect(lit).toBeGreaterThan(3 * flat);
  });

  it('blurs moving objects only where they are, and smooths them along the motion', () => {
    const base = {
      seed: 4,
      width: 96,
      height: 72,
      frames: 20,
      distractors: 0,
      occlusions: 0,
      noise: 0,
      illumination: false,
      speed: 0.06,
    };
    const sharp = new SyntheticSequence({ ...base, motionBlur: false }).frame(10);
    const blurred = new SyntheticSequence({ ...base, motionBlur: true }).frame(10);
    const [x, y, w, h] = sharp.box;
    const pad = 0.06 * 72 + 3;
    let changed = 0;
    let outside = 0;
    for (let py = 0; py < 72; py++) {
      for (let px = 0; px < 96; px++) {
        const i = (py * 96 + px) * 3;
        const diff = Math.abs(sharp.image.data[i]! - blurred.image.data[i]!);
        if (diff === 0) continue;
        changed++;
        if (px < x - pad || px > x + w + pad || py < y - pad || py > y + h + pad) outside++;
      }
    }
    expect(changed).toBeGreaterThan(20);
    expect(outside).toBe(0);
    // Total variation inside the target: lower when blurred.
    const tv = (data: Uint8Array) => {
      let s = 0;
      for (let py = Math.ceil(y); py < Math.floor(y + h); py++) {
        for (let px = Math.ceil(x) + 1; px < Math.floor(x + w); px++) {
          const i = (py * 96 + px) * 3;
          s += Math.abs(data[i]! - data[i - 3]!) + Math.abs(data[i]! - data[i - 96 * 3]!);
        }
      }
      return s;
    };
    expect(tv(blurred.image.data)).toBeLessThan(0.9 * tv(sharp.image.data));
  });

  it('adds distractors that change the frame away from the target', () => {
    const base = { seed: 8, width: 128, height: 96, frames: 2, occlusions: 0 };
    const none = new SyntheticSequence({ ...base, distractors: 0 }).frame(0);
    const two = new SyntheticSequence({ ...base, distractors: 2 }).frame(0);
    expect(two.box).toEqual(none.box);
    let differ = 0;
    for (let i = 0; i < none.image.data.length; i++) if (none.image.data[i] !== two.image.data[i]) differ++;
    expect(differ).toBeGreaterThan(100);
  });

  it('renders synthetic-v1 exactly as generator version 1 always did', () => {
    // SHA-256 of frames 0 and 60 of sequences 2, 10, 23 and 24 (occlusion, distractors, motion blur,
    // illumination), rendered before frames could be rendered by region.
    const options = syntheticSuiteSequences();
    const hash = createHash('sha256');
    for (const i of [1, 9, 22, 23]) {
      const seq = new SyntheticSequence(options[i]!);
      for (const f of [0, 60]) hash.update(seq.frame(f).image.data);
    }
    expect(hash.digest('hex')).toBe('4b9e6761d0582d358e95459029023215c43c4ab5590f6326ebb1565ac9f61a1d');
  });

  it('renders any region exactly as the whole frame there, and nothing outside it', () => {
    const scenes: SyntheticSequenceOptions[] = [
      { seed: 21, width: 160, height: 120, frames: 30, distractors: 2, occlusions: 1, speed: 0.05 },
      { seed: 22, width: 97, height: 75, frames: 30, distractors: 1, occlusions: 2, motionBlur: false },
      { seed: 23, width: 128, height: 96, frames: 30, distractors: 0, occlusions: 1, noise: 0 },
    ];
    for (const options of scenes) {
      const seq = new SyntheticSequence(options);
      const W = seq.width;
      const H = seq.height;
      for (const f of [0, 13, 29]) {
        const [bx, by, bw, bh] = seq.groundTruth(f);
        const regions: PixelRegion[] = [
          {
            x0: Math.floor(bx) - 5,
            y0: Math.floor(by) - 3,
            x1: Math.ceil(bx + bw) + 4,
            y1: Math.ceil(by + bh) + 6,
          },
          { x0: -20, y0: -7, x1: 33, y1: 41 }, // over the top-left corner
          { x0: W - 40, y0: H - 30, x1: W + 15, y1: H + 9 }, // over the bottom-right corner
          { x0: 0, y0: 10, x1: W, y1: 11 }, // one row, border to border
          { x0: 31, y0: 31, x1: 65, y1: 33 }, // across tile edges
          { x0: 20, y0: 20, x1: 20, y1: 40 }, // empty
        ];
        const whole = seq.frame(f).image.data;
        // A fresh generator per region: its background is shaded for that region alone.
        for (const r of regions) {
          const part = new SyntheticSequence(options).renderRegion(f, r);
          expect([part.width, part.height, part.data.length]).toEqual([W, H, W * H * 3]);
          let inside = 0;
          for (let y = 0; y < H; y++) {
            for (let x = 0; x < W; x++) {
              const i = (y * W + x) * 3;
              const isInside = x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
              const got = [part.data[i], part.data[i + 1], part.data[i + 2]];
              const want = isInside ? [whole[i], whole[i + 1], whole[i + 2]] : [0, 0, 0];
              if (isInside) inside++;
              if (got.some((v, c) => v !== want[c])) {
                expect(
                  got,
                  `${options.seed}, frame ${f}, region ${JSON.stringify(r)}, pixel ${x},${y}`,
                ).toEqual(want);
              }
            }
          }
          expect(inside).toBe(
            Math.max(0, Math.min(r.x1, W) - Math.max(r.x0, 0)) *
              Math.max(0, Math.min(r.y1, H) - Math.max(r.y0, 0)),
          );
        }
      }
    }
  });

  it('reports visibility without rendering, exactly as the rendered frame does', () => {
    const seq = new SyntheticSequence({ seed: 11, width: 128, height: 96, frames: 40, occlusions: 2 });
    for (let i = 0; i < seq.length; i++) {
      const { visibleRatio, cover, absent } = seq.frame(i);
      expect(seq.visibility(i), `frame ${i}`).toEqual({ visibleRatio, cover, absent });
    }
    expect(() => seq.visibility(40)).toThrow(RangeError);
    // synthetic-v1: partial occlusions as generator version 1 rendered them (frame, ratio, cover).
    const v1 = syntheticSuiteSequences();
    const pinned: [number, number, number, number][] = [
      // [sequence, frame, visible ratio, cover]
      [1, 64, 0.8976496552356799, 6],
      [1, 71, 0.7670795769453128, 6],
      [9, 39, 0.9755158395483735, 7],
      [9, 46, 0.6540108653746736, 5],
      [9, 95, 0.7335437353232935, 5],
      [23, 50, 0.9971030959035452, 7],
      [23, 71, 0.5483379075928447, 4],
      [23, 116, 0.9893970406089243, 7],
    ];
    for (const [i, f, visibleRatio, cover] of pinned) {
      expect(new SyntheticSequence(v1[i]!).visibility(f)).toEqual({ visibleRatio, cover, absent: false });
    }
  });

  it('rejects bad options with a ConfigError naming each one', () => {
    expect(() => new SyntheticSequence({ seed: 1, width: 10 })).toThrow(ConfigError);
    expect(() => new SyntheticSequence({ seed: 1.5, frames: 0, targetSize: 2, name: 'a/b' })).toThrow(
      /seed must be an integer.*frames must be an integer.*targetSize must be in.*name must be/,
    );
  });
});

describe.skipIf(testBackend() !== 'cpu')('coverLevel', () => {
  it("maps visible ratios onto GOT-10k's levels", () => {
    expect([0, 0.1, 0.15, 0.16, 0.3, 0.5, 0.75, 0.9, 0.95, 1].map(coverLevel)).toEqual([
      0, 1, 1, 2, 2, 4, 5, 6, 7, 8,
    ]);
  });
});
