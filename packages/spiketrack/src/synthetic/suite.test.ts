import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { SYNTHETIC_V1, syntheticSuiteSequences } from './suite';

describe.skipIf(testBackend() !== 'cpu')('synthetic-v1', () => {
  it('is 24 sequences × 120 frames at 640×480 holding each attribute combination once', () => {
    const seqs = syntheticSuiteSequences();
    expect(seqs).toHaveLength(24);
    expect(SYNTHETIC_V1).toMatchObject({ sequences: 24, frames: 120, width: 640, height: 480 });
    expect(seqs[0]!.name).toBe('synthetic-v1-001');
    expect(seqs[23]!.name).toBe('synthetic-v1-024');
    expect(new Set(seqs.map((s) => s.seed)).size).toBe(24);
    const combos = new Set(
      seqs.map((s) => `${s.occlusions}/${s.distractors}/${s.motionBlur}/${s.illumination}`),
    );
    expect(combos.size).toBe(24);
    for (const s of seqs) expect(s).toMatchObject({ frames: 120, width: 640, height: 480 });
  });

  it('is a pure function of the suite definition', () => {
    const custom = { ...SYNTHETIC_V1, name: 'mini', sequences: 3, frames: 5, width: 64, height: 48 };
    expect(syntheticSuiteSequences(custom)).toEqual(syntheticSuiteSequences(custom));
    expect(syntheticSuiteSequences(custom).map((s) => s.name)).toEqual(['mini-001', 'mini-002', 'mini-003']);
    expect(syntheticSuiteSequences({ ...custom, seed: 1 })[0]!.seed).not.toBe(
      syntheticSuiteSequences(custom)[0]!.seed,
    );
  });
});
