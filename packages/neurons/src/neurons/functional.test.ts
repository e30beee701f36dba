import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { surrogate } from '../surrogates/surrogate';
import type { MembraneState, StepResult } from './common';
import {
  type AlifOptions,
  type AlifState,
  alif,
  alifStep,
  type ILifOptions,
  ifNeuron,
  ifStep,
  iLif,
  iLifStep,
  type LifOptions,
  lif,
  lifStep,
  plif,
  plifInitW,
  plifStep,
} from './functional';
import { type RefOpts, referenceNeuron } from './reference.test-helper';

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const G = {
  sigmoid4: (u: number) => 4 * sig(4 * u) * (1 - sig(4 * u)),
  atan2: (u: number) => 2 / (2 * (1 + (Math.PI * u) ** 2)),
  triangle1: (u: number) => Math.max(0, 1 - Math.abs(u)),
  rect1: (u: number) => (Math.abs(u) < 0.5 ? 1 : 0),
  fast25: (u: number) => 1 / (1 + 25 * Math.abs(u)) ** 2,
};

/** Deterministic inputs: multiples of 1/16 in [-1, 3) (dyadic: exact in float32 for τ = 2, 4). */
function inputs(n: number, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * 64) / 16 - 1;
  });
}

const T = 5;
const SHAPE = [T, 2, 6];
const E = 12;

type Kind = 'if' | 'lif' | 'plif' | 'alif' | 'ilif';
interface Case {
  name: string;
  kind: Kind;
  opts: LifOptions & AlifOptions & ILifOptions;
  g: (u: number) => number;
  w?: number;
  tol?: number;
}

const CASES: Case[] = [
  { name: 'IF, hard reset (default)', kind: 'if', opts: {}, g: G.sigmoid4 },
  {
    name: 'IF, soft reset, atan',
    kind: 'if',
    opts: { reset: 'soft', surrogate: surrogate.atan() },
    g: G.atan2,
  },
  { name: 'LIF, defaults', kind: 'lif', opts: {}, g: G.sigmoid4 },
  {
    name: 'LIF, soft, no decayInput, τ = 4, atan',
    kind: 'lif',
    opts: { reset: 'soft', decayInput: false, tau: 4, surrogate: surrogate.atan() },
    g: G.atan2,
  },
  {
    name: 'LIF, hard to V_reset = -0.5, detachReset, triangle',
    kind: 'lif',
    opts: { vReset: -0.5, detachReset: true, surrogate: surrogate.triangle() },
    g: G.triangle1,
  },
  {
    name: 'LIF, no reset, rect',
    kind: 'lif',
    opts: { reset: 'none', surrogate: surrogate.rect() },
    g: G.rect1,
  },
  {
    name: 'LIF, τ = 3, V_th = 0.75, fast sigmoid',
    kind: 'lif',
    opts: { tau: 3, vThreshold: 0.75, surrogate: surrogate.fastSigmoid() },
    g: G.fast25,
  },
  { name: 'PLIF, w = 0.3, soft', kind: 'plif', opts: { reset: 'soft' }, g: G.sigmoid4, w: 0.3 },
  {
    name: 'PLIF, w = -1, hard, no decayInput',
    kind: 'plif',
    opts: { decayInput: false },
    g: G.sigmoid4,
    w: -1,
  },
  { name: 'ALIF, defaults (soft)', kind: 'alif', opts: {}, g: G.sigmoid4 },
  {
    name: 'ALIF, hard, detachReset, τ_a = 5, β = 0.5',
    kind: 'alif',
    opts: { reset: 'hard', detachReset: true, tauAdapt: 5, beta: 0.5 },
    g: G.sigmoid4,
  },
  { name: 'I-LIF, defaults', kind: 'ilif', opts: {}, g: G.sigmoid4 },
  {
    name: 'I-LIF, D = 2, V_th = 0.5, detachReset, no decayInput',
    kind: 'ilif',
    opts: { levels: 2, vThreshold: 0.5, detachReset: true, decayInput: false },
    g: G.sigmoid4,
  },
];

/** The multi-step function of a case, with the threshold as given (number or tensor). */
function multi(c: Case, x: tf.Tensor, w: tf.Tensor, vth?: tf.Tensor, timeAxis?: number): tf.Tensor {
  const o = {
    ...c.opts,
    ...(vth ? { vThreshold: vth } : {}),
    ...(timeAxis === undefined ? {} : { timeAxis }),
  };
  switch (c.kind) {
    case 'if':
      return ifNeuron(x, o);
    case 'lif':
      return lif(x, o);
    case 'plif':
      return plif(x, w, o);
    case 'alif':
      return alif(x, o);
    case 'ilif':
      return iLif(x, o);
  }
}

function step(c: Case, x: tf.Tensor, st: unknown, w: tf.Tensor): StepResult<unknown> {
  switch (c.kind) {
    case 'if':
      return ifStep(x, st as MembraneState, c.opts);
    case 'lif':
      return lifStep(x, st as MembraneState, c.opts);
    case 'plif':
      return plifStep(x, st as MembraneState, w, c.opts);
    case 'alif':
      return alifStep(x, st as AlifState, c.opts);
    case 'ilif':
      return iLifStep(x, st as MembraneState, c.opts);
  }
}

