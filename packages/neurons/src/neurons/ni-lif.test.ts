import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, readFixtureJson } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { fixtureTensor, fixtureValues, readF32Fixture } from './fixtures.test-helper';
import { NILIF } from './modules';
import { NI_LIF_DECAY_INIT, type NiLifState, niLif, niLifStep } from './ni-lif';
import { backward, c, runNiLifElement } from './reference.test-helper';

interface MemUpdateJson {
  cases: Record<string, { input_shape: number[]; layout: string }>;
  tolerance: { out: { abs: number }; 'grad.x': { abs: number }; 'grad.decay': { abs: number } };
}

describe('NI-LIF parity with the reference mem_update (units/mem_update)', () => {
  const meta = readFixtureJson<MemUpdateJson>('units/mem_update.json');
  const f = readF32Fixture('units/mem_update.safetensors');
  const tol = meta.tolerance;
  for (const [name, spec] of Object.entries(meta.cases)) {
    const gate = name.startsWith('gate_layout');
    it(`${name}: ${spec.layout}, forward and gradients wrt x and decay`, async () => {
      const x = fixtureTensor(f, `${name}.in.x`);
      const dy = fixtureTensor(f, `${name}.in.grad_out`);
      expect(x.shape).toEqual(spec.input_shape);
      const opts = { timeAxis: gate ? -1 : 0 };
      const T = gate ? x.shape[x.rank - 1]! : x.shape[0]!;

      // The pure function.
      const decay = fixtureTensor(f, `${name}.decay`);
      const y = niLif(x, decay, opts);
      expectClose(await y.data(), fixtureValues(f, `${name}.out`), tol.out.abs, `${name}: out`);

      // The module, with the reference state dict loaded as is (key 'decay').
      const m = new NILIF(opts);
      m.loadStateDict({ decay });
      const ym = m.apply(x);
      expectClose(await ym.data(), fixtureValues(f, `${name}.out`), tol.out.abs, `${name}: module out`);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x), dy)) as tf.Scalar, [m.decay]);
      const gx = tf.grad((v: tf.Tensor) => niLif(v, decay, opts))(x, dy);
      expectClose(await gx.data(), fixtureValues(f, `${name}.grad.x`), tol['grad.x'].abs, `${name}: grad.x`);
      const refGradDecay = fixtureValues(f, `${name}.grad.decay`);
      // At T = 1 decay is unused; its gradient is zero (connected, so tfjs does not throw).
      if (T === 1) expect(Array.from(refGradDecay)).toEqual([0, 0, 0]);
      const gd = grads[m.decay.name]!;
      expectClose(await gd.data(), refGradDecay, tol['grad.decay'].abs, `${name}: grad.decay`);
      const [, gd2] = tf.grads((a: tf.Tensor, b: tf.Tensor) => niLif(a, b, opts))([x, decay], dy);
      expectClose(await gd2!.data(), refGradDecay, tol['grad.decay'].abs, `${name}: grad.decay (pure)`);
      tf.dispose([gd2!]);
      tf.dispose([x, dy, decay, y, ym, gx, ...Object.values(grads)]);
      m.dispose();
    });
  }
});

/** Runs niLifStep over the time axis 0 of `x` and stacks the spikes. */
function stepLoop(x: tf.Tensor, decay: tf.Tensor, levels?: number): tf.Tensor {
  let st: NiLifState | null = null;
  const outs: tf.Tensor[] = [];
  for (const xt of tf.unstack(x)) {
    const r = niLifStep(xt, st, decay, levels === undefined ? {} : { levels });
    st = r.state;
    outs.push(r.spikes);
  }
  return tf.stack(outs);
}

