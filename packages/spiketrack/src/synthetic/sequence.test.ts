import { ConfigError } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { coverLevel, SyntheticSequence, type SyntheticSequenceOptions } from './sequence';

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
