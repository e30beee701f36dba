import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../../test-support/helpers';
import { CheckpointError } from '../core/errors';
import { Sequential } from '../nn/containers';
import { Conv2d } from '../nn/conv';
import { BatchNorm2d } from '../nn/batchnorm';
import { NILIF } from '../neurons/modules';
import { loadModuleSafetensors, saveModuleSafetensors } from './module-io';
import { parseSafetensors } from './safetensors';

function net(seed: number) {
  const s = new Sequential();
  s.append(new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, seed }));
  s.append(new BatchNorm2d(4));
  s.append(new NILIF());
  s.append(new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, groups: 4, seed: seed + 1 }));
  return s;
}

describe('module safetensors IO', () => {
  for (const layout of ['torch', 'native'] as const) {
    it(`round-trips a module in ${layout} layout`, async () => {
      const a = net(1);
      const b = net(7);
      // make the BN buffers non-trivial: one training step updates running stats
      const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 3);
      a.apply(x).dispose();
      a.eval();
      b.eval();
      const bytes = await saveModuleSafetensors(a, { layout, metadata: { note: 'test' } });
      const parsed = parseSafetensors(bytes);
      expect(parsed.metadata).toEqual({ note: 'test', 'spiketrack.layout': layout });
      const nbt = parsed.tensors.get('1.num_batches_tracked')!;
      expect(nbt.dtype).toBe(layout === 'torch' ? 'I64' : 'I32');
      expect(parsed.tensors.get('0.weight')!.shape).toEqual(layout === 'torch' ? [4, 3, 3, 3] : [3, 3, 3, 4]);
      expect(parsed.tensors.get('3.weight')!.shape).toEqual(layout === 'torch' ? [4, 1, 3, 3] : [3, 3, 4, 1]);
      const report = loadModuleSafetensors(b, bytes, { source: 'a.safetensors' });
      expect(report.loaded.length).toBe([...a.stateDict().keys()].length);
      const ya = a.apply(x);
      const yb = b.apply(x);
      expect(Array.from(await yb.data())).toEqual(Array.from(await ya.data()));
      tf.dispose([x, ya, yb]);
      a.dispose();
      b.dispose();
    });
  }

  for (const floatDtype of ['F16', 'BF16'] as const) {
    it(`stores float tensors as ${floatDtype} and loads them back as float32 (rounded)`, async () => {
      const a = net(1);
      const b = net(7);
      const bytes = await saveModuleSafetensors(a, { floatDtype });
      const parsed = parseSafetensors(bytes);
      expect(parsed.tensors.get('0.weight')?.dtype).toBe(floatDtype);
      expect(parsed.tensors.get('1.running_var')?.dtype).toBe(floatDtype);
      expect(parsed.tensors.get('1.num_batches_tracked')?.dtype).toBe('I64');
      loadModuleSafetensors(b, bytes);
      const wa = a.stateDict().get('0.weight') as tf.Tensor;
      const wb = b.stateDict().get('0.weight') as tf.Tensor;
      expect(wb.dtype).toBe('float32');
      const va = await wa.data();
      const vb = await wb.data();
      const rel = floatDtype === 'F16' ? 2 ** -11 : 2 ** -8;
      va.forEach((v, i) => {
        expect(Math.abs((vb[i] as number) - v)).toBeLessThanOrEqual(Math.abs(v) * rel + 1e-7);
      });
      expect(Array.from(vb)).not.toEqual(Array.from(va));
      tf.dispose([wa, wb]);
      a.dispose();
      b.dispose();
    });
  }

  it('names the file in a strict-load error and leaks nothing', async () => {
    const a = net(1);
    const other = new Sequential();
    other.append(new Conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3, seed: 2 }));
    const bytes = await saveModuleSafetensors(other);
    expect(() => loadModuleSafetensors(a, bytes, { source: 'other.safetensors' })).toThrow(CheckpointError);
    expect(() => loadModuleSafetensors(a, bytes, { source: 'other.safetensors' })).toThrow(
      /other\.safetensors/,
    );
    const good = await saveModuleSafetensors(a);
    await expectNoLeak(async () => {
      await saveModuleSafetensors(a);
      loadModuleSafetensors(a, good);
    });
    a.dispose();
    other.dispose();
  });
});
