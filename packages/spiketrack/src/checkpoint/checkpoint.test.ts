import { CheckpointError, parseSafetensors, readSafetensors } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixturesDir,
  readFixtureBytes,
  readFixtureF32,
  readFixtureJson,
} from '../../../../test-support/helpers';
import { CenterPredictor } from '../head/center-predictor';
import { SpikeTrackModel } from '../model/model';
import { loadCheckpoint, readCheckpoint } from './load';
import { saveCheckpoint } from './save';
import { readCheckpointBytes } from './source';

const T3 = `${fixturesDir}tiny-256-t3/model.pth.tar`;

/** Asserts that two models hold the same state, bit for bit (native layout). */
async function expectSameState(a: SpikeTrackModel, b: SpikeTrackModel): Promise<void> {
  const sa = a.stateDict();
  const sb = b.stateDict();
  try {
    expect([...sb.keys()]).toEqual([...sa.keys()]);
    for (const [k, t] of sa) {
      const u = sb.get(k)!;
      expect(u.shape, k).toEqual(t.shape);
      expect(u.dtype, k).toBe(t.dtype);
      const [x, y] = [await t.data(), await u.data()];
      expect(
        x.every((v, i) => Object.is(v, y[i])),
        `${k} differs`,
      ).toBe(true);
    }
  } finally {
    tf.dispose([...sa.values(), ...sb.values()]);
  }
}