function refOpts(c: Case): RefOpts {
  return { kind: c.kind, g: c.g, ...(c.opts as object) } as RefOpts;
}

describe('neuron functions against the per-element reference (forward and BPTT gradients)', () => {
  const xv = inputs(T * E);
  const dyv = Float32Array.from({ length: T * E }, (_, i) => ((i * 5) % 7) / 4 - 0.5);
  for (const c of CASES) {
    it(c.name, async () => {
      const vth0 = typeof c.opts.vThreshold === 'number' ? c.opts.vThreshold : 1;
      const ref = referenceNeuron(xv, dyv, T, refOpts(c), vth0, c.w ?? 0);
      const x = tf.tensor(xv, SHAPE);
      const dy = tf.tensor(dyv, SHAPE);
      const w = tf.scalar(c.w ?? 0);
      const vth = tf.scalar(vth0);
      const y = multi(c, x, w);
      expect(y.shape).toEqual(SHAPE);
      expectClose(await y.data(), ref.spikes, 0, `${c.name}: spikes`);
      expect(ref.spikes.some((s) => s > 0) && ref.spikes.some((s) => s === 0)).toBe(true);
      // Gradients with respect to x, the threshold (as a tensor) and w.
      const [gx, gvth, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor, cw: tf.Tensor) =>
        tf.add(multi(c, a, cw, b), tf.mul(0, cw)),
      )([x, vth, w], dy);
      const scale = Math.max(1, ...ref.dx.map(Math.abs));
      expectClose(await gx!.data(), ref.dx, 2e-5 * scale, `${c.name}: dL/dx`);
      expectClose(
        await gvth!.data(),
        [ref.dvth],
        1e-4 * Math.max(1, Math.abs(ref.dvth)),
        `${c.name}: dL/dV_th`,
      );
      expectClose(await gw!.data(), [ref.dw], 1e-4 * Math.max(1, Math.abs(ref.dw)), `${c.name}: dL/dw`);
      tf.dispose([x, dy, w, vth, y, gx!, gvth!, gw!]);
    });
  }
});

describe('multi-step equals the single-step form run T times', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const x = tf.tensor(inputs(T * E, 7), SHAPE);
      const w = tf.scalar(c.w ?? 0);
      const y = multi(c, x, w);
      const xs = tf.unstack(x);
      let st: unknown = null;
      const outs: tf.Tensor[] = [];
      for (const xt of xs) {
        const r = step(c, xt, st, w);
        if (st) tf.dispose(st as tf.TensorContainer);
        st = r.state;
        outs.push(r.spikes);
      }
      const ys = tf.stack(outs);
      expect(Array.from(await ys.data())).toEqual(Array.from(await y.data()));
      // Gradients agree too (BPTT through the explicit state).
      const dy = tf.tensor(inputs(T * E, 3), SHAPE);
      const gMulti = tf.grad((a: tf.Tensor) => multi(c, a, w))(x, dy);
      const gStep = tf.grad((a: tf.Tensor) => {
        let s: unknown = null;
        const o: tf.Tensor[] = [];
        for (const at of tf.unstack(a)) {
          const r = step(c, at, s, w);
          s = r.state;
          o.push(r.spikes);
        }
        return tf.stack(o);
      })(x, dy);
      expectClose(await gStep.data(), await gMulti.data(), 1e-6, `${c.name}: gradients`);
      tf.dispose([x, w, y, ...xs, ...outs, ys, dy, gMulti, gStep, st as tf.TensorContainer]);
    });
  }
});

