import { ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../test-support/helpers';
import { expectedNhwc, loadUnitInto, readUnit, timeFirstNhwc, unitTolerance } from './fixtures.test-helper';
import { SpikingSepConv } from './sep-conv';

describe('SpikingSepConv', () => {
  for (const [name, k] of [
    ['sepconv_k7', 7],
    ['sepconv_k3', 3],
  ] as const) {
    it(`matches the reference ${name} (SepConv_Spike(16), kernel ${k}) exactly`, async () => {
      const unit = readUnit(name);
      const m = new SpikingSepConv({ dim: 16, kernelSize: k });
      await loadUnitInto(unit, m);
      const x = timeFirstNhwc(unit, 'in.x');
      const y = m.apply(x);
      expect(y.shape).toEqual([2, 1, 12, 12, 16]);
      expectClose(await y.data(), await expectedNhwc(unit, 'out.y'), unitTolerance(unit), `${name} out.y`);
      await expectNoLeak(() => m.apply(x));
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('has the reference state-dict keys and torch shapes', () => {
    const unit = readUnit('sepconv_k7');
    const m = new SpikingSepConv({ dim: 16 });
    const shapes = m.stateShapes({ layout: 'torch' });
    const expected = Object.entries(unit.json.tensors).filter(([k]) => !/^(in|out|grad)\./.test(k));
    expect([...shapes.keys()].sort()).toEqual(expected.map(([k]) => k).sort());
    for (const [k, v] of expected) expect(shapes.get(k), k).toEqual(v.shape);
    m.dispose();
  });

  it('passes gradients to the input and every trainable parameter without leaking', async () => {
    // The fixture's weights make the neurons fire (a default init is too small to cross 0.5).
    const unit = readUnit('sepconv_k3');
    const m = new SpikingSepConv({ dim: 16, kernelSize: 3 });
    await loadUnitInto(unit, m);
    m.train();
    const x = timeFirstNhwc(unit, 'in.x');
    const params = [...m.trainableParameters()];
    const run = () =>
      tf.variableGrads(
        () => tf.sum(tf.square(m.apply(x))) as tf.Scalar,
        params.map((p) => p[1]),
      );
    const { value, grads } = run();
    expect(Object.keys(grads).length).toBe(params.length);
    for (const [k, p] of params) {
      const v = await grads[p.name]!.data();
      expect(v.every(Number.isFinite), k).toBe(true);
      expect(
        v.some((e) => e !== 0),
        `${k} has a zero gradient`,
      ).toBe(true);
    }
    tf.dispose([value, grads]);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(m.apply(xx)))(x);
    expect(gx.shape).toEqual(x.shape);
    gx.dispose();
    await expectNoLeak(() => run());
    x.dispose();
    m.dispose();
  });

  it('rejects inputs that are not [T, B, H, W, dim]', () => {
    const m = new SpikingSepConv({ dim: 4 });
    const bad = tf.zeros([2, 5, 5, 4]);
    expect(() => m.apply(bad)).toThrow(ShapeError);
    expect(() => m.apply(bad)).toThrow(
      /SpikingSepConv: expected input of shape \[T, B, H, W, 4\].*got \[2, 5, 5, 4\]/,
    );
    const badC = tf.zeros([1, 1, 5, 5, 3]);
    expect(() => m.apply(badC)).toThrow(ShapeError);
    tf.dispose([bad, badC]);
    m.dispose();
  });
});
