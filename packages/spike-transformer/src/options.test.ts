import { ConfigError, ILIF, LIF, NILIF, surrogate } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../test-support/helpers';
import { E_SPIKEFORMER_DEPTHS, ESpikeFormer } from './backbone';
import { expectParamGrads } from './blocks.test-helper';
import { checkBlockNeuron, makeNeuron } from './conv-bn';
import { randomizeParams } from './fixtures.test-helper';
import { SpikingConvBlock } from './conv-block';
import { SpikingDownsample } from './downsample';
import { SpikingMLP } from './mlp';
import { SpikingTransformerBlock } from './transformer-block';

const small = { dims: [8, 16, 16, 16] as [number, number, number, number], numHeads: 2, resolution: 32 };

describe('block neurons: type', () => {
  it('builds NI-LIF by default, LIF and I-LIF on request, with their options', () => {
    const n = makeNeuron();
    expect(n).toBeInstanceOf(NILIF);
    expect((n as NILIF).maxSteps).toBe(4);
    const l = makeNeuron({ type: 'lif', tau: 3, vThreshold: 0.5, surrogate: surrogate.atan() });
    expect(l).toBeInstanceOf(LIF);
    expect(l.maxSpikesPerStep).toBe(1);
    const i = makeNeuron({ type: 'i-lif', levels: 2 });
    expect(i).toBeInstanceOf(ILIF);
    expect(i.maxSpikesPerStep).toBe(2);
    expect(makeNeuron({ type: 'lif' }, 1).timeAxis).toBe(1);
    for (const m of [n, l, i]) m.dispose();
  });

  it('computes what the neuron modules compute (LIF: Θ(x/τ − V_th); I-LIF: round(clamp(x/τ, 0, D)))', async () => {
    const x = tf.tensor([[0.5, 1.9, 2.1, 7.0, 11.0]]);
    const lif = makeNeuron({ type: 'lif' });
    const ilif = makeNeuron({ type: 'i-lif' });
    expect(Array.from(await lif.apply(x).data())).toEqual([0, 0, 1, 1, 1]);
    expect(Array.from(await ilif.apply(x).data())).toEqual([0, 1, 1, 4, 4]);
    tf.dispose(x);
    lif.dispose();
    ilif.dispose();
  });

  it('rejects unknown types and options of another type, naming the block', () => {
    expect(() => checkBlockNeuron('X', { type: 'alif' as never })).toThrow(/X: neuron.type must be one of/);
    expect(() => new SpikingMLP({ inFeatures: 4, neuron: { type: 'lif', maxSteps: 4 } })).toThrow(
      /SpikingMLP: neuron.maxSteps is an option of ni-lif, not of 'lif'/,
    );
    expect(() => new SpikingMLP({ inFeatures: 4, neuron: { tau: 2 } })).toThrow(ConfigError);
    expect(() => checkBlockNeuron('X', { type: 'i-lif', foo: 1 } as never)).toThrow(
      /unknown neuron option 'foo'/,
    );
    expect(() => new ESpikeFormer({ ...small, neuron: { type: 'lif', levels: 4 } })).toThrow(
      /ESpikeFormer: neuron.levels/,
    );
  });

  for (const type of ['lif', 'i-lif'] as const) {
    it(`${type}: every neuron of the blocks is one, they run, and gradients reach every parameter of a conv block`, async () => {
      // V_th 0.5: with τ = 2, LIF fires where x ≥ 1 and I-LIF counts round(clamp(x, 0, 4)).
      const neuron = { type, vThreshold: 0.5 };
      const Want = type === 'lif' ? LIF : ILIF;
      const conv = new SpikingConvBlock({ dim: 8, neuron, seed: 1 });
      const block = new SpikingTransformerBlock({ dim: 8, numHeads: 2, gridSize: 2, neuron, seed: 2 });
      const down = new SpikingDownsample({ inChannels: 8, outChannels: 8, neuron, seed: 3 });
      for (const m of [conv, block, down]) {
        const spikes = [...m.namedModules()].filter(
          ([, c]) => c instanceof NILIF || c instanceof LIF || c instanceof ILIF,
        );
        expect(spikes.length).toBeGreaterThan(0);
        for (const [name, c] of spikes) expect(c, name).toBeInstanceOf(Want);
        // No NI-LIF decay logits: the state dict has no `decay` key.
        expect([...m.stateDict().keys()].filter((k) => k.endsWith('decay'))).toEqual([]);
      }
      const x = tf.randomNormal([2, 1, 4, 4, 8], 0, 2, 'float32', 7);
      const run = () => tf.tidy(() => down.apply(conv.apply(x)));
      const y = run();
      expect(y.shape).toEqual([2, 1, 2, 2, 8]);
      await expectNoLeak(() => tf.dispose(run()));
      const t = tf.randomUniform([1, 2, 2, 2, 8], 0, 3, 'float32', 2);
      expect(block.apply(t, 'template').shape).toEqual([1, 2, 2, 2, 8]);
      await expectNoLeak(() => tf.dispose(block.apply(t, 'search')));
      // Weights in ±1 and inputs in [0, 3), so that every layer sees spikes (inside I-LIF's range).
      await randomizeParams(conv, 4, 1);
      const c = tf.randomUniform([1, 2, 6, 6, 8], 0, 3, 'float32', 2);
      const r = tf.randomNormal(c.shape, 0, 1, 'float32', 3);
      const loss = () => tf.sum(tf.mul(conv.apply(c), r)) as tf.Scalar;
      await expectParamGrads(conv, loss);
      await expectNoLeak(() => tf.variableGrads(loss, [...conv.trainableParameters().values()]), 2);
      tf.dispose([x, y, t, c, r]);
      for (const m of [conv, block, down]) m.dispose();
    });
  }
});