describe('time axis, shapes and errors', () => {
  it('runs time on another axis (timeAxis) with the same result as time-first', async () => {
    const x = tf.tensor(inputs(T * E, 5), SHAPE);
    const w = tf.scalar(0);
    for (const c of CASES) {
      const y0 = multi(c, x, w);
      const xl = tf.transpose(x, [1, 2, 0]);
      const yl = multi(c, xl, w, undefined, -1);
      const y2 = multi(c, xl, w, undefined, 2);
      const back = tf.transpose(yl, [2, 0, 1]);
      expect(yl.shape).toEqual([2, 6, T]);
      expect(Array.from(await back.data())).toEqual(Array.from(await y0.data()));
      expect(Array.from(await y2.data())).toEqual(Array.from(await yl.data()));
      tf.dispose([y0, xl, yl, y2, back]);
    }
    tf.dispose([x, w]);
  });

  it('accepts rank-1 [T] input, T = 1, integer dtype, and per-channel thresholds', async () => {
    // τ = 2: H = 0.75 → 1.125 (spike, reset to 0) → 0.75 → 1 (spike: Θ(0) = 1).
    const y = lif(tf.tensor1d([1.5, 1.5, 1.5, 2]));
    expect(Array.from(await y.data())).toEqual([0, 1, 0, 1]);
    const y1 = ifNeuron(tf.tensor([[0.5, 1.5]]));
    expect(Array.from(await y1.data())).toEqual([0, 1]);
    const yi = ifNeuron(tf.tensor([[1, 0, 2]], [1, 3], 'int32'));
    expect(yi.dtype).toBe('float32');
    expect(Array.from(await yi.data())).toEqual([1, 0, 1]);
    const th = tf.tensor1d([0.5, 2]);
    const yc = ifNeuron(tf.tensor([[1, 1]]), { vThreshold: th });
    expect(Array.from(await yc.data())).toEqual([1, 0]);
    tf.dispose([y, y1, yi, th, yc]);
  });

  it('throws ShapeError naming the function for wrong rank, axis and state shapes', () => {
    const s = tf.scalar(1);
    const x = tf.zeros([3, 4]);
    expect(() => lif(s)).toThrow(ShapeError);
    expect(() => lif(s)).toThrow(/lif: expected input with a time axis/);
    expect(() => lif(x, { timeAxis: 2 })).toThrow(
      /lif: timeAxis 2 is out of range for input of rank 2 with shape \[3, 4\]/,
    );
    expect(() => ifNeuron(tf.zeros([0, 2]))).toThrow(/at least one time step/);
    const bad = { v: tf.zeros([5]) };
    expect(() => lifStep(tf.zeros([4]), bad)).toThrow(
      /lifStep: state.v has shape \[5\] but the input step has shape \[4\]/,
    );
    expect(() =>
      alifStep(tf.zeros([4]), { v: tf.zeros([4]), a: tf.zeros([3]), spikes: tf.zeros([4]) }),
    ).toThrow(ShapeError);
    const th = tf.zeros([3]);
    expect(() => lif(x, { vThreshold: th })).toThrow(
      /vThreshold of shape \[3\] does not broadcast to one time step of shape \[4\]/,
    );
    expect(() => plif(x, tf.zeros([2]))).toThrow(/plif: w of shape \[2\]/);
    expect(() => lif(null as unknown as tf.Tensor)).toThrow(
      /lif: expected input to be a tf.Tensor, got null/,
    );
    tf.dispose([s, x, bad.v, th]);
  });

  it('throws ConfigError for bad options', () => {
    const x = tf.zeros([2, 3]);
    expect(() => lif(x, { tau: -2 })).toThrow(ConfigError);
    expect(() => lif(x, { tau: 0.5 })).toThrow(/lif: tau must be >= 1/);
    expect(() => lif(x, { reset: 'sometimes' as 'hard' })).toThrow(
      /lif: unknown reset 'sometimes' \(expected one of hard, soft, none\)/,
    );
    expect(() => lif(x, { vThreshold: 0 })).toThrow(/vThreshold must be > 0, got 0/);
    expect(() => lif(x, { vThreshold: Number.NaN })).toThrow(ConfigError);
    expect(() => lif(x, { reset: 'soft', vReset: 0.5 })).toThrow(/vReset = 0.5 only applies to reset 'hard'/);
    expect(() => lif(x, { surrogate: 3 as unknown as never })).toThrow(
      /surrogate must be a surrogate function/,
    );
    expect(() => lif(x, { decayInput: 'yes' as unknown as boolean })).toThrow(ConfigError);
    expect(() => lif(x, { timeAxis: 0.5 })).toThrow(/timeAxis must be an integer/);
    expect(() => iLif(x, { levels: 0 })).toThrow(/levels D must be an integer >= 1, got 0/);
    expect(() => alif(x, { tauAdapt: -1 })).toThrow(/tauAdapt must be > 0/);
    expect(() => alif(x, { beta: Number.POSITIVE_INFINITY })).toThrow(ConfigError);
    expect(() => plifInitW(1)).toThrow(ConfigError);
    expect(plifInitW(2)).toBe(-0);
    expect(plifInitW(3)).toBeCloseTo(-Math.log(2), 12);
    x.dispose();
  });
});

describe('memory', () => {
  it('multi-step and single-step calls, forward and backward, do not leak', async () => {
    const x = tf.tensor(inputs(T * E, 9), SHAPE);
    const w = tf.scalar(0.2);
    const vth = tf.variable(tf.scalar(1));
    for (const c of CASES) {
      await expectNoLeak(() => multi(c, x, w));
      await expectNoLeak(() =>
        tf.grads((a: tf.Tensor, cw: tf.Tensor) => tf.add(multi(c, a, cw), tf.mul(0, cw)))([x, w]),
      );
      await expectNoLeak(() => tf.variableGrads(() => tf.sum(multi(c, x, w, vth)) as tf.Scalar, [vth]));
      await expectNoLeak(() => {
        const x0 = tf.zeros([2, 6]);
        const r1 = step(c, x0, null, w);
        const r2 = step(c, x0, r1.state, w);
        tf.dispose([x0, r1 as unknown as tf.TensorContainer]);
        return r2 as unknown as tf.TensorContainer;
      });
    }
    tf.dispose([x, w, vth]);
  });

  it('returns a state that does not alias the spikes (disposing one keeps the other)', async () => {
    const r = alifStep(tf.fill([3], 3), null);
    r.state.spikes.dispose();
    expect(Array.from(await r.spikes.data())).toEqual([1, 1, 1]);
    tf.dispose(r as unknown as tf.TensorContainer);
  });
});
