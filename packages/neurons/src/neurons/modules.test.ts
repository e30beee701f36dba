import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, readFixtureJson } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { Module } from '../core/module';
import { isSpikeSource } from '../core/spike-source';
import { FiringRateMonitor } from '../monitor/firing-rate-monitor';
import { surrogate } from '../surrogates/surrogate';
import { alif, ifNeuron, iLif, lif, plif } from './functional';
import { ALIF, IF, ILIF, LIF, type NeuronModule, NILIF, PLIF } from './modules';
import { niLif } from './ni-lif';

const x5 = () =>
  tf.tensor(
    Array.from({ length: 5 * 2 * 3 }, (_, i) => ((i * 13) % 11) / 4 - 0.5),
    [5, 2, 3],
  );

/** A parent module, so the neuron has a path (`block.spike1`) for error messages. */
class Block extends Module {
  readonly spike1: NILIF;
  constructor(n: NILIF) {
    super();
    this.spike1 = this.child('spike1', n);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.spike1.apply(x);
  }
}

describe('neuron modules', () => {
  it('wrap the pure functions (same output) and are spike sources', async () => {
    const x = x5();
    const pairs: [NeuronModule<unknown>, tf.Tensor, number, number][] = [
      [new IF({ reset: 'soft' }), ifNeuron(x, { reset: 'soft' }), 1, 1],
      [new LIF({ tau: 4, reset: 'soft' }), lif(x, { tau: 4, reset: 'soft' }), 1, 1],
      [new PLIF(), tf.tidy(() => plif(x, tf.scalar(0))), 1, 1],
      [new ALIF({ beta: 0.5 }), alif(x, { beta: 0.5 }), 1, 1],
      [new ILIF({ levels: 3 }), iLif(x, { levels: 3 }), 1, 3],
      [new NILIF({ maxSteps: 5 }), tf.tidy(() => niLif(x, tf.fill([4], -Math.log(3)))), 4, 4],
    ];
    for (const [m, expected, scale, maxSpikes] of pairs) {
      expect(isSpikeSource(m)).toBe(true);
      expect(m.spikeCountScale).toBe(scale);
      expect(m.maxSpikesPerStep).toBe(maxSpikes);
      const y = m.apply(x);
      expect(m.outputTimeAxis).toBe(0);
      expect(Array.from(await y.data())).toEqual(Array.from(await expected.data()));
      tf.dispose([y, expected]);
      m.dispose();
    }
    x.dispose();
  });

  it('step() runs one step through apply: hooks fire, outputTimeAxis is null, state is owned', async () => {
    const x = x5();
    for (const m of [
      new LIF(),
      new ALIF(),
      new ILIF(),
      new NILIF({ maxSteps: 5 }),
      new PLIF(),
    ] as NeuronModule<unknown>[]) {
      const seen: (number | null)[] = [];
      m.onForward((mod) => seen.push((mod as NeuronModule<unknown>).outputTimeAxis));
      const y = m.apply(x);
      let st: unknown = null;
      const outs: tf.Tensor[] = [];
      for (const xt of tf.unstack(x)) {
        const r = m.step(xt, st as never);
        if (st) tf.dispose(st as tf.TensorContainer);
        st = r.state;
        outs.push(r.spikes);
        xt.dispose();
      }
      const ys = tf.stack(outs);
      expect(Array.from(await ys.data())).toEqual(Array.from(await y.data()));
      expect(seen).toEqual([0, null, null, null, null, null]);
      expect(m.outputTimeAxis).toBeNull();
      tf.dispose([y, ys, ...outs, st as tf.TensorContainer]);
      m.dispose();
    }
    x.dispose();
  });

  it('has the reference state-dict keys: NI-LIF `decay` [3] as in the official configs', () => {
    const cfg = readFixtureJson<{ keys: Record<string, { shape: number[] }> }>(
      'configs/tiny_256_t3.json',
    ).keys;
    const decayKeys = Object.keys(cfg).filter((k) => k.endsWith('.decay'));
    expect(decayKeys.length).toBeGreaterThan(20);
    const n = new NILIF();
    const shapes = n.stateShapes();
    expect([...shapes.keys()]).toEqual(['decay']);
    for (const k of decayKeys) expect(cfg[k]!.shape).toEqual(shapes.get('decay'));
    const b = new Block(new NILIF());
    expect([...b.stateShapes().keys()]).toEqual(['spike1.decay']);
    expect([...new PLIF().stateShapes()]).toEqual([['w', []]]);
    expect([...new LIF({ learnThreshold: true, vThreshold: 0.5 }).stateShapes()]).toEqual([
      ['v_threshold', []],
    ]);
    expect([...new LIF().stateShapes()]).toEqual([]);
    n.dispose();
    b.dispose();
  });

  it('trains: gradients reach decay (NI-LIF), w (PLIF) and a learnable threshold', async () => {
    const x = x5();
    const n = new NILIF({ maxSteps: 5 });
    const p = new PLIF({ initTau: 3 });
    const l = new ILIF({ learnThreshold: true });
    const a = new ALIF({ learnThreshold: true, surrogate: surrogate.atan() });
    for (const m of [n, p, l, a] as NeuronModule<unknown>[]) {
      const vars = [...m.trainableParameters().values()];
      expect(vars.length).toBe(1);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x))) as tf.Scalar, vars);
      const g = grads[(vars[0] as tf.Variable).name] as tf.Tensor;
      const gv = await g.data();
      expect(gv.every(Number.isFinite)).toBe(true);
      expect(gv.some((v) => v !== 0)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
    }
    // PLIF's w starts at −ln(τ₀ − 1).
    expectClose(await p.w.data(), [-Math.log(2)], 1e-7, 'w');
    // A learnable threshold is used by the forward.
    l.loadStateDict({ v_threshold: tf.scalar(0.5) });
    const y = l.apply(x);
    const ref = iLif(x, { vThreshold: 0.5 });
    expect(Array.from(await y.data())).toEqual(Array.from(await ref.data()));
    tf.dispose([x, y, ref]);
    for (const m of [n, p, l, a]) m.dispose();
  });

  it('runs the GateModule layout [N, C, T] with timeAxis -1 and reports that time axis', async () => {
    const n = new NILIF({ timeAxis: -1 });
    const x = tf.tensor(
      Array.from({ length: 6 * 5 * 3 }, (_, i) => ((i * 7) % 13) / 3 - 1),
      [6, 5, 3],
    );
    const y = n.apply(x);
    expect(y.shape).toEqual([6, 5, 3]);
    expect(n.outputTimeAxis).toBe(2);
    const ref = tf.transpose(niLif(tf.transpose(x, [2, 0, 1]), n.decay), [1, 2, 0]);
    expect(Array.from(await y.data())).toEqual(Array.from(await ref.data()));
    const mon = new FiringRateMonitor(n);
    n.apply(x).dispose();
    const rep = await mon.report();
    expect(rep.NILIF!.per_step.length).toBe(3);
    mon.detach();
    tf.dispose([x, y, ref]);
    n.dispose();
  });

  it('throws ShapeError naming the module path, and ConfigError for bad options', () => {
    const b = new Block(new NILIF());
    const x = tf.zeros([5, 2]);
    expect(() => b.apply(x)).toThrow(ShapeError);
    expect(() => b.apply(x)).toThrow(/^NILIF\(spike1\): input has T = 5 time steps/);
    const s = tf.scalar(1);
    expect(() => new LIF().apply(s)).toThrow(/LIF: expected input with a time axis \(rank >= 1\)/);
    expect(() => new LIF().step(tf.zeros([3]), { v: tf.zeros([4]) })).toThrow(/LIF: state.v has shape \[4\]/);
    expect(() => new NILIF({ maxSteps: 0 })).toThrow(/NILIF: maxSteps must be an integer >= 1, got 0/);
    expect(() => new NILIF({ levels: 0 })).toThrow(ConfigError);
    expect(() => new NILIF({ timeAxis: 1.5 })).toThrow(ConfigError);
    expect(() => new LIF({ tau: -1 })).toThrow(/LIF: tau must be >= 1/);
    expect(() => new LIF({ reset: 'bounce' as 'hard' })).toThrow(/LIF: unknown reset 'bounce'/);
    expect(() => new LIF({ vThreshold: -1 })).toThrow(ConfigError);
    expect(() => new ILIF({ levels: 0 })).toThrow(ConfigError);
    expect(() => new PLIF({ initTau: 1 })).toThrow(/tau0 must be > 1/);
    expect(() => new ALIF({ tauAdapt: 0 })).toThrow(ConfigError);
    tf.dispose([x, s]);
    b.dispose();
  });

  it('does not leak: apply, step and variableGrads repeated', async () => {
    const x = x5();
    for (const m of [
      new IF(),
      new LIF(),
      new PLIF(),
      new ALIF(),
      new ILIF(),
      new NILIF({ maxSteps: 5 }),
    ] as NeuronModule<unknown>[]) {
      const vars = [...m.trainableParameters().values()];
      await expectNoLeak(() => m.apply(x));
      await expectNoLeak(() => {
        const x0 = tf.ones([2, 3]);
        const r1 = m.step(x0);
        const r2 = m.step(x0, r1.state as never);
        tf.dispose([x0, r1 as unknown as tf.TensorContainer]);
        return r2 as unknown as tf.TensorContainer;
      });
      await expectNoLeak(() => tf.grad((v: tf.Tensor) => m.apply(v))(x));
      if (vars.length) {
        await expectNoLeak(() => tf.variableGrads(() => tf.sum(m.apply(x)) as tf.Scalar, vars));
      }
      m.dispose();
    }
    x.dispose();
  });
});
