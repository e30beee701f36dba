import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { Linear } from './linear';
import { dyadic, fill, uniform } from './naive.test-helper';

describe('Linear', () => {
  function loaded(inF: number, outF: number, bias = true) {
    const m = new Linear({ inFeatures: inF, outFeatures: outF, bias, seed: 1 });
    const w = fill(outF * inF, dyadic(3)); // torch [O, I]
    const b = bias ? fill(outF, dyadic(4)) : null;
    const dict: Record<string, tf.Tensor> = { weight: tf.tensor2d(w, [outF, inF]) };
    if (b) dict.bias = tf.tensor1d(b);
    m.loadStateDict(dict);
    tf.dispose(Object.values(dict));
    const ref = (xs: Float32Array) => {
      const rows = xs.length / inF;
      const y = new Float64Array(rows * outF);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < outF; o++) {
          let s = b ? b[o]! : 0;
          for (let i = 0; i < inF; i++) s += xs[r * inF + i]! * w[o * inF + i]!;
          y[r * outF + o] = s;
        }
      return y;
    };
    return { m, w, b, ref };
  }

  for (const shape of [[5], [3, 5], [2, 3, 5], [2, 1, 3, 5]]) {
    it(`computes x·Wᵀ + b on [..., in]: ${JSON.stringify(shape)}`, async () => {
      const { m, ref } = loaded(5, 4);
      const xs = fill(
        shape.reduce((a, v) => a * v, 1),
        dyadic(7),
      );
      const x = tf.tensor(xs, shape);
      const y = m.apply(x);
      expect(y.shape).toEqual([...shape.slice(0, -1), 4]);
      expect(Array.from(await y.data())).toEqual(Array.from(ref(xs)));
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('round-trips the torch layout [O, I]', async () => {
    const { m, w } = loaded(3, 2, false);
    expect(m.stateLayouts().get('weight')).toBe('linear');
    expect(m.weight.shape).toEqual([3, 2]);
    const sd = m.stateDict({ layout: 'torch' });
    expect(sd.get('weight')!.shape).toEqual([2, 3]);
    expect(Array.from(await sd.get('weight')!.data())).toEqual(Array.from(w));
    expect(sd.has('bias')).toBe(false);
    tf.dispose([...sd.values()]);
    m.dispose();
  });

  it('initializes like torch, deterministically with a seed', async () => {
    const a = new Linear({ inFeatures: 16, outFeatures: 8, seed: 9 });
    const b = new Linear({ inFeatures: 16, outFeatures: 8, seed: 9 });
    const wa = Array.from(await a.weight.data());
    expect(wa).toEqual(Array.from(await b.weight.data()));
    expect(Math.max(...wa.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...Array.from(await a.bias!.data()).map(Math.abs))).toBeLessThanOrEqual(0.25);
    a.dispose();
    b.dispose();
  });

  it('gradients: analytic for all, finite differences for one weight', async () => {
    const { m, w } = loaded(4, 3);
    const xs = fill(2 * 4, uniform(1));
    const rs = fill(2 * 3, uniform(2));
    const x = tf.tensor2d(xs, [2, 4]);
    const r = tf.tensor2d(rs, [2, 3]);
    const loss = () => tf.sum(tf.mul(m.apply(x), r)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, [m.weight, m.bias!]);
    // native dW[i, o] = Σ_n x[n, i]·r[n, o]; db[o] = Σ_n r[n, o]
    const dw = Array.from({ length: 12 }, (_, k) => {
      const i = Math.floor(k / 3);
      const o = k % 3;
      return xs[i]! * rs[o]! + xs[4 + i]! * rs[3 + o]!;
    });
    expectClose(await grads[m.weight.name]!.data(), dw, 1e-5, 'dL/dW');
    expectClose(
      await grads[(m.bias as tf.Variable).name]!.data(),
      [0, 1, 2].map((o) => rs[o]! + rs[3 + o]!),
      1e-6,
      'dL/db',
    );
    const dx = await tf
      .grad((xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx), r)))(x)
      .data();
    const dxRef = Array.from({ length: 8 }, (_, k) => {
      const n = Math.floor(k / 4);
      const i = k % 4;
      let s = 0;
      for (let o = 0; o < 3; o++) s += rs[n * 3 + o]! * w[o * 4 + i]!;
      return s;
    });
    expectClose(dx, dxRef, 1e-5, 'dL/dx');
    // finite differences on native weight [1, 2]
    const w0 = await m.weight.data();
    const h = 1e-2;
    const at = 1 * 3 + 2;
    const lossAt = async (d: number) => {
      const p = Float32Array.from(w0);
      p[at]! += d;
      m.weight.assign(tf.tensor2d(p, [4, 3]));
      const l = loss();
      const v = (await l.data())[0]!;
      l.dispose();
      return v;
    };
    const fd = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
    expect(Math.abs(fd - dw[at]!)).toBeLessThan(1e-3);
    tf.dispose([value, ...Object.values(grads)]);
    await expectNoLeak(() => tf.variableGrads(loss, [m.weight, m.bias!]));
    tf.dispose([x, r]);
    m.dispose();
  });

  it('throws ShapeError / ConfigError naming the module', () => {
    const m = new Linear({ inFeatures: 4, outFeatures: 2 });
    const x = tf.zeros([3, 5]);
    expect(() => m.apply(x)).toThrow(ShapeError);
    expect(() => m.apply(x)).toThrow('Linear: expected input of shape [..., 4], got [3, 5]');
    expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow(ConfigError);
    x.dispose();
    m.dispose();
  });
});
