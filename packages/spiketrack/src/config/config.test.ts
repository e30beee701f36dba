import { CheckpointError, ConfigError } from '@spiketrack/neurons';
import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../../../test-support/helpers';
import {
  inferSpikeTrackConfig,
  resolveSpikeTrackConfig,
  SPIKETRACK_CONFIG_NAMES,
  SPIKETRACK_CONFIGS,
  type SpikeTrackConfigName,
} from './config';

interface ConfigFixture {
  name: string;
  variant: string;
  dims: number[];
  resolution: number;
  temp_num: number;
  decoder_channel: number;
  keys: Record<string, { shape: number[]; dtype: string }>;
}

const FIXTURE_CONFIGS = [
  'spiketrack_s256_t1',
  'spiketrack_s256_t3',
  'spiketrack_b256_t1',
  'spiketrack_b256_t3',
  'spiketrack_b384_t1',
  'spiketrack_b384_t3',
  'tiny_256_t3',
] as const;

describe('SpikeTrack configurations', () => {
  for (const name of FIXTURE_CONFIGS) {
    it(`the preset ${name} equals the reference's configs/${name}.json, and is inferred from its shapes`, () => {
      const cfg = readFixtureJson<ConfigFixture>(`configs/${name}.json`);
      const p = SPIKETRACK_CONFIGS[name];
      expect(p.name).toBe(name);
      expect([...p.dims]).toEqual(cfg.dims);
      expect(p.backbone).toBe(cfg.variant === 'tiny' ? 'tiny' : cfg.variant === 'small' ? 'small' : 'base');
      expect(p.resolution).toBe(cfg.resolution);
      expect(p.templates).toBe(cfg.temp_num);
      expect(p.decoderChannel).toBe(cfg.decoder_channel);
      const { config, assumed } = inferSpikeTrackConfig(cfg.keys);
      expect(config).toEqual({ ...p });
      expect(assumed.join()).toMatch(/numHeads/);
    });
  }

  it('has tiny_256_t1 (the t1 whole-model case) and resolves names and partial configs', () => {
    expect(SPIKETRACK_CONFIG_NAMES).toHaveLength(8);
    expect(resolveSpikeTrackConfig('tiny_256_t1')).toMatchObject({ templates: 1, dims: [24, 48, 96, 128] });
    const c = resolveSpikeTrackConfig({ base: 'spiketrack_b256_t3', resolution: 384 });
    expect(c.name).toBe('spiketrack_b384_t3');
    const custom = resolveSpikeTrackConfig({
      dims: [8, 8, 16, 16],
      numHeads: 2,
      resolution: 64,
      templates: 2,
    });
    expect(custom.name).toBeNull();
    expect(custom.backbone).toBeNull();
    expect(custom.decoderChannel).toBe(256);
    expect(resolveSpikeTrackConfig({ backbone: 'small', decoderChannel: 192, templates: 1 }).name).toBe(
      'spiketrack_s256_t1',
    );
    // Presets are frozen; resolving returns a copy.
    expect(Object.isFrozen(SPIKETRACK_CONFIGS.tiny_256_t3)).toBe(true);
    const copy = resolveSpikeTrackConfig('tiny_256_t3');
    copy.templates = 2;
    expect(SPIKETRACK_CONFIGS.tiny_256_t3.templates).toBe(3);
  });

  it('rejects unknown names and invalid values with ConfigError', () => {
    expect(() => resolveSpikeTrackConfig('spiketrack_x' as SpikeTrackConfigName)).toThrow(
      /unknown configuration 'spiketrack_x'/,
    );
    expect(() => resolveSpikeTrackConfig({ templates: 0 })).toThrow(ConfigError);
    expect(() => resolveSpikeTrackConfig({ resolution: 250 })).toThrow(/multiple of 16/);
    expect(() => resolveSpikeTrackConfig({ decoderChannel: 100 })).toThrow(/multiple of 8/);
    expect(() => resolveSpikeTrackConfig({ backbone: 'huge' as never })).toThrow(/unknown backbone 'huge'/);
    expect(() => resolveSpikeTrackConfig({ dims: [1, 2, 3] as never })).toThrow(/dims must be/);
    expect(() => resolveSpikeTrackConfig({ stride: 8 })).toThrow(/stride 16/);
    expect(() => resolveSpikeTrackConfig({ backboneNorm: 'group' as never })).toThrow(
      /backboneNorm must be 'frozen' or 'batch', got group/,
    );
  });

  it("backboneNorm: presets are 'frozen' (the reference); 'batch' is a custom config, inferred from num_batches_tracked", () => {
    for (const name of SPIKETRACK_CONFIG_NAMES) expect(SPIKETRACK_CONFIGS[name].backboneNorm).toBe('frozen');
    const batch = resolveSpikeTrackConfig({ base: 'tiny_256_t1', backboneNorm: 'batch' });
    expect(batch.backboneNorm).toBe('batch');
    expect(batch.name).toBeNull();
    const cfg = readFixtureJson<ConfigFixture>('configs/tiny_256_t3.json');
    // the retrievers' and the head's norms always track batches: they do not make the backbone 'batch'
    expect(Object.keys(cfg.keys).some((k) => k.endsWith('num_batches_tracked'))).toBe(true);
    expect(inferSpikeTrackConfig(cfg.keys).config.backboneNorm).toBe('frozen');
    const trained = {
      ...cfg.keys,
      'encoder.downsample1_1.encode_bn.num_batches_tracked': { shape: [], dtype: 'int64' },
    };
    expect(inferSpikeTrackConfig(trained).config).toEqual({
      ...SPIKETRACK_CONFIGS.tiny_256_t3,
      name: null,
      backboneNorm: 'batch',
    });
  });

  it('inference names the missing or inconsistent key with CheckpointError', () => {
    const cfg = readFixtureJson<ConfigFixture>('configs/tiny_256_t3.json');
    const noMrm = Object.fromEntries(Object.entries(cfg.keys).filter(([k]) => !k.startsWith('encoder.mrm.')));
    expect(() => inferSpikeTrackConfig(noMrm)).toThrow(/seg_responder_dw/);
    const noHead = Object.fromEntries(Object.entries(cfg.keys).filter(([k]) => !k.startsWith('decoder.')));
    expect(() => inferSpikeTrackConfig(noHead)).toThrow(CheckpointError);
    expect(() => inferSpikeTrackConfig(noHead)).toThrow(/decoder\.conv1_ctr\.0\.weight/);
    const wrong = {
      ...cfg.keys,
      'decoder.conv1_ctr.0.weight': { shape: [256, 192, 3, 3], dtype: 'float32' },
    };
    expect(() => inferSpikeTrackConfig(wrong)).toThrow(/takes 192 channels, but the encoder ends with 128/);
    expect(() => inferSpikeTrackConfig({})).toThrow(CheckpointError);
  });
});
