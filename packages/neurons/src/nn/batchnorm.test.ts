import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { Module } from '../core/module';
import {
  BatchNorm1d,
  BatchNorm2d,
  FrozenBatchNorm1d,
  FrozenBatchNorm2d,
  foldBatchNorm,
  refreshExactConstants,
} from './batchnorm';
import { Sequential } from './containers';
import { Conv1d, Conv2d, conv2dNhwc } from './conv';
import { Linear } from './linear';
import { dyadic, fill, uniform } from './naive.test-helper';

const webgpu = tf.getBackend() === 'webgpu';
const f32 = Math.fround;

/** Per-channel batch statistics of channels-last data (double precision). */
function stats(x: Float32Array, c: number): { mean: number[]; biased: number[]; n: number } {
  const n = x.length / c;
  const mean = Array<number>(c).fill(0);
  const biased = Array<number>(c).fill(0);
  for (let i = 0; i < x.length; i++) mean[i % c]! += x[i]! / n;
  for (let i = 0; i < x.length; i++) biased[i % c]! += (x[i]! - mean[i % c]!) ** 2 / n;
  return { mean, biased, n };
}

/**
 * The reference's exact-friendly BatchNorm statistics: `running_var = fl32(4^k − 1e-5)` so that
 * `running_var + 1e-5` is exactly 4^k, weights with 4 significant bits, means multiple of 2^-6.
 */
function dyadicBn(c: number, seed: number) {
  const g = dyadic(seed, 6, 2);
  const ks = Array.from({ length: c }, (_, i) => (i % 3) - 1);
  const runningVar = Float32Array.from(ks, (k) => f32(4 ** k - 1e-5));
  const weight = Float32Array.from({ length: c }, (_, i) => ((i % 2 ? -1 : 1) * (8 + ((i * 5) % 8))) / 8);
  const runningMean = fill(c, g);
  const bias = fill(c, dyadic(seed + 1, 10, 1));
  return { ks, runningVar, weight, runningMean, bias };
}

