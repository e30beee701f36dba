import { CheckpointError } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../../test-support/helpers';
import { ESpikeFormer } from './backbone';
import { inferESpikeFormerOptions } from './infer-config';

describe('inferESpikeFormerOptions', () => {
  for (const [name, preset, resolution] of [
    ['tiny_256_t3', 'tiny', 256],
    ['spiketrack_s256_t1', 'small', 256],
    ['spiketrack_b256_t3', 'base', 256],
    ['spiketrack_b384_t1', 'base', 384],
  ] as const) {
    it(`recovers the backbone of configs/${name}`, () => {
      const cfg = readFixtureJson<{ dims: number[]; keys: Record<string, { shape: number[] }> }>(
        `configs/${name}.json`,
      );
      const got = inferESpikeFormerOptions(cfg.keys, 'encoder.');
      expect(got.preset).toBe(preset);
      expect(got.options).toEqual({ dims: cfg.dims, mlpRatio: 4, inChannels: 3, resolution });
    });
  }

  it('round-trips a custom backbone', () => {
    const m = new ESpikeFormer({
      dims: [8, 12, 16, 24],
      mlpRatio: 2,
      inChannels: 1,
      resolution: 64,
      numHeads: 4,
    });
    const got = inferESpikeFormerOptions(m.stateShapes({ layout: 'torch' }));
    expect(got).toEqual({
      options: { dims: [8, 12, 16, 24], mlpRatio: 2, inChannels: 1, resolution: 64 },
      preset: null,
    });
    m.dispose();
  });

  it('names the missing key', () => {
    expect(() => inferESpikeFormerOptions(new Map(), 'encoder.')).toThrow(CheckpointError);
    expect(() => inferESpikeFormerOptions(new Map(), 'encoder.')).toThrow(
      /encoder\.downsample1_1\.encode_conv\.weight/,
    );
  });
});
