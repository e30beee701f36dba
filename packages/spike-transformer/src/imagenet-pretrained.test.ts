import { CheckpointError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { onWebGPU } from '../../../test-support/helpers';
import { ESpikeFormer } from './backbone';

/**
 * The ImageNet-pretrained SDT-V3 classifiers (`Efficient_Spiking_Transformer_{t,s,m,l}` of
 * BICLab's Spike-Driven-Transformer-V3) share the backbone's state-dict names with SpikeTrack's
 * encoder. Their state dicts differ in exactly these ways:
 * - a classifier `head.weight` [1000, c3] and `head.bias` [1000];
 * - `nn.BatchNorm2d` everywhere, so every BN also has an int64 `num_batches_tracked`;
 * - parameter-free `MultiSpike` neurons: no NI-LIF `*.decay` logits;
 * - no per-branch positional embeddings (`s_pos_embed`, `t_pos_embeds.*`), which SpikeTrack adds.
 * This test builds such a state dict from a backbone's own weights and checks that it loads with
 * `strict: false`, that the report names exactly those differences, and that every shared weight
 * arrives unchanged.
 */
function imagenetStyleStateDict(source: ESpikeFormer, classes: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [k, t] of source.stateDict({ layout: 'torch' })) {
    if (k.endsWith('.decay') || /pos_embed/.test(k)) {
      t.dispose();
      continue;
    }
    out.set(k, t);
    if (k.endsWith('.running_var')) {
      out.set(`${k.slice(0, -'running_var'.length)}num_batches_tracked`, tf.scalar(123, 'int32'));
    }
  }
  const c3 = source.dims[3];
  out.set('head.weight', tf.randomNormal([classes, c3], 0, 0.02, 'float32', 5));
  out.set('head.bias', tf.zeros([classes]));
  return out;
}

describe('ESpikeFormer: ImageNet-pretrained SDT-V3 weights', () => {
  const options = { dims: [8, 8, 16, 16] as [number, number, number, number], numHeads: 2, resolution: 32 };

  it('loads with strict: false, leaving out the classifier, and reports exactly what differs', async () => {
    const pretrained = new ESpikeFormer({ ...options, seed: 11 });
    const dict = imagenetStyleStateDict(pretrained, onWebGPU() ? 10 : 1000);
    const fresh = new ESpikeFormer({ ...options, seed: 12 });
    const report = fresh.loadStateDict(dict, { strict: false, source: 'sdtv3_imagenet.pth' });

    const ownKeys = [...fresh.stateShapes({ layout: 'torch' }).keys()];
    const expectedMissing = ownKeys.filter((k) => k.endsWith('.decay') || /pos_embed/.test(k)).sort();
    const expectedUnexpected = [...dict.keys()]
      .filter((k) => k.startsWith('head.') || k.endsWith('.num_batches_tracked'))
      .sort();
    expect(report.missing.slice().sort()).toEqual(expectedMissing);
    expect(report.unexpected.slice().sort()).toEqual(expectedUnexpected);
    expect(report.mismatched).toEqual([]);
    expect(report.loaded.length).toBe(ownKeys.length - expectedMissing.length);
    expect(expectedMissing.length).toBeGreaterThan(0);

    // Every shared weight arrives unchanged (torch layout on both sides).
    const after = fresh.stateDict({ layout: 'torch' });
    const before = pretrained.stateDict({ layout: 'torch' });
    for (const k of report.loaded) {
      const a = after.get(k);
      const b = before.get(k);
      expect(a && b, k).toBeTruthy();
      expect(Array.from(await (a as tf.Tensor).data()), k).toEqual(Array.from(await (b as tf.Tensor).data()));
    }
    tf.dispose([...after.values(), ...before.values()]);
    tf.dispose([...dict.values()]);
    pretrained.dispose();
    fresh.dispose();
  });

  it('refuses the same dict with strict: true, listing the classifier and the missing embeddings', () => {
    const pretrained = new ESpikeFormer({ ...options, seed: 11 });
    const dict = imagenetStyleStateDict(pretrained, 10);
    const fresh = new ESpikeFormer({ ...options, seed: 12 });
    let err: unknown;
    try {
      fresh.loadStateDict(dict, { source: 'sdtv3_imagenet.pth' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const e = err as CheckpointError;
    expect(e.message).toMatch(/sdtv3_imagenet\.pth: \d+ missing key\(s\).*\d+ unexpected key\(s\)/);
    // The message abbreviates long lists; the error carries them whole.
    expect(e.unexpected).toContain('head.weight');
    expect(e.unexpected).toContain('head.bias');
    expect(e.missing).toContain('block3.0.attn.s_pos_embed');
    expect(e.missing).toContain('block4.1.attn.t_pos_embeds.0');
    tf.dispose([...dict.values()]);
    pretrained.dispose();
    fresh.dispose();
  });
});
