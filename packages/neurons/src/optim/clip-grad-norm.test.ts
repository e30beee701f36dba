import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { clipGradNorm } from './clip-grad-norm';
import { stepLr } from './step-lr';

describe('clipGradNorm', () => {
  it('scales by maxNorm / (total + 1e-6) when the global norm is larger, as torch does', async () => {
    const a = tf.tensor1d([3, 4]);
    const b = tf.tensor2d([[12]]);
    const { grads, totalNorm } = clipGradNorm({ a, b }, 6.5);
    expectClose(await totalNorm.data(), [13], 1e-5, 'total norm');
    const coef = 6.5 / (13 + 1e-6);
    expectClose(await (grads.get('a') as tf.Tensor).data(), [3 * coef, 4 * coef], 1e-6, 'a');
    expectClose(await (grads.get('b') as tf.Tensor).data(), [12 * coef], 1e-6, 'b');
    tf.dispose([a, b, totalNorm, ...grads.values()]);
  });

  it('leaves small gradients unchanged, and reports a NaN norm instead of hiding it', async () => {
    const a = tf.tensor1d([0.01, -0.02]);
    const small = clipGradNorm(new Map([['a', a]]), 0.1);
    expect(Array.from(await (small.grads.get('a') as tf.Tensor).data())).toEqual(Array.from(await a.data()));
    const bad = tf.tensor1d([1, Number.NaN]);
    const nan = clipGradNorm({ bad }, 0.1);
    expect(Number.isNaN((await nan.totalNorm.data())[0])).toBe(true);
    expect(() => clipGradNorm({ a }, 0)).toThrow(/maxNorm/);
    tf.dispose([a, bad, small.totalNorm, nan.totalNorm, ...small.grads.values(), ...nan.grads.values()]);
  });

  it('sums the norms of hundreds of gradients (as many as a network has) on every backend', async () => {
    // one addN over all of them is a WGSL expression too deep for WebGPU's compiler
    const grads = new Map<string, tf.Tensor>();
    for (let i = 0; i < 600; i++) grads.set(`p${i}`, tf.fill([2], (i % 7) - 3));
    const expected = Math.sqrt([...Array(600).keys()].reduce((s, i) => s + 2 * ((i % 7) - 3) ** 2, 0));
    const { grads: out, totalNorm } = clipGradNorm(grads, 1);
    expectClose(await totalNorm.data(), [expected], 1e-4 * expected, 'total norm');
    expectClose(await (out.get('p0') as tf.Tensor).data(), [-3 / expected, -3 / expected], 1e-5, 'p0');
    tf.dispose([totalNorm, ...grads.values(), ...out.values()]);
  });

  it('does not leak', async () => {
    const a = tf.randomNormal([5, 5], 0, 1, 'float32', 4);
    await expectNoLeak(() => {
      const r = clipGradNorm({ a }, 0.1);
      return [r.totalNorm, ...r.grads.values()];
    });
    a.dispose();
  });
});

describe('stepLr', () => {
  it('drops the rate by gamma every stepSize epochs, like StepLR', () => {
    const o = { baseLr: 4e-4, stepSize: 400 };
    expect(stepLr(0, o)).toBe(4e-4);
    expect(stepLr(399, o)).toBe(4e-4);
    expect(stepLr(400, o)).toBeCloseTo(4e-5, 15);
    expect(stepLr(800, o)).toBeCloseTo(4e-6, 15);
    expect(stepLr(3, { baseLr: 1, stepSize: 2, gamma: 0.5 })).toBe(0.5);
    expect(() => stepLr(-1, o)).toThrow(/epoch/);
    expect(() => stepLr(1, { baseLr: 1, stepSize: 0 })).toThrow(/stepSize/);
  });
});