describe('BatchNorm2d', () => {
  it('has torch keys and layouts, num_batches_tracked as an int64 buffer', () => {
    const bn = new BatchNorm2d(3);
    expect([...bn.stateShapes().entries()]).toEqual([
      ['weight', [3]],
      ['bias', [3]],
      ['running_mean', [3]],
      ['running_var', [3]],
      ['num_batches_tracked', []],
    ]);
    expect([...bn.trainableParameters().keys()]).toEqual(['weight', 'bias']);
    expect(bn.namedBuffers().get('num_batches_tracked')!.dtype).toBe('int32');
    const plain = new BatchNorm2d(3, { affine: false, trackRunningStats: false });
    expect(plain.stateShapes().size).toBe(0);
    bn.dispose();
    plain.dispose();
  });

  it('train mode: batch statistics, biased variance; running stats with unbiased variance, momentum 0.1', async () => {
    const c = 3;
    const bn = new BatchNorm2d(c);
    const w = tf.tensor1d([0.5, -2, 1.25]);
    const b = tf.tensor1d([0.1, 0, -0.3]);
    bn.loadStateDict(
      {
        weight: w,
        bias: b,
        running_mean: tf.tensor1d([1, -1, 0.5]),
        running_var: tf.tensor1d([2, 0.5, 1]),
        num_batches_tracked: tf.scalar(0, 'int32'),
      },
      { strict: true },
    );
    let rm = [1, -1, 0.5];
    let rv = [2, 0.5, 1];
    for (let step = 1; step <= 2; step++) {
      const xs = fill(2 * 3 * 4 * c, uniform(step));
      for (let i = 0; i < xs.length; i++) xs[i] = xs[i]! * (i % c) + (i % c); // distinct per-channel stats
      const x = tf.tensor4d(xs, [2, 3, 4, c]);
      const y = bn.apply(x);
      const s = stats(xs, c);
      const wv = [0.5, -2, 1.25];
      const bv = [0.1, 0, -0.3];
      const expected = Array.from(
        xs,
        (v, i) => ((v - s.mean[i % c]!) / Math.sqrt(s.biased[i % c]! + 1e-5)) * wv[i % c]! + bv[i % c]!,
      );
      expectClose(await y.data(), expected, 2e-4, `y (step ${step})`);
      rm = rm.map((v, i) => 0.9 * v + 0.1 * s.mean[i]!);
      rv = rv.map((v, i) => 0.9 * v + 0.1 * ((s.biased[i]! * s.n) / (s.n - 1)));
      const buf = bn.namedBuffers();
      expectClose(await buf.get('running_mean')!.data(), rm, 1e-5, 'running_mean');
      expectClose(await buf.get('running_var')!.data(), rv, 1e-5, 'running_var');
      expect((await buf.get('num_batches_tracked')!.data())[0]).toBe(step);
      tf.dispose([x, y]);
    }
    tf.dispose([w, b]);
    bn.dispose();
  });

  it('momentum null: cumulative average', async () => {
    const bn = new BatchNorm1d(2, { momentum: null });
    const x1 = tf.tensor2d([1, 2, 3, 6], [2, 2]);
    const x2 = tf.tensor2d([5, 0, 7, 2], [2, 2]);
    tf.dispose([bn.apply(x1), bn.apply(x2)]);
    const buf = bn.namedBuffers();
    // batch means (2, 4) and (6, 1); unbiased variances (2, 8) and (2, 2)
    expectClose(await buf.get('running_mean')!.data(), [4, 2.5], 1e-6, 'running_mean');
    expectClose(await buf.get('running_var')!.data(), [2, 5], 1e-6, 'running_var');
    tf.dispose([x1, x2]);
    bn.dispose();
  });

  it('eval mode: uses running statistics, exactly (dyadic recipe)', async () => {
    const c = 6;
    const p = dyadicBn(c, 3);
    const bn = new BatchNorm2d(c);
    const dict = {
      weight: tf.tensor1d(p.weight),
      bias: tf.tensor1d(p.bias),
      running_mean: tf.tensor1d(p.runningMean),
      running_var: tf.tensor1d(p.runningVar),
      num_batches_tracked: tf.scalar(7, 'int32'),
    };
    bn.loadStateDict(dict);
    bn.eval();
    const xs = fill(2 * 2 * 3 * c, dyadic(4, 4, 4));
    const x = tf.tensor4d(xs, [2, 2, 3, c]);
    const y = bn.apply(x);
    const expected = Array.from(xs, (v, i) => {
      const ch = i % c;
      const scale = p.weight[ch]! * 2 ** -p.ks[ch]!;
      return v * scale + (p.bias[ch]! - p.runningMean[ch]! * scale);
    });
    expect(Array.from(await y.data())).toEqual(expected);
    // running stats are not touched in eval
    expect((await bn.namedBuffers().get('num_batches_tracked')!.data())[0]).toBe(7);
    tf.dispose([x, y, ...Object.values(dict)]);
    bn.dispose();
  });

  it('eval mode: gradients reach x, weight and bias (analytic)', async () => {
    const c = 3;
    const bn = new BatchNorm2d(c);
    const dict = {
      weight: tf.tensor1d([0.5, -1.5, 2]),
      bias: tf.tensor1d([0.25, 0, -1]),
      running_mean: tf.tensor1d([0.5, -0.25, 1]),
      running_var: tf.tensor1d([0.25, 4, 1]),
      num_batches_tracked: tf.scalar(1, 'int32'),
    };
    bn.loadStateDict(dict);
    bn.eval();
    const xs = fill(2 * 2 * 2 * c, uniform(3));
    const rs = fill(xs.length, uniform(4));
    const x = tf.tensor4d(xs, [2, 2, 2, c]);
    const r = tf.tensor4d(rs, [2, 2, 2, c]);
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(bn.apply(xx), r)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(() => loss(x), [bn.weight!, bn.bias!]);
    // under the tape the value is the same, bit for bit
    const plain = loss(x);
    expect(Array.from(await value.data())).toEqual(Array.from(await plain.data()));
    plain.dispose();
    const dx = tf.grad(loss)(x);
    const w = [0.5, -1.5, 2];
    const rm = [0.5, -0.25, 1];
    const rvs = [0.25, 4, 1];
    const invStd = rvs.map((v) => 1 / Math.sqrt(v + 1e-5));
    const dw = [0, 0, 0];
    const db = [0, 0, 0];
    for (let i = 0; i < xs.length; i++) {
      dw[i % c]! += rs[i]! * (xs[i]! - rm[i % c]!) * invStd[i % c]!;
      db[i % c]! += rs[i]!;
    }
    expectClose(await grads[(bn.weight as tf.Variable).name]!.data(), dw, 1e-4, 'dL/dweight');
    expectClose(await grads[(bn.bias as tf.Variable).name]!.data(), db, 1e-5, 'dL/dbias');
    expectClose(
      await dx.data(),
      Array.from(rs, (v, i) => v * w[i % c]! * invStd[i % c]!),
      1e-5,
      'dL/dx',
    );
    tf.dispose([value, dx, ...Object.values(grads)]);
    await expectNoLeak(() => tf.variableGrads(() => loss(x), [bn.weight!, bn.bias!]));
    tf.dispose([x, r, ...Object.values(dict)]);
    bn.dispose();
  });

  it('train mode: gradients match the analytic BatchNorm backward and finite differences', async () => {
    const c = 2;
    const bn = new BatchNorm1d(c);
    const wv = [1.5, -0.75];
    const bv = [0.2, 0.1];
    const wt = tf.tensor1d(wv);
    const bt = tf.tensor1d(bv);
    bn.loadStateDict({ weight: wt, bias: bt }, { strict: false });
    const xs = fill(5 * 3 * c, uniform(11));
    const rs = fill(xs.length, uniform(12));
    const x = tf.tensor3d(xs, [5, 3, c]);
    const r = tf.tensor3d(rs, [5, 3, c]);
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(bn.apply(xx), r)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(() => loss(x), [bn.weight!, bn.bias!]);
    const dx = await tf.grad(loss)(x).data();
    const s = stats(xs, c);
    const inv = s.biased.map((v) => 1 / Math.sqrt(v + 1e-5));
    const xhat = Array.from(xs, (v, i) => (v - s.mean[i % c]!) * inv[i % c]!);
    const sumDy = [0, 0];
    const sumDyXhat = [0, 0];
    for (let i = 0; i < xs.length; i++) {
      sumDy[i % c]! += rs[i]!;
      sumDyXhat[i % c]! += rs[i]! * xhat[i]!;
    }
    const dxRef = Array.from(
      xs,
      (_, i) =>
        (wv[i % c]! * inv[i % c]! * (s.n * rs[i]! - sumDy[i % c]! - xhat[i]! * sumDyXhat[i % c]!)) / s.n,
    );
    expectClose(dx, dxRef, 1e-4, 'dL/dx');
    expectClose(await grads[(bn.weight as tf.Variable).name]!.data(), sumDyXhat, 1e-4, 'dL/dweight');
    expectClose(await grads[(bn.bias as tf.Variable).name]!.data(), sumDy, 1e-5, 'dL/dbias');
    // finite differences on one input element (the loss is smooth in x)
    const h = 1e-2;
    const at = 7;
    const shifted = async (d: number) => {
      const xp = Float32Array.from(xs);
      xp[at]! += d;
      const t = tf.tensor3d(xp, [5, 3, c]);
      const v = (await loss(t).data())[0]!;
      t.dispose();
      return v;
    };
    const fd = ((await shifted(h)) - (await shifted(-h))) / (2 * h);
    expect(Math.abs(fd - dx[at]!)).toBeLessThan(5e-3);
    tf.dispose([value, wt, bt, x, r, ...Object.values(grads)]);
    bn.dispose();
  });

  it('rejects one value per channel in training, and bad shapes, naming the module', () => {
    class Net extends Module {
      readonly head = this.child('head', new Sequential(new BatchNorm2d(4)));
      forward(x: tf.Tensor): tf.Tensor {
        return this.head.apply(x);
      }
    }
    const net = new Net();
    const one = tf.zeros([1, 1, 1, 4]);
    expect(() => net.apply(one)).toThrow(/BatchNorm2d\(head\.0\): expected more than 1 value per channel/);
    const bad = tf.zeros([2, 3, 3, 5]);
    expect(() => net.apply(bad)).toThrow(ShapeError);
    expect(() => net.apply(bad)).toThrow(
      'BatchNorm2d(head.0): expected input of shape [*, *, *, 4] (channels last), got [2, 3, 3, 5]',
    );
    const bn1 = new BatchNorm1d(4);
    const r4 = tf.zeros([2, 2, 2, 4]);
    expect(() => bn1.apply(r4)).toThrow('BatchNorm1d: expected input of shape [*, 4] or [*, *, 4]');
    tf.dispose([one, bad, r4]);
    net.dispose();
    bn1.dispose();
  });

  it('does not leak (train forward + backward, eval forward)', async () => {
    const bn = new BatchNorm2d(3);
    const x = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 1);
    await expectNoLeak(() =>
      tf.variableGrads(() => tf.sum(bn.apply(x)) as tf.Scalar, [bn.weight!, bn.bias!]),
    );
    bn.eval();
    await expectNoLeak(() => bn.apply(x));
    x.dispose();
    bn.dispose();
  });
});

