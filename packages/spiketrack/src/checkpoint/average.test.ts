import {
  CheckpointError,
  encodeSafetensors,
  type EncodableTensor,
  readSafetensors,
} from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SpikeTrackModel } from '../model/model';
import { TINY_TRAIN_CONFIG } from '../train/tiny-config.test-helper';
import { averageCheckpoints } from './average';
import { saveCheckpoint } from './save';

function file(tensors: Record<string, EncodableTensor>, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(new Map(Object.entries(tensors)), { metadata });
}

const a = file(
  {
    'conv.weight': { dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] },
    'bn.running_var': { dtype: 'F32', shape: [2], values: [70000, 1] },
    'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [5] },
  },
  { 'spiketrack.trainer.step': '250', format: 'pt' },
);
const b = file(
  {
    'conv.weight': { dtype: 'F16', shape: [2, 2], values: [3, 2, 1, 0.5] },
    'bn.running_var': { dtype: 'F32', shape: [2], values: [70000, 3] },
    'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [9] },
  },
  { 'spiketrack.trainer.step': '500', format: 'pt' },
);

describe('averageCheckpoints', () => {
  it('averages the float tensors, keeps the last integer tensors, and records the steps', async () => {
    const avg = averageCheckpoints([
      { bytes: a, source: 'a.safetensors' },
      { bytes: b, source: 'b.safetensors' },
    ]);
    const { tensors, metadata } = readSafetensors(avg.bytes);
    expect(Array.from(await tensors.get('conv.weight')!.data())).toEqual([2, 2, 2, 2.25]);
    expect(Array.from(await tensors.get('bn.running_var')!.data())).toEqual([70000, 2]);
    expect(Array.from(await tensors.get('bn.num_batches_tracked')!.data())).toEqual([9]);
    tf.dispose([...tensors.values()]);
    expect(metadata).toEqual({
      'spiketrack.trainer.step': '500',
      format: 'pt',
      'spiketrack.average.of': '250,500',
    });
    expect(avg.steps).toEqual([250, 500]);
    expect(avg.changed.sort()).toEqual(['bn.running_var', 'conv.weight']);
  });

  it('extends an average: an input that is an average counts as the checkpoints it averages', async () => {
    const c = file(
      {
        'conv.weight': { dtype: 'F32', shape: [2, 2], values: [8, 5, 2, 0] },
        'bn.running_var': { dtype: 'F32', shape: [2], values: [70000, 5] },
        'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [12] },
      },
      { 'spiketrack.trainer.step': '750' },
    );
    const ab = averageCheckpoints([
      { bytes: a, source: 'a' },
      { bytes: b, source: 'b' },
    ]);
    const abc = averageCheckpoints([
      { bytes: ab.bytes, source: 'ab' },
      { bytes: c, source: 'c' },
    ]);
    expect(abc.steps).toEqual([250, 500, 750]);
    const { tensors, metadata } = readSafetensors(abc.bytes);
    expect(metadata['spiketrack.average.of']).toBe('250,500,750');
    expect(metadata['spiketrack.trainer.step']).toBe('750');
    expect(Array.from(await tensors.get('conv.weight')!.data())).toEqual([4, 3, 2, 1.5]);
    expect(Array.from(await tensors.get('bn.running_var')!.data())).toEqual([70000, 3]);
    tf.dispose([...tensors.values()]);
  });

  it('stores F16 on request, except tensors beyond its range', () => {
    const avg = averageCheckpoints(
      [
        { bytes: a, source: 'a' },
        { bytes: b, source: 'b' },
      ],
      { floatDtype: 'F16' },
    );
    expect(avg.keptF32).toEqual(['bn.running_var']);
    const header = new TextDecoder().decode(
      avg.bytes.subarray(8, 8 + Number(new DataView(avg.bytes.buffer).getBigUint64(0, true))),
    );
    const h = JSON.parse(header) as Record<string, { dtype: string }>;
    expect(h['conv.weight']!.dtype).toBe('F16');
    expect(h['bn.running_var']!.dtype).toBe('F32');
    expect(h['bn.num_batches_tracked']!.dtype).toBe('I64');
  });

  it('names the file and the tensor when the checkpoints do not match', () => {
    const missing = file({ 'conv.weight': { dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] } });
    expect(() =>
      averageCheckpoints([
        { bytes: a, source: 'a.safetensors' },
        { bytes: missing, source: 'c.safetensors' },
      ]),
    ).toThrow(/'c\.safetensors': no tensor 'bn\.running_var' \(it is in 'a\.safetensors'\)/);
    expect(() =>
      averageCheckpoints([
        { bytes: missing, source: 'c.safetensors' },
        { bytes: a, source: 'a.safetensors' },
      ]),
    ).toThrow(/'a\.safetensors': tensor 'bn\.running_var' is not in 'c\.safetensors'/);
    const shaped = file({
      'conv.weight': { dtype: 'F32', shape: [4], values: [1, 2, 3, 4] },
      'bn.running_var': { dtype: 'F32', shape: [2], values: [1, 1] },
      'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [1] },
    });
    expect(() =>
      averageCheckpoints([
        { bytes: a, source: 'a.safetensors' },
        { bytes: shaped, source: 'd.safetensors' },
      ]),
    ).toThrow(/'d\.safetensors': tensor 'conv\.weight' has shape \[4\], expected \[2, 2\]/);
    const nan = file({
      'conv.weight': { dtype: 'F32', shape: [2, 2], values: [1, Number.NaN, 3, 4] },
      'bn.running_var': { dtype: 'F32', shape: [2], values: [1, 1] },
      'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [1] },
    });
    expect(() =>
      averageCheckpoints([
        { bytes: a, source: 'a.safetensors' },
        { bytes: nan, source: 'e.safetensors' },
      ]),
    ).toThrow(/'e\.safetensors': tensor 'conv\.weight' holds NaN at index 1/);
    expect(() => averageCheckpoints([{ bytes: new Uint8Array(3), source: 'f.safetensors' }])).toThrow(
      CheckpointError,
    );
  });

  it("averages two networks' checkpoints into one that loads, with the mean of their weights", async () => {
    const m1 = new SpikeTrackModel({ config: TINY_TRAIN_CONFIG, seed: 1 });
    const m2 = new SpikeTrackModel({ config: TINY_TRAIN_CONFIG, seed: 2 });
    const avg = averageCheckpoints([
      { bytes: await saveCheckpoint(m1), source: 'm1' },
      { bytes: await saveCheckpoint(m2), source: 'm2' },
    ]);
    const m = await SpikeTrackModel.fromCheckpoint(avg.bytes);
    expect(m.config).toEqual(m1.config);
    const s1 = m1.stateDict();
    const s2 = m2.stateDict();
    let compared = 0;
    for (const [name, t] of m.stateDict()) {
      if (t.dtype !== 'float32') continue;
      const err = tf.tidy(() =>
        tf.max(tf.abs(tf.sub(t, tf.div(tf.add(s1.get(name) as tf.Tensor, s2.get(name) as tf.Tensor), 2)))),
      );
      expect((await err.data())[0], name).toBeLessThan(1e-6);
      err.dispose();
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
    for (const x of [m, m1, m2]) x.dispose();
  });
});
