import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoLeak, onWebGPU } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { type LifOptions, lif } from '../neurons/functional';
import { type SurrogateFn, surrogate } from '../surrogates/surrogate';
import { expectSameBits, tieHeavyValues } from './bits.test-helper';
import { LIF_KERNEL, lifFused, registerFusedNeuronKernels } from './index';
import { setWasmSimdEnabled } from './wasm-simd';

const onWasm = () => tf.getBackend() === 'wasm';

async function bothWasmPaths(fn: (label: string) => Promise<void>): Promise<void> {
  await fn('');
  if (onWasm()) {
    setWasmSimdEnabled(false);
    try {
      await fn(' (wasm JS loops)');
    } finally {
      setWasmSimdEnabled(true);
    }
  }
}

afterAll(() => {
  setWasmSimdEnabled(true);
});

interface Case {
  name: string;
  opts: LifOptions;
}

/** Every reset mode, with and without decayInput, several τ, thresholds and V_reset. */
const CASES: Case[] = [
  { name: 'defaults (hard, τ 2, decayInput)', opts: {} },
  { name: 'hard, τ 3, V_th 0.7', opts: { tau: 3, vThreshold: 0.7 } },
  { name: 'hard, V_reset −0.3, no decayInput', opts: { vReset: -0.3, decayInput: false } },
  { name: 'hard, V_reset 0.25, τ 1.5, detachReset', opts: { vReset: 0.25, tau: 1.5, detachReset: true } },
  { name: 'hard, τ 1', opts: { tau: 1 } },
  { name: 'soft, τ 2', opts: { reset: 'soft' } },
  {
    name: 'soft, τ 3, no decayInput, detachReset',
    opts: { reset: 'soft', tau: 3, decayInput: false, detachReset: true },
  },
  { name: 'soft, V_th 0.5', opts: { reset: 'soft', vThreshold: 0.5 } },
  { name: 'none, τ 2', opts: { reset: 'none' } },
  { name: 'none, τ 5, no decayInput', opts: { reset: 'none', tau: 5, decayInput: false } },
];

const STEP_SHAPES: number[][] = onWebGPU()
  ? [[], [7], [2, 3, 2]]
  : [[], [1], [7], [3, 5], [64], [2, 3, 4, 5], [257]];

describe('lifFused: bit-identical to lif', () => {
  it('runs LIF as one kernel where the composite runs many', async () => {
    const x = tf.ones([3, 8]);
    const fused = await tf.profile(() => lifFused(x));
    expect(fused.kernelNames).toEqual([LIF_KERNEL]);
    const composite = await tf.profile(() => lif(x));
    expect(composite.kernelNames.length).toBeGreaterThan(5);
    tf.dispose([x, fused.result as tf.Tensor, composite.result as tf.Tensor]);
  });

  for (const c of CASES) {
    it(`spikes, ${c.name}, T = 1..5`, async () => {
      await bothWasmPaths(async (label) => {
        let seed = 1;
        for (let T = 1; T <= 5; T++) {
          for (const step of STEP_SHAPES) {
            const shape = [T, ...step];
            const n = shape.reduce((a, b) => a * b, 1);
            const x = tf.tensor(tieHeavyValues(n, seed++, -1.5, 3), shape);
            const y = lifFused(x, c.opts);
            const ref = lif(x, c.opts);
            expect(y.shape).toEqual(shape);
            expectSameBits(await y.data(), await ref.data(), `${c.name} T=${T} [${shape}]${label}`);
            tf.dispose([x, y, ref]);
          }
        }
      });
    });
  }

  it('special values: NaN, ±0, ±Infinity, exact threshold crossings', async () => {
    await bothWasmPaths(async (label) => {
      const special = [NaN, -0, 0, Infinity, -Infinity, 1, 2, 0.5, -1, 1e30, -1e30, 0.75];
      for (const opts of [{}, { reset: 'soft' as const }, { reset: 'none' as const }, { vReset: -0.5 }]) {
        const T = 3;
        const n = special.length;
        const xs = new Float32Array(T * n * 2);
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < n * 2; j++) xs[t * n * 2 + j] = special[(j + 5 * t) % n]!;
        }
        const x = tf.tensor(xs, [T, n * 2]);
        const y = lifFused(x, opts);
        const ref = lif(x, opts);
        expectSameBits(await y.data(), await ref.data(), `special ${JSON.stringify(opts)}${label}`);
        tf.dispose([x, y, ref]);
      }
    });
  });

  it('time on another axis', async () => {
    const x = tf.tensor(tieHeavyValues(4 * 3 * 5, 21, -1, 3), [4, 3, 5]);
    const y = lifFused(x, { timeAxis: 2, reset: 'soft' });
    const ref = lif(x, { timeAxis: 2, reset: 'soft' });
    expectSameBits(await y.data(), await ref.data(), 'timeAxis 2');
    tf.dispose([x, y, ref]);
  });

  it('the charge output equals the composite’s H_t', async () => {
    registerFusedNeuronKernels();
    const T = 4;
    const x = tf.tensor(tieHeavyValues(T * 6, 5, -1, 3), [T, 6]);
    const attrs = {
      tau: 2,
      decayInput: true,
      vThreshold: 1,
      reset: 'hard',
      vReset: 0,
      detachReset: false,
      surrogate: surrogate.sigmoid(),
      output: 'membrane',
    };
    const h = tf.engine().runKernel(LIF_KERNEL, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    // H_t by hand with tfjs ops: H = V + (X − V)/2, S = H ≥ 1, V = H·(1 − S)
    const hs: tf.Tensor[] = [];
    let v = tf.zeros([6]);
    for (const xt of tf.unstack(x)) {
      const ht = tf.add(v, tf.div(tf.sub(xt, v), 2));
      const st = tf.cast(tf.greaterEqual(tf.sub(ht, 1), 0), 'float32');
      v = tf.mul(ht, tf.sub(1, st));
      hs.push(ht);
    }
    const ref = tf.stack(hs);
    expectSameBits(await h.data(), await ref.data(), 'H');
    tf.dispose([x, h, ref, v, ...hs]);
  });
});