describe('ESpikeFormer: depths', () => {
  it('defaults to E-SpikeFormer: 6 + 2 transformer blocks, stage 3 cut after block 3', () => {
    const m = new ESpikeFormer(small);
    expect(m.depths).toEqual([...E_SPIKEFORMER_DEPTHS]);
    expect(m.block3.length).toBe(6);
    expect(m.block4.length).toBe(2);
    expect(m.stage3Split).toBe(3);
    m.dispose();
  });

  it('builds a shallower backbone: its state dict holds only the blocks asked for', () => {
    const m = new ESpikeFormer({ ...small, depths: [3, 0] });
    expect(m.block3.length).toBe(3);
    expect(m.block4.length).toBe(0);
    expect(m.stage3Split).toBe(2);
    const keys = [...m.stateDict().keys()];
    expect(keys.some((k) => k.startsWith('block3.2.'))).toBe(true);
    expect(keys.some((k) => k.startsWith('block3.3.'))).toBe(false);
    expect(keys.some((k) => k.startsWith('block4.'))).toBe(false);
    expect(keys.some((k) => k.startsWith('downsample4.'))).toBe(true);
    const full = new ESpikeFormer(small);
    expect(m.numParameters()).toBeLessThan(full.numParameters());
    m.dispose();
    full.dispose();
  });

  it('rejects bad depths with ConfigError', () => {
    for (const depths of [[6], [1, -1], [1.5, 2], 'deep'] as unknown[]) {
      expect(() => new ESpikeFormer({ ...small, depths: depths as [number, number] })).toThrow(
        /ESpikeFormer: depths must be \[d3, d4\]/,
      );
    }
  });

  it('with LIF neurons and depths [1, 1]: the six segments compose to forward, with no leak', async () => {
    const m = new ESpikeFormer({ ...small, depths: [1, 1], neuron: { type: 'lif' }, seed: 5 });
    expect(m.stage3Split).toBe(1);
    const x = tf.randomNormal([1, 1, 32, 32, 3], 0, 1, 'float32', 11);
    const whole = m.apply(x, 'search');
    const parts = tf.tidy(() => {
      let y = x;
      for (let i = 0; i < 6; i++) y = m.segment(i, y, 'search');
      return y;
    });
    expect(whole.shape).toEqual([1, 1, 2, 2, 16]);
    expect(Array.from(await parts.data())).toEqual(Array.from(await whole.data()));
    await expectNoLeak(() => tf.dispose(m.apply(x, 'template')));
    tf.dispose([x, whole, parts]);
    m.dispose();
  });
});
