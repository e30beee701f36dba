import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { LIF, NILIF } from './modules';

describe('NILIF module: fused and composite paths', () => {
  it('give the same spikes and gradients (decay and input), bit for bit', async () => {
    const fused = new NILIF();
    const plain = new NILIF({ fused: false });
    expect(fused.fused).toBe(true);
    expect(plain.fused).toBe(false);
    const x = tf.randomUniform([3, 2, 5, 7], -1, 6, 'float32', 11);
    const run = (m: NILIF) =>
      tf.variableGrads(
        () => tf.sum(tf.mul(m.apply(x), tf.reshape(tf.range(0, x.size), x.shape))) as tf.Scalar,
      );
    const a = run(fused);
    const b = run(plain);
    expect(await a.value.data()).toEqual(await b.value.data());
    expect(await a.grads[fused.decay.name]!.data()).toEqual(await b.grads[plain.decay.name]!.data());
    const gx = (m: NILIF) => tf.grad((xx: tf.Tensor) => tf.sum(tf.square(m.apply(xx))))(x);
    const ga = gx(fused);
    const gb = gx(plain);
    expect(await ga.data()).toEqual(await gb.data());
    tf.dispose([x, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), ga, gb]);
    fused.dispose();
    plain.dispose();
  });

  it('LIF module: fused and composite paths agree bit for bit, learnable threshold included', async () => {
    const x = tf.randomUniform([4, 3, 6], -1, 3, 'float32', 5);
    for (const opts of [
      { tau: 2 },
      { tau: 3, reset: 'soft' as const, decayInput: false },
      { learnThreshold: true },
    ]) {
      const f = new LIF(opts);
      const p = new LIF({ ...opts, fused: false });
      const gf = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f.apply(xx), xx)))(x);
      const gp = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(p.apply(xx), xx)))(x);
      const yf = f.apply(x);
      const yp = p.apply(x);
      expect(await yf.data()).toEqual(await yp.data());
      expect(await gf.data()).toEqual(await gp.data());
      tf.dispose([gf, gp, yf, yp]);
      f.dispose();
      p.dispose();
    }
    x.dispose();
  });
});
