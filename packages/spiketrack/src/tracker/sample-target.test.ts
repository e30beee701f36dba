/**
 * The crop against the reference's `sample_target` (units/sample_target): geometry and
 * resize_factor exact, and every crop pixel equal (OpenCV's fixed-point INTER_LINEAR on uint8).
 */
import { parseSafetensors } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { readFixtureBytes, readFixtureJson, testBackend } from '../../../../test-support/helpers';
import { resizeLinearU8 } from '../frames/resize-linear';
import type { Box } from './box';
import { cropGeometry, pythonRound, sampleTarget } from './sample-target';

interface SampleTargetJson {
  boxes: {
    index: number;
    tag: string;
    box_xywh: [number, number, number, number];
    search_area_factor: number;
    output_sz: number;
    resize_factor: number;
    crop_sz: number;
    x1: number;
    y1: number;
    x1_pad: number;
    x2_pad: number;
    y1_pad: number;
    y2_pad: number;
  }[];
}

const json = readFixtureJson<SampleTargetJson>('units/sample_target.json');
const tensors = parseSafetensors(readFixtureBytes('units/sample_target.safetensors')).tensors;
const bytes = (name: string): Uint8Array => {
  const e = tensors.get(name);
  if (!e || e.dtype !== 'U8') throw new Error(`sample_target: no U8 tensor ${name}`);
  return e.bytes;
};

// Pure JS (no tfjs): one backend is enough.
describe.skipIf(testBackend() !== 'cpu')('sampleTarget (reference sample_target)', () => {
  const [H, W] = tensors.get('in.image')?.shape ?? [];
  const image = { width: W as number, height: H as number, data: bytes('in.image') };

  for (const b of json.boxes) {
    it(`box ${b.index} (${b.tag}): geometry, resize_factor and pixels exact`, () => {
      const out = sampleTarget(image, b.box_xywh as Box, b.search_area_factor, b.output_sz);
      expect(out.geometry).toEqual({
        cropSize: b.crop_sz,
        x1: b.x1,
        y1: b.y1,
        x1Pad: b.x1_pad,
        x2Pad: b.x2_pad,
        y1Pad: b.y1_pad,
        y2Pad: b.y2_pad,
      });
      expect(Math.abs(out.resizeFactor - b.resize_factor)).toBeLessThanOrEqual(1e-12);
      const ref = bytes(`out.crop_${b.index}`);
      const got = out.crop.data;
      expect(got.length).toBe(ref.length);
      let differ = 0;
      let first = -1;
      for (let i = 0; i < ref.length; i++) {
        if (got[i] !== ref[i]) {
          differ++;
          if (first < 0) first = i;
        }
      }
      expect(differ, `first difference at ${first}: got ${got[first]}, expected ${ref[first]}`).toBe(0);
    });
  }

  it('rounds like Python (half to even) and rejects degenerate boxes', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 100.5, 100.25].map(pythonRound)).toEqual([0, 2, 2, 0, -2, 100, 100]);
    expect(() => cropGeometry([0, 0, 0, 5], 4, 10, 10)).toThrow(/too small/);
    expect(() => sampleTarget(image, [Number.NaN, 0, 5, 5], 4, 16)).toThrow(/non-finite/);
  });

  it('resizes a hand-computed case: a 2-pixel ramp upsampled to 4 and the 2× area path', () => {
    // src 2×1 gray [0, 255] → 4: fx = (d + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25
    // → clamped taps (0, w=2048/0), (0, 1536/512), (0, 512/1536), (1, 2048/0).
    // h = 0·a0 + 255·a1; v = ((h >> 4)·2048 >> 16) twice (one row, both taps) then (v + 2) >> 2.
    const up = resizeLinearU8(Uint8Array.from([0, 255]), 2, 1, 1, 4, 1);
    const expected = [0, 512, 1536, 2048].map((a1) => {
      const h = 255 * a1;
      const v = ((h >> 4) * 1024) >> 16; // vertical weights for a 1-row source at scale 1: 1024 + 1024
      return (2 * v + 2) >> 2;
    });
    expect(Array.from(up)).toEqual(expected);
    expect(Array.from(up)).toEqual([0, 64, 191, 255]);
    const area = resizeLinearU8(Uint8Array.from([1, 2, 3, 5]), 2, 2, 1, 1, 1);
    expect(Array.from(area)).toEqual([3]); // (1 + 2 + 3 + 5 + 2) >> 2
  });
});