describe('lifFused: gradients', () => {
  const surrogates: [string, SurrogateFn][] = [
    ['sigmoid(4)', surrogate.sigmoid()],
    ['atan(2)', surrogate.atan()],
    ['triangle(1)', surrogate.triangle()],
    ['rect(1)', surrogate.rect()],
    ['fastSigmoid(25)', surrogate.fastSigmoid()],
    ['straightThrough', surrogate.straightThrough()],
  ];
  for (const c of CASES) {
    it(`equal the composite’s, ${c.name}`, async () => {
      let seed = 300;
      for (const [sname, s] of surrogates) {
        for (const T of [1, 2, 3, 5]) {
          const shape = onWebGPU() ? [T, 6] : [T, 2, 9];
          const n = shape.reduce((a, b) => a * b, 1);
          const x = tf.tensor(tieHeavyValues(n, seed++, -1.5, 3), shape);
          const dy = tf.tensor(tieHeavyValues(n, seed++, -1, 1), shape);
          const opts = { ...c.opts, surrogate: s };
          const gx = tf.grad((a: tf.Tensor) => lifFused(a, opts))(x, dy);
          const rx = tf.grad((a: tf.Tensor) => lif(a, opts))(x, dy);
          expectSameBits(await gx.data(), await rx.data(), `${c.name}, ${sname}, T=${T}`);
          tf.dispose([x, dy, gx, rx]);
        }
        if (onWebGPU()) break;
      }
    });
  }
});

describe('lifFused: fallbacks', () => {
  it('a threshold tensor goes to lif (and gets its gradient)', async () => {
    const x = tf.tensor(tieHeavyValues(3 * 4, 8, -1, 3), [3, 4]);
    const vth = tf.variable(tf.tensor1d([1, 0.5, 0.8, 1.2]));
    const y = lifFused(x, { vThreshold: vth });
    const ref = lif(x, { vThreshold: vth });
    expectSameBits(await y.data(), await ref.data(), 'spikes');
    const { grads } = tf.variableGrads(() => tf.sum(lifFused(x, { vThreshold: vth })) as tf.Scalar, [vth]);
    const { grads: rg } = tf.variableGrads(() => tf.sum(lif(x, { vThreshold: vth })) as tf.Scalar, [vth]);
    expectSameBits(await grads[vth.name]!.data(), await rg[vth.name]!.data(), 'grad vth');
    tf.dispose([x, vth, y, ref, ...Object.values(grads), ...Object.values(rg)]);
  });

  it('a custom surrogate function goes to lif', async () => {
    const custom = ((z: tf.Tensor) => tf.sigmoid(tf.mul(z, 10))) as unknown as SurrogateFn;
    const x = tf.tensor(tieHeavyValues(2 * 5, 9, -1, 3), [2, 5]);
    const y = lifFused(x, { surrogate: custom });
    const ref = lif(x, { surrogate: custom });
    expectSameBits(await y.data(), await ref.data(), 'custom surrogate');
    tf.dispose([x, y, ref]);
  });
});

describe('lifFused: errors and memory', () => {
  it('validates like lif, naming lifFused', () => {
    const x = tf.zeros([2, 3]);
    expect(() => lifFused(x, { tau: 0.5 })).toThrow(ConfigError);
    expect(() => lifFused(x, { tau: 0.5 })).toThrow(/lifFused: tau must be >= 1/);
    expect(() => lifFused(x, { reset: 'soft', vReset: 1 })).toThrow(/only applies to reset 'hard'/);
    expect(() => lifFused(x, { reset: 'bogus' as 'hard' })).toThrow(ConfigError);
    expect(() => lifFused(x, { timeAxis: 3 })).toThrow(ShapeError);
    expect(() => lifFused(tf.scalar(1))).toThrow(/lifFused: expected input with a time axis/);
    expect(() => lifFused(x, null as unknown as LifOptions)).toThrow(ConfigError);
    x.dispose();
  });

  it('does not leak, forward or backward', async () => {
    const x = tf.tensor(tieHeavyValues(3 * 2 * 5, 3, -1, 3), [3, 2, 5]);
    for (const opts of [
      {},
      { reset: 'soft' as const, detachReset: true },
      { vReset: 0.5, reset: 'hard' as const },
    ]) {
      await expectNoLeak(() => lifFused(x, opts));
      await expectNoLeak(() => tf.grad((a: tf.Tensor) => lifFused(a, opts))(x));
    }
    const x1 = tf.ones([1, 4]);
    await expectNoLeak(() => tf.grad((a: tf.Tensor) => lifFused(a))(x1));
    tf.dispose([x, x1]);
  });
});
