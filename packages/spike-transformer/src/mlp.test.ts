import { BatchNorm1d, ConfigError, FrozenBatchNorm1d, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../test-support/helpers';
import { expectedNhwc, loadUnitInto, readUnit, timeFirstNhwc, unitTolerance } from './fixtures.test-helper';
import { SpikingMLP } from './mlp';

describe('SpikingMLP', () => {
  for (const [name, norm] of [
    ['ms_mlp_frozen', 'frozen'],
    ['ms_mlp_batchnorm', 'batch'],
  ] as const) {
    it(`matches the reference ${name} (MS_MLP(32, 128), ${norm} BN) exactly`, async () => {
      const unit = readUnit(name);
      const m = new SpikingMLP({ inFeatures: 32, hiddenFeatures: 128, norm });
      expect(m.fc1_bn).toBeInstanceOf(norm === 'frozen' ? FrozenBatchNorm1d : BatchNorm1d);
      // nn.BatchNorm1d's int64 num_batches_tracked is not in the fixture (unused in eval)
      const w = new Set(unitWeightKeys(unit));
      expect(w.size).toBeGreaterThan(0);
      if (norm === 'batch') {
        const extra = [...m.stateShapes().keys()].filter((k) => !w.has(k));
        expect(extra.sort()).toEqual(['fc1_bn.num_batches_tracked', 'fc2_bn.num_batches_tracked']);
      }
      await loadUnitInto(unit, m, { strict: norm === 'frozen' });
      const x = timeFirstNhwc(unit, 'in.x');
      const y = m.apply(x);
      expect(y.shape).toEqual([2, 1, 8, 8, 32]);
      expectClose(await y.data(), await expectedNhwc(unit, 'out.y'), unitTolerance(unit), `${name} out.y`);
      await expectNoLeak(() => m.apply(x));
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('passes gradients to every trainable parameter (BN variant) without leaking', async () => {
    const unit = readUnit('ms_mlp_batchnorm');
    const m = new SpikingMLP({ inFeatures: 32, hiddenFeatures: 128, norm: 'batch' });
    await loadUnitInto(unit, m, { strict: false });
    const x = timeFirstNhwc(unit, 'in.x');
    const params = [...m.trainableParameters()];
    expect(params.map((p) => p[0]).sort()).toContain('fc1_bn.weight');
    const run = () =>
      tf.variableGrads(
        () => tf.sum(tf.square(m.apply(x))) as tf.Scalar,
        params.map((p) => p[1]),
      );
    const { value, grads } = run();
    for (const [k, p] of params) {
      const v = await grads[p.name]!.data();
      expect(v.every(Number.isFinite), k).toBe(true);
      expect(
        v.some((e) => e !== 0),
        `${k} has a zero gradient`,
      ).toBe(true);
    }
    tf.dispose([value, grads]);
    await expectNoLeak(() => run());
    x.dispose();
    m.dispose();
  });

  it('supports outFeatures ≠ inFeatures and checks its input', () => {
    const m = new SpikingMLP({ inFeatures: 4, hiddenFeatures: 8, outFeatures: 6, seed: 1 });
    const x = tf.ones([1, 2, 3, 3, 4]);
    const y = m.apply(x);
    expect(y.shape).toEqual([1, 2, 3, 3, 6]);
    const bad = tf.ones([1, 2, 3, 3, 5]);
    expect(() => m.apply(bad)).toThrow(ShapeError);
    expect(() => m.apply(bad)).toThrow(/SpikingMLP: expected input of shape \[T, B, H, W, 4\]/);
    expect(() => new SpikingMLP({ inFeatures: 0 })).toThrow(ConfigError);
    expect(() => new SpikingMLP({ inFeatures: 4, norm: 'layer' as never })).toThrow(ConfigError);
    tf.dispose([x, y, bad]);
    m.dispose();
  });
});

function unitWeightKeys(unit: ReturnType<typeof readUnit>): string[] {
  return [...unit.tensors.keys()].filter((k) => !/^(in|out|grad)\./.test(k));
}