describe('NI-LIF beyond the reference', () => {
  it('runs T > 3 with maxSteps − 1 decay logits; equals the step form and the per-element reference', async () => {
    const T = 7;
    const E = 10;
    const xv = Float32Array.from({ length: T * E }, (_, i) => ((i * 37) % 29) / 5 - 1.3);
    const dyv = Float32Array.from({ length: T * E }, (_, i) => ((i * 11) % 9) / 3 - 1);
    const dv = [0.3, -0.7, 1.1, -2, 0.05, 0.9];
    const x = tf.tensor(xv, [T, 2, 5]);
    const dy = tf.tensor(dyv, [T, 2, 5]);
    const decay = tf.tensor1d(dv);
    const y = niLif(x, decay);
    const ys = stepLoop(x, decay);
    expect(Array.from(await ys.data())).toEqual(Array.from(await y.data()));

    // Per-element double-precision reference with its own autodiff.
    const dvars = dv.map((v) => c(v));
    const spikes: number[] = new Array(T * E);
    const outs = [];
    const seeds = [];
    const xvars = [];
    for (let e = 0; e < E; e++) {
      const xs = Array.from({ length: T }, (_, t) => c(xv[t * E + e]!));
      xvars.push(xs);
      const ss = runNiLifElement(xs, dvars);
      for (let t = 0; t < T; t++) {
        spikes[t * E + e] = ss[t]!.val;
        outs.push(ss[t]!);
        seeds.push(dyv[t * E + e]!);
      }
    }
    backward(outs, seeds);
    expectClose(await y.data(), spikes, 0, 'spikes');
    const [gx, gd] = tf.grads((a: tf.Tensor, b: tf.Tensor) => niLif(a, b))([x, decay], dy);
    const refGx = new Array<number>(T * E);
    xvars.forEach((xs, e) => {
      xs.forEach((v, t) => {
        refGx[t * E + e] = v.grad;
      });
    });
    expectClose(await gx!.data(), refGx, 1e-5, 'grad x');
    expectClose(
      await gd!.data(),
      dvars.map((v) => v.grad),
      1e-4,
      'grad decay',
    );
    // And the step form's gradients equal the multi-step form's.
    const [gxs, gds] = tf.grads((a: tf.Tensor, b: tf.Tensor) => stepLoop(a, b))([x, decay], dy);
    expectClose(await gxs!.data(), await gx!.data(), 1e-6, 'step grad x');
    expectClose(await gds!.data(), await gd!.data(), 1e-5, 'step grad decay');
    tf.dispose([x, dy, decay, y, ys, gx!, gd!, gxs!, gds!]);
  });

  it('supports other levels D and time on any axis', async () => {
    const x = tf.tensor([0.4, 1.2, 3, -1, 2.5, 0.9, 1.6, 2.2], [4, 2]);
    const decay = tf.tensor1d([0, 0, 0]);
    const y2 = niLif(x, decay, { levels: 2 });
    const ys = stepLoop(x, decay, 2);
    expect(Array.from(await y2.data())).toEqual(Array.from(await ys.data()));
    // mem_0 = [0.4, 1.2] → counts [0, 1] → s = [0, 0.5]
    expect(Array.from((await y2.data()).slice(0, 2))).toEqual([0, 0.5]);
    const xt = tf.transpose(x);
    const yt = niLif(xt, decay, { levels: 2, timeAxis: 1 });
    expect(Array.from(await tf.transpose(yt).data())).toEqual(Array.from(await y2.data()));
    tf.dispose([x, decay, y2, ys, xt, yt]);
  });

  it('initializes decay logits at logit(0.25) = −ln 3', async () => {
    expect(NI_LIF_DECAY_INIT).toBeCloseTo(-Math.log(3), 15);
    const m = new NILIF();
    const s = tf.sigmoid(m.decay);
    expectClose(await s.data(), [0.25, 0.25, 0.25], 1e-7, 'sigmoid(decay)');
    s.dispose();
    m.dispose();
  });

  it('throws ShapeError when T exceeds what the decay logits support, naming the module', () => {
    const decay = tf.zeros([3]);
    const x = tf.zeros([5, 2]);
    expect(() => niLif(x, decay)).toThrow(ShapeError);
    expect(() => niLif(x, decay)).toThrow(
      /niLif: input has T = 5 time steps on axis 0 \(shape \[5, 2\]\), but the 3 decay logits support at most T = 4/,
    );
    expect(() => niLif(tf.zeros([2, 6]), decay, { timeAxis: -1 })).toThrow(/T = 6 time steps on axis 1/);
    expect(() => niLif(x, tf.zeros([3, 1]))).toThrow(
      /expected decayLogits of shape \[maxSteps − 1\], got \[3, 1\]/,
    );
    expect(() => niLif(tf.scalar(1), decay)).toThrow(/niLif: expected input with a time axis/);
    // The step form: the 5th step needs decay[3], which does not exist.
    let st: NiLifState | null = null;
    const x1 = tf.ones([2]);
    for (let t = 0; t < 4; t++) st = niLifStep(x1, st, decay).state;
    expect(() => niLifStep(x1, st, decay)).toThrow(/niLifStep: step 5 needs decay logit 3, but only 3 exist/);
    expect(() => niLifStep(tf.ones([3]), st, decay)).toThrow(
      /state.v has shape \[2\] but the input step has shape \[3\]/,
    );
    expect(() => niLifStep(x1, { ...st!, step: 0 }, decay)).toThrow(ConfigError);
    expect(() => niLif(x, decay, { levels: 0 })).toThrow(ConfigError);
    expect(() => niLif(x, decay, { timeAxis: 'last' as unknown as number })).toThrow(ConfigError);
    tf.dispose([decay, x, x1, st!.v, st!.spikes]);
  });

  it('does not leak, forward or backward', async () => {
    const x = tf.tensor(
      Array.from({ length: 24 }, (_, i) => (i % 7) - 1.5),
      [3, 2, 4],
    );
    const decay = tf.variable(tf.fill([3], NI_LIF_DECAY_INIT));
    await expectNoLeak(() => niLif(x, decay));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => niLif(a, b))([x, decay]));
    await expectNoLeak(() => tf.variableGrads(() => tf.sum(niLif(x, decay)) as tf.Scalar, [decay]));
    await expectNoLeak(() => {
      const x0 = tf.ones([4]);
      const r1 = niLifStep(x0, null, decay);
      const r2 = niLifStep(x0, r1.state, decay);
      tf.dispose([x0, r1.spikes, r1.state.v, r1.state.spikes]);
      return [r2.spikes, r2.state.v, r2.state.spikes];
    });
    tf.dispose([x, decay]);
  });
});
