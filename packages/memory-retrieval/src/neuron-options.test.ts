import { ConfigError, ILIF, LIF, NILIF, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../test-support/helpers';
import { randomizeParams } from './fixtures.test-helper';
import { GateModule } from './gate';
import { MemoryRetrieval } from './memory-retrieval';
import { Retriever } from './retriever';

/** The neuron modules of `m`, by path. */
function neurons(m: MemoryRetrieval | Retriever | GateModule) {
  return [...m.namedModules()].filter(([, c]) => c instanceof NILIF || c instanceof LIF || c instanceof ILIF);
}

describe('memory retrieval with other neurons', () => {
  it('is NI-LIF by default, with at most neuron.maxSteps templates', () => {
    const r = new Retriever({ dim: 8, numHeads: 2, numTemplates: 6, gridSize: 2 });
    expect(r.maxTemplates).toBe(4);
    for (const [name, n] of neurons(r)) expect(n, name).toBeInstanceOf(NILIF);
    const t = tf.zeros([5, 1, 2, 2, 8]);
    expect(() => r.memorize(t)).toThrow(/at most 4 \(numTemplates 6, neuron.maxSteps 4\)/);
    t.dispose();
    r.dispose();
  });

  for (const type of ['lif', 'i-lif'] as const) {
    const Want = type === 'lif' ? LIF : ILIF;

    it(`${type}: every neuron (the gate's and the MLP's included) is one, and no template bound but numTemplates`, async () => {
      const m = new MemoryRetrieval({ dim: 8, numHeads: 2, numTemplates: 6, gridSize: 2, neuron: { type } });
      const ns = neurons(m);
      expect(ns.map(([k]) => k)).toContain('retriever.gate.mlp.1');
      expect(ns.map(([k]) => k)).toContain('mlp.fc1_spike');
      for (const [name, n] of ns) expect(n, name).toBeInstanceOf(Want);
      expect([...m.stateDict().keys()].filter((k) => k.endsWith('.decay'))).toEqual([]);
      expect(m.retriever.maxTemplates).toBe(6);
      const t7 = tf.zeros([7, 1, 2, 2, 8]);
      expect(() => m.memorize(t7)).toThrow(ShapeError);
      expect(() => m.memorize(t7)).toThrow(/at most 6 \(numTemplates 6\)/);
      t7.dispose();
      m.dispose();
    });

    it(`${type}: memorize + retrieve equals forward, trains, and does not leak`, async () => {
      const m = new MemoryRetrieval({
        dim: 8,
        numHeads: 2,
        numTemplates: 5,
        gridSize: 2,
        neuron: { type, vThreshold: 0.5 },
        seed: 3,
      });
      await randomizeParams(m, 17, 1);
      const templates = tf.randomUniform([5, 2, 4, 4, 8], 0, 3, 'float32', 1);
      const search = tf.randomUniform([1, 2, 4, 4, 8], 0, 3, 'float32', 2);
      const y = m.apply(templates, search);
      expect(y.shape).toEqual([1, 2, 4, 4, 8]);
      const memory = m.memorize(templates);
      expect(memory.numTemplates).toBe(5);
      const y2 = m.retrieve(search, memory);
      expectClose(await y2.data(), await y.data(), 0, 'memorize + retrieve');
      await expectNoLeak(() => m.retrieve(search, memory));
      await expectNoLeak(() => m.memorize(templates).dispose());
      m.train();
      const params = [...m.trainableParameters()];
      const run = () =>
        tf.variableGrads(
          () => tf.sum(tf.square(m.apply(templates, search))) as tf.Scalar,
          params.map(([, p]) => p),
        );
      const { value, grads } = run();
      expect(Number.isFinite((await value.data())[0])).toBe(true);
      const reached = params.filter(([, p]) => grads[p.name]).map(([k]) => k);
      expect(reached).toContain('retriever.k_conv.0.weight');
      expect(reached).toContain('retriever.gate.mlp.0.weight');
      expect(reached).toContain('mlp.fc2_conv.weight');
      for (const g of Object.values(grads)) expect((await g.data()).every(Number.isFinite)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
      await expectNoLeak(() => {
        const o = run();
        return [o.value, ...Object.values(o.grads)];
      }, 2);
      tf.dispose([templates, search, y, y2]);
      memory.dispose();
      m.dispose();
    });
  }

  it('rejects options of another neuron type, and neuron together with maxSteps in the gate', () => {
    expect(() => new Retriever({ dim: 8, numHeads: 2, neuron: { type: 'lif', maxSteps: 4 } })).toThrow(
      /Retriever: neuron.maxSteps is an option of ni-lif, not of 'lif'/,
    );
    expect(() => new GateModule({ neuron: { type: 'lif' }, maxSteps: 4 })).toThrow(ConfigError);
    const g = new GateModule({ gridSize: 2, neuron: { type: 'i-lif' } });
    expect(g.spike).toBeInstanceOf(ILIF);
    expect(g.spike.timeAxis).toBe(1);
    g.dispose();
  });
});
