import { describe, expect, it } from 'vitest';
import { SyntheticSequence } from '../synthetic/sequence';
import { SYNTHETIC_V1, syntheticSuiteSequences } from '../synthetic/suite';
import { syntheticTrainingSequences } from './synthetic-data';

const suite = {
  ...SYNTHETIC_V1,
  name: 'tiny-train',
  seed: 7,
  sequences: 20,
  frames: 6,
  width: 64,
  height: 48,
};

describe('syntheticTrainingSequences', () => {
  it('gives the generator’s boxes and pixels, also after its generator was dropped and rebuilt', async () => {
    const train = syntheticTrainingSequences(suite);
    const options = syntheticSuiteSequences(suite);
    expect(train.map((s) => s.name)).toEqual(options.map((o) => o.name));
    expect(train.every((s) => s.length === 6)).toBe(true);
    const direct = new SyntheticSequence(options[0] as (typeof options)[number]);
    const first = train[0]!;
    const before = await first.frame(3);
    expect(first.box(3)).toEqual(direct.groundTruth(3));
    expect(before.data).toEqual(direct.frame(3).image.data);
    // Use more sequences than are kept alive (16): the first one's generator is dropped...
    for (const s of train.slice(1)) s.box(0);
    // ...and rebuilt on the next use, with the same frames.
    expect((await first.frame(3)).data).toEqual(before.data);
    expect(first.visible(3)).toBe(!direct.frame(3).absent);
  });
});