describe('SpikeTrack checkpoints', () => {
  let reference: SpikeTrackModel;

  beforeAll(async () => {
    reference = await SpikeTrackModel.fromCheckpoint(T3);
  });
  afterAll(() => reference?.dispose());

  it('reads the official .pth.tar (path, bytes, file URL) through the safe reader, config inferred', async () => {
    expect(reference.config.name).toBe('tiny_256_t3');
    expect(reference.training).toBe(false);
    expect(reference.loadReport!.loaded).toHaveLength(1359);
    const fromBytes = await SpikeTrackModel.fromCheckpoint(readFixtureBytes('tiny-256-t3/model.pth.tar'));
    await expectSameState(reference, fromBytes);
    fromBytes.dispose();
    const { bytes, source } = await readCheckpointBytes(new URL(`file://${T3}`));
    expect(source).toMatch(/^file:/);
    expect(bytes.length).toBe(
      readFixtureJson<{ checkpoint: { bytes: number } }>('tiny-256-t3/case.json').checkpoint.bytes,
    );
  });

  for (const layout of ['torch', 'native'] as const) {
    it(`saveCheckpoint({ layout: '${layout}' }) round-trips through fromCheckpoint bit for bit`, async () => {
      const bytes = await saveCheckpoint(reference, { layout, metadata: { note: 'test' } });
      const parsed = parseSafetensors(bytes);
      expect(parsed.metadata['spiketrack.layout']).toBe(layout);
      expect(parsed.metadata.note).toBe('test');
      expect(JSON.parse(parsed.metadata['spiketrack.config']!)).toEqual({ ...reference.config });
      expect(parsed.tensors.size).toBe(1359);
      if (layout === 'torch') {
        // What PyTorch's load_state_dict needs: the reference's keys, shapes and dtypes.
        const cfg = readFixtureJson<{ keys: Record<string, { shape: number[]; dtype: string }> }>(
          'configs/tiny_256_t3.json',
        );
        expect([...parsed.tensors.keys()].sort()).toEqual(Object.keys(cfg.keys).sort());
        for (const [k, v] of Object.entries(cfg.keys)) {
          const e = parsed.tensors.get(k)!;
          expect(e.shape, k).toEqual(v.shape);
          expect(e.dtype, k).toBe(v.dtype === 'int64' ? 'I64' : 'F32');
        }
        expect(parsed.metadata.format).toBe('pt');
        // The saved tensors equal the official checkpoint's.
        const saved = readSafetensors(bytes).tensors;
        const original = await readCheckpoint(T3);
        try {
          for (const [k, t] of original.tensors) {
            const [x, y] = [await t.data(), await saved.get(k)!.data()];
            expect(
              x.every((v, i) => Object.is(v, y[i])),
              `${k} differs from the .pth.tar`,
            ).toBe(true);
          }
        } finally {
          tf.dispose([...saved.values(), ...original.tensors.values()]);
        }
      }
      const back = await SpikeTrackModel.fromCheckpoint(bytes);
      expect(back.config).toEqual(reference.config);
      expect(back.loadReport!.unexpected).toEqual([]);
      await expectSameState(reference, back);
      back.dispose();
    });
  }

  it('infers the configuration of a torch-layout safetensors without metadata; a native one needs it', async () => {
    const sd = reference.stateDict({ layout: 'torch' });
    const { writeSafetensors } = await import('@spiketrack/neurons');
    const plain = await writeSafetensors(sd);
    const native = await saveCheckpoint(reference, { layout: 'native' });
    tf.dispose([...sd.values()]);
    const m = await SpikeTrackModel.fromCheckpoint(plain);
    expect(m.config.name).toBe('tiny_256_t3');
    await expectSameState(reference, m);
    m.dispose();
    // Strip the config from a native file: the loader cannot guess transposed shapes.
    const parsed = readSafetensors(native);
    const stripped = await writeSafetensors(parsed.tensors, { metadata: { 'spiketrack.layout': 'native' } });
    tf.dispose([...parsed.tensors.values()]);
    await expect(SpikeTrackModel.fromCheckpoint(stripped)).rejects.toThrow(/native-layout file without/);
    const ok = await SpikeTrackModel.fromCheckpoint(stripped, { config: 'tiny_256_t3' });
    await expectSameState(reference, ok);
    ok.dispose();
  });

  it('tiny-256-t1 loads the t3 checkpoint only with strict: false, ignoring exactly the 144 extra responder keys', async () => {
    const ignored = readFixtureJson<{ checkpoint: { ignored_keys: string[] } }>('tiny-256-t1/case.json')
      .checkpoint.ignored_keys;
    expect(ignored).toHaveLength(144);
    const before = tf.memory().numTensors;
    const err = await SpikeTrackModel.fromCheckpoint(T3, { config: 'tiny_256_t1' }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).unexpected.sort()).toEqual([...ignored].sort());
    expect((err as CheckpointError).missing).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    const m = await SpikeTrackModel.fromCheckpoint(T3, { config: 'tiny_256_t1', strict: false });
    expect(m.loadReport!.unexpected.sort()).toEqual([...ignored].sort());
    expect(m.loadReport!.missing).toEqual([]);
    expect(m.loadReport!.loaded).toHaveLength(1215);
    m.dispose();
  });

  it('a config that does not fit the file is a CheckpointError naming the shape mismatches, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    await expect(SpikeTrackModel.fromCheckpoint(T3, { config: 'spiketrack_s256_t3' })).rejects.toThrow(
      /shape mismatch/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('trainer checkpoints', () => {
  it("loads a full trainer checkpoint's net (here a CenterPredictor) equal to its .safetensors; nothing is called", async () => {
    const head = new CenterPredictor({ inplanes: 32, channel: 64, featSize: 16 });
    const report = await loadCheckpoint(head, `${fixturesDir}units/trainer_checkpoint.pth.tar`);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    const expected = readFixtureF32('units/trainer_checkpoint.safetensors');
    const ours = head.stateDict({ layout: 'torch' });
    for (const [k, t] of expected) {
      const v = await ours.get(k)!.data();
      expect(
        v.every((x, i) => Object.is(x, t.values[i])),
        `${k} differs`,
      ).toBe(true);
    }
    tf.dispose([...ours.values()]);
    head.dispose();
    // The whole object is readable: the trainer's settings are inert placeholders.
    const c = await readCheckpoint(`${fixturesDir}units/trainer_checkpoint.pth.tar`);
    expect(c.format).toBe('torch');
    expect(c.root).toBeInstanceOf(Map);
    expect([...(c.root as Map<string, unknown>).keys()]).toContain('optimizer');
    tf.dispose([...c.tensors.values()]);
  });

  it('SpikeTrackModel.fromCheckpoint explains a checkpoint that is not a SpikeTrack network', async () => {
    const before = tf.memory().numTensors;
    await expect(
      SpikeTrackModel.fromCheckpoint(`${fixturesDir}units/trainer_checkpoint.pth.tar`),
    ).rejects.toThrow(/trainer_checkpoint\.pth\.tar: cannot infer the SpikeTrack configuration: .*encoder\./);
    expect(tf.memory().numTensors).toBe(before);
  });
});