describe('FrozenBatchNorm', () => {
  it('stores weight, bias, running_mean, running_var as buffers, as the reference', () => {
    const bn = new FrozenBatchNorm2d(5);
    expect([...bn.stateShapes().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
    expect(bn.namedParameters().size).toBe(0);
    bn.dispose();
  });

  it('is exact with the reference recipe: running_var = fl32(4^k − 1e-5) gives scale = weight·2^-k', async () => {
    for (const k of [-1, 0, 1]) expect(f32(f32(4 ** k - 1e-5) + f32(1e-5))).toBe(4 ** k);
    const c = 9;
    const p = dyadicBn(c, 8);
    for (const [Cls, shape] of [
      [FrozenBatchNorm2d, [2, 3, 2, c]],
      [FrozenBatchNorm1d, [3, 4, c]],
      [FrozenBatchNorm1d, [5, c]],
    ] as const) {
      const bn = new Cls(c);
      const dict = {
        weight: tf.tensor1d(p.weight),
        bias: tf.tensor1d(p.bias),
        running_mean: tf.tensor1d(p.runningMean),
        running_var: tf.tensor1d(p.runningVar),
      };
      bn.loadStateDict(dict);
      await bn.refreshConstants();
      expect(bn.constantsSource).toBe('cpu');
      const { scale, shift } = bn.evalConstants();
      const scaleRef = Array.from(p.weight, (w, i) => w * 2 ** -p.ks[i]!);
      expect(Array.from(await scale.data())).toEqual(scaleRef);
      expect(Array.from(await shift.data())).toEqual(
        Array.from(p.bias, (b, i) => b - p.runningMean[i]! * scaleRef[i]!),
      );
      const xs = fill(
        shape.reduce((a, v) => a * v, 1),
        dyadic(2, 4, 4),
      );
      const x = tf.tensor(xs, [...shape]);
      const y = bn.apply(x);
      expect(Array.from(await y.data())).toEqual(
        Array.from(
          xs,
          (v, i) => v * scaleRef[i % c]! + (p.bias[i % c]! - p.runningMean[i % c]! * scaleRef[i % c]!),
        ),
      );
      // train() changes nothing for a frozen norm
      bn.train();
      const y2 = bn.apply(x);
      expect(Array.from(await y2.data())).toEqual(Array.from(await y.data()));
      await expectNoLeak(() => bn.apply(x));
      tf.dispose([x, y, y2, ...Object.values(dict)]);
      bn.dispose();
    }
  });

  it('device constants equal the CPU (Math.fround) ones bit for bit on IEEE backends', async () => {
    const c = 64;
    const g = uniform(21);
    const bn = new FrozenBatchNorm2d(c);
    const vals = {
      weight: fill(c, g),
      bias: fill(c, g),
      running_mean: fill(c, g),
      running_var: Float32Array.from(fill(c, g), (v) => Math.abs(v) * 3 + 1e-3),
    };
    const dict = Object.fromEntries(Object.entries(vals).map(([k, v]) => [k, tf.tensor1d(v)]));
    bn.loadStateDict(dict);
    const dev = bn.evalConstants();
    expect(bn.constantsSource).toBe('device');
    const devScale = Array.from(await dev.scale.data());
    const devShift = Array.from(await dev.shift.data());
    expect(await refreshExactConstants(new Sequential(bn))).toBe(1);
    expect(bn.constantsSource).toBe('cpu');
    const cpu = bn.evalConstants();
    const cpuScale = Array.from(await cpu.scale.data());
    const cpuShift = Array.from(await cpu.shift.data());
    // the formula, in float32 steps
    const eps = f32(1e-5);
    const ref = Array.from(vals.weight, (w, i) => f32(w / f32(Math.sqrt(f32(vals.running_var[i]! + eps)))));
    expect(cpuScale).toEqual(ref);
    expect(cpuShift).toEqual(Array.from(vals.bias, (b, i) => f32(b - f32(vals.running_mean[i]! * ref[i]!))));
    if (webgpu) {
      expectClose(devScale, cpuScale, 1e-5, 'device scale (WebGPU: approximate sqrt/div)');
      expectClose(devShift, cpuShift, 1e-5, 'device shift');
    } else {
      expect(devScale).toEqual(cpuScale);
      expect(devShift).toEqual(cpuShift);
    }
    tf.dispose(Object.values(dict));
    bn.dispose();
  });

  it('recomputes constants when state is loaded or a weight is assigned', async () => {
    const bn = new BatchNorm1d(2).eval();
    const x = tf.tensor2d([1, 2], [1, 2]);
    const y0 = bn.apply(x);
    expectClose(await y0.data(), [1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(1 + 1e-5)], 1e-6, 'identity');
    const d = { running_mean: tf.tensor1d([1, 1]), running_var: tf.tensor1d([3.99999, 0.24999]) };
    bn.loadStateDict(d, { strict: false });
    const y1 = bn.apply(x);
    expectClose(await y1.data(), [0, 2], 1e-5, 'after load');
    const w = tf.tensor1d([2, -1]);
    bn.weight!.assign(w);
    await bn.refreshConstants();
    const y2 = bn.apply(x);
    expect(Array.from(await y2.data())).toEqual([0, -2]);
    tf.dispose([x, y0, y1, y2, w, ...Object.values(d)]);
    bn.dispose();
  });
});

describe('foldBatchNorm', () => {
  async function loadBn(bn: FrozenBatchNorm2d | BatchNorm2d | FrozenBatchNorm1d, c: number, seed: number) {
    const p = dyadicBn(c, seed);
    const dict: Record<string, tf.Tensor> = {
      weight: tf.tensor1d(p.weight),
      bias: tf.tensor1d(p.bias),
      running_mean: tf.tensor1d(p.runningMean),
      running_var: tf.tensor1d(p.runningVar),
    };
    bn.loadStateDict(dict, { strict: false });
    await bn.refreshConstants();
    tf.dispose(Object.values(dict));
  }

  async function loadDyadicWeights(m: Module<[tf.Tensor], tf.Tensor>, seed: number) {
    const shapes = m.stateShapes();
    const dict = Object.fromEntries(
      [...shapes].map(([k, s], i) => [
        k,
        tf.tensor(
          fill(
            s.reduce((a, v) => a * v, 1),
            dyadic(seed + i, 8),
          ),
          s,
        ),
      ]),
    );
    m.loadStateDict(dict);
    tf.dispose(Object.values(dict));
  }

  for (const opts of [
    {
      name: 'conv 3×3 with bias',
      conv: { inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1, stride: 2 },
    },
    { name: 'pointwise without bias', conv: { inChannels: 4, outChannels: 6, kernelSize: 1, bias: false } },
    {
      name: 'depthwise multiplier 2',
      conv: { inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1, groups: 3, bias: false },
    },
    { name: 'grouped', conv: { inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, groups: 2 } },
  ]) {
    it(`folds an eval BatchNorm into a Conv2d exactly: ${opts.name}`, async () => {
      const conv = new Conv2d(opts.conv);
      await loadDyadicWeights(conv, 50);
      for (const bn of [new FrozenBatchNorm2d(6), new BatchNorm2d(6).eval()]) {
        await loadBn(bn, 6, 60);
        const x = tf.tensor4d(fill(2 * 5 * 5 * opts.conv.inChannels, dyadic(70, 4)), [
          2,
          5,
          5,
          opts.conv.inChannels,
        ]);
        const ref = tf.tidy(() => bn.apply(conv.apply(x)));
        const folded = foldBatchNorm(conv, bn);
        const y = conv2dNhwc(x, folded.weight, { ...conv.functionalOptions(), bias: folded.bias });
        expect(Array.from(await y.data())).toEqual(Array.from(await ref.data()));
        tf.dispose([x, ref, y, folded.weight, folded.bias]);
        bn.dispose();
      }
      conv.dispose();
    });
  }

  it('folds into Conv1d and Linear exactly', async () => {
    const conv = new Conv1d({ inChannels: 8, outChannels: 6, kernelSize: 1 });
    const lin = new Linear({ inFeatures: 8, outFeatures: 6 });
    await loadDyadicWeights(conv, 80);
    await loadDyadicWeights(lin, 90);
    const bn = new FrozenBatchNorm1d(6);
    await loadBn(bn, 6, 100);
    const x = tf.tensor3d(fill(2 * 5 * 8, dyadic(110, 4)), [2, 5, 8]);
    for (const layer of [conv, lin]) {
      const ref = tf.tidy(() => bn.apply(layer.apply(x)));
      const folded = foldBatchNorm(layer, bn);
      const w2 = tf.reshape(folded.weight, [8, 6]) as tf.Tensor2D;
      const y = tf.tidy(() =>
        tf.add(tf.reshape(tf.matMul(tf.reshape(x, [10, 8]) as tf.Tensor2D, w2), [2, 5, 6]), folded.bias),
      );
      expect(Array.from(await y.data())).toEqual(Array.from(await ref.data()));
      tf.dispose([ref, folded.weight, folded.bias, w2, y]);
    }
    x.dispose();
    conv.dispose();
    lin.dispose();
    bn.dispose();
  });

  it('refuses a training BatchNorm and a channel mismatch', () => {
    const conv = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 1 });
    const bn = new BatchNorm2d(3);
    expect(() => foldBatchNorm(conv, bn)).toThrow(ConfigError);
    const bn4 = new FrozenBatchNorm2d(4);
    expect(() => foldBatchNorm(conv, bn4)).toThrow(/has 4 channels, but Conv2d has 3 outputs/);
    conv.dispose();
    bn.dispose();
    bn4.dispose();
  });
});
