import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, onWebGPU, readFixtureJson } from '../../../../test-support/helpers';
import { ConfigError, ShapeError } from '../core/errors';
import { fixtureTensor, fixtureValues, readF32Fixture } from '../neurons/fixtures.test-helper';
import { NI_LIF_DECAY_INIT, type NiLifState, niLif, niLifStep } from '../neurons/ni-lif';
import { expectSameBits, rng, tieHeavyValues } from './bits.test-helper';
import {
  FUSED_KERNEL_BACKENDS,
  hasFusedKernel,
  NI_LIF_GRAD_KERNEL,
  NI_LIF_KERNEL,
  niLifFused,
  registerFusedNeuronKernels,
} from './index';
import { setWasmSimdEnabled } from './wasm-simd';

const onWasm = () => tf.getBackend() === 'wasm';

/** Step shapes: odd and even neuron counts (the wasm SIMD code takes 4 at a time). */
const STEP_SHAPES: number[][] = onWebGPU()
  ? [[], [7], [2, 3, 4]]
  : [[], [1], [7], [3, 5], [64], [2, 3, 4, 5], [1003]];

/** Decay logits: exact decays (σ(0) = 1/2, σ(−ln 3) ≈ 1/4, σ(−40) ≈ 0) and arbitrary ones. */
function decayLogits(seed: number): tf.Tensor1D {
  const r = rng(seed);
  return tf.tensor1d([0, NI_LIF_DECAY_INIT, -40, r() * 6 - 3, r() * 6 - 3]);
}

/** Runs `fn` with the wasm SIMD kernels on, and (on wasm) once more with only the JS loops. */
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

describe('fused kernels: registration', () => {
  it('registers idempotently for cpu, wasm and webgpu, at call time', () => {
    expect(registerFusedNeuronKernels()).toEqual(['cpu', 'wasm', 'webgpu']);
    expect(registerFusedNeuronKernels()).toBe(FUSED_KERNEL_BACKENDS);
    for (const b of FUSED_KERNEL_BACKENDS) expect(tf.getKernel(NI_LIF_KERNEL, b)).toBeDefined();
    expect(tf.getGradient(NI_LIF_KERNEL)).toBeDefined();
    expect(hasFusedKernel(NI_LIF_KERNEL)).toBe(true);
    expect(hasFusedKernel(NI_LIF_KERNEL, 'tensorflow')).toBe(false);
  });

  it('runs NI-LIF as one kernel where the composite runs many', async () => {
    const x = tf.ones([3, 8]);
    const decay = tf.zeros([2]);
    const fused = await tf.profile(() => niLifFused(x, decay));
    expect(fused.kernelNames).toEqual([NI_LIF_KERNEL]);
    const composite = await tf.profile(() => niLif(x, decay));
    expect(composite.kernelNames.length).toBeGreaterThan(10);
    tf.dispose([x, decay, fused.result as tf.Tensor, composite.result as tf.Tensor]);
  });
});

describe('niLifFused: bit-identical to niLif', () => {
  it('spikes for T = 1..5, several shapes, levels 4, 3 and 1, ties and values outside [0, D]', async () => {
    await bothWasmPaths(async (label) => {
      const decay = decayLogits(7);
      let seed = 1;
      for (const levels of [4, 3, 1]) {
        for (let T = 1; T <= 5; T++) {
          for (const step of STEP_SHAPES) {
            const shape = [T, ...step];
            const n = shape.reduce((a, b) => a * b, 1);
            const x = tf.tensor(tieHeavyValues(n, seed++, -2, levels + 2), shape);
            const y = niLifFused(x, decay, { levels });
            const ref = niLif(x, decay, { levels });
            expect(y.shape).toEqual(shape);
            expectSameBits(await y.data(), await ref.data(), `D=${levels} T=${T} [${shape}]${label}`);
            tf.dispose([x, y, ref]);
          }
        }
      }
      decay.dispose();
    });
  });

  it('special values: NaN, ±0, ±Infinity, exact ties, huge values', async () => {
    await bothWasmPaths(async (label) => {
      const special = [NaN, -0, 0, Infinity, -Infinity, 0.5, 1.5, 2.5, 3.5, 4.5, -0.5, 4, 5, 1e30, -1e30, 2];
      const decay = tf.tensor1d([0, 0, NI_LIF_DECAY_INIT]);
      for (const T of [1, 2, 3, 4]) {
        // every special value at every step, against each other
        const n = special.length;
        const xs = new Float32Array(T * n * 3);
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < n * 3; j++) xs[t * n * 3 + j] = special[(j + 5 * t) % n]!;
        }
        const x = tf.tensor(xs, [T, n * 3]);
        const y = niLifFused(x, decay);
        const ref = niLif(x, decay);
        expectSameBits(await y.data(), await ref.data(), `special T=${T}${label}`);
        tf.dispose([x, y, ref]);
      }
      decay.dispose();
    });
  });

  it('time on another axis (the GateModule layout [N, C, T])', async () => {
    const decay = decayLogits(3);
    for (const T of [1, 2, 3]) {
      const x = tf.tensor(tieHeavyValues(6 * 5 * T, 40 + T), [6, 5, T]);
      const y = niLifFused(x, decay, { timeAxis: -1 });
      const ref = niLif(x, decay, { timeAxis: -1 });
      expectSameBits(await y.data(), await ref.data(), `timeAxis -1, T=${T}`);
      tf.dispose([x, y, ref]);
    }
    decay.dispose();
  });

  it('the membrane output equals the step form’s state', async () => {
    registerFusedNeuronKernels();
    const decay = decayLogits(5);
    const T = 4;
    const x = tf.tensor(tieHeavyValues(T * 9, 77), [T, 9]);
    const mem = tf.engine().runKernel(NI_LIF_KERNEL, { x, decayLogits: decay }, {
      levels: 4,
      output: 'membrane',
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const memData = await mem.data();
    let st: NiLifState | null = null;
    const steps = tf.unstack(x);
    for (let t = 0; t < T; t++) {
      const r = niLifStep(steps[t]!, st, decay);
      if (st) tf.dispose([st.v, st.spikes]);
      expectSameBits(memData.slice(t * 9, (t + 1) * 9), await r.state.v.data(), `mem_${t}`);
      r.spikes.dispose();
      st = r.state;
    }
    tf.dispose([x, mem, decay, st!.v, st!.spikes, ...steps]);
  });

  it('casts non-float32 inputs like niLif; int32 decay logits go to niLif (which rejects them)', async () => {
    const decay = tf.tensor1d([0, 0]);
    const xi = tf.tensor(
      [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [1, -1, 2, 9, 3, 2, 1, 0],
      ],
      [2, 8],
      'int32',
    );
    const y = niLifFused(xi, decay);
    const ref = niLif(xi, decay);
    expectSameBits(await y.data(), await ref.data(), 'int32 x');
    const di = tf.tensor1d([0, 1], 'int32');
    expect(() => niLif(xi, di)).toThrow(/must be float32/);
    expect(() => niLifFused(xi, di)).toThrow(/must be float32/);
    tf.dispose([decay, xi, y, ref, di]);
  });
});

describe('niLifFused: gradients', () => {
  it('equal the composite’s for x and decayLogits, T = 1..5', async () => {
    const decay = decayLogits(11);
    let seed = 100;
    for (let T = 1; T <= 5; T++) {
      for (const step of onWebGPU() ? [[5], [2, 3]] : [[], [5], [2, 3, 4], [33]]) {
        const shape = [T, ...step];
        const n = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(tieHeavyValues(n, seed++), shape);
        const dy = tf.tensor(tieHeavyValues(n, seed++, -1, 1), shape);
        const f = (a: tf.Tensor, b: tf.Tensor) => niLifFused(a, b);
        const g = (a: tf.Tensor, b: tf.Tensor) => niLif(a, b);
        const [gx, gd] = tf.grads(f)([x, decay], dy);
        const [rx, rd] = tf.grads(g)([x, decay], dy);
        expectSameBits(await gx!.data(), await rx!.data(), `grad x, T=${T} [${shape}]`);
        expectSameBits(await gd!.data(), await rd!.data(), `grad decay, T=${T} [${shape}]`);
        tf.dispose([x, dy, gx!, gd!, rx!, rd!]);
      }
    }
    decay.dispose();
  });

  it('with levels 3 and time on the last axis', async () => {
    const decay = tf.variable(decayLogits(12));
    const x = tf.tensor(tieHeavyValues(4 * 3 * 3, 9), [4, 3, 3]);
    const dy = tf.tensor(tieHeavyValues(4 * 3 * 3, 10, -1, 1), [4, 3, 3]);
    const opts = { levels: 3, timeAxis: -1 };
    const [gx, gd] = tf.grads((a: tf.Tensor, b: tf.Tensor) => niLifFused(a, b, opts))([x, decay], dy);
    const [rx, rd] = tf.grads((a: tf.Tensor, b: tf.Tensor) => niLif(a, b, opts))([x, decay], dy);
    expectSameBits(await gx!.data(), await rx!.data(), 'grad x');
    expectSameBits(await gd!.data(), await rd!.data(), 'grad decay');
    // and through a variable, as a module trains it
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(niLifFused(x, decay, opts), dy)) as tf.Scalar,
      [decay],
    );
    expectSameBits(await grads[decay.name]!.data(), await rd!.data(), 'variableGrads decay');
    tf.dispose([decay, x, dy, gx!, gd!, rx!, rd!, ...Object.values(grads)]);
  });

  it('the straight-through gradient kernel equals the composite ops bit for bit (cpu, wasm)', async (ctx) => {
    registerFusedNeuronKernels();
    if (!tf.getKernel(NI_LIF_GRAD_KERNEL, tf.getBackend())) ctx.skip();
    const special = [0, -0, 4, 3.9999998, 4.0000005, -1e-45, 1e-45, Number.NaN, Infinity, -Infinity, 2.5, -3];
    const n = 1001;
    const r = rng(7);
    const xv = Float32Array.from(
      { length: n },
      (_, i) => special[i % special.length]! + (i % 3 === 0 ? 0 : r() * 6 - 1),
    );
    const dyv = Float32Array.from({ length: n }, (_, i) =>
      i % 17 === 0 ? special[i % special.length]! : r() * 2 - 1,
    );
    for (const levels of [4, 3, 1]) {
      const [x, dy] = [tf.tensor(xv, [7, 11, 13]), tf.tensor(dyv, [7, 11, 13])];
      const fused = tf
        .engine()
        .runKernel(NI_LIF_GRAD_KERNEL, { dy, x }, { levels } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const composite = tf.tidy(() =>
        tf.mul(
          tf.div(dy, tf.scalar(levels)),
          tf.cast(tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, levels)), 'float32'),
        ),
      );
      expectSameBits(await fused.data(), await composite.data(), `levels ${levels}`);
      tf.dispose([x, dy, fused, composite]);
    }
  });

  it('refuses to differentiate the membrane output (no higher-order gradients)', () => {
    registerFusedNeuronKernels();
    const x = tf.ones([2, 3]);
    const d = tf.zeros([1]);
    const f = (a: tf.Tensor) =>
      tf.engine().runKernel(NI_LIF_KERNEL, { x: a, decayLogits: d }, {
        levels: 4,
        output: 'membrane',
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(() => tf.grad(f)(x)).toThrow(/only the spike output is differentiable/);
    tf.dispose([x, d]);
  });
});

interface MemUpdateJson {
  cases: Record<string, { input_shape: number[]; layout: string }>;
  tolerance: { out: { abs: number }; 'grad.x': { abs: number }; 'grad.decay': { abs: number } };
}

describe('niLifFused: parity with the reference mem_update (units/mem_update)', () => {
  const meta = readFixtureJson<MemUpdateJson>('units/mem_update.json');
  const f = readF32Fixture('units/mem_update.safetensors');
  const tol = meta.tolerance;
  for (const [name, spec] of Object.entries(meta.cases)) {
    it(`${name}: ${spec.layout}`, async () => {
      const gate = name.startsWith('gate_layout');
      const x = fixtureTensor(f, `${name}.in.x`);
      const dy = fixtureTensor(f, `${name}.in.grad_out`);
      const decay = fixtureTensor(f, `${name}.decay`);
      const opts = { timeAxis: gate ? -1 : 0 };
      const y = niLifFused(x, decay, opts);
      expectClose(await y.data(), fixtureValues(f, `${name}.out`), tol.out.abs, `${name}: out`);
      const [gx, gd] = tf.grads((a: tf.Tensor, b: tf.Tensor) => niLifFused(a, b, opts))([x, decay], dy);
      expectClose(await gx!.data(), fixtureValues(f, `${name}.grad.x`), tol['grad.x'].abs, `${name}: grad.x`);
      expectClose(
        await gd!.data(),
        fixtureValues(f, `${name}.grad.decay`),
        tol['grad.decay'].abs,
        `${name}: grad.decay`,
      );
      tf.dispose([x, dy, decay, y, gx!, gd!]);
    });
  }
});

describe('niLifFused: errors and memory', () => {
  it('validates like niLif, naming niLifFused', () => {
    const decay = tf.zeros([3]);
    const x = tf.zeros([5, 2]);
    expect(() => niLifFused(x, decay)).toThrow(ShapeError);
    expect(() => niLifFused(x, decay)).toThrow(
      /niLifFused: input has T = 5 time steps on axis 0 \(shape \[5, 2\]\), but the 3 decay logits support at most T = 4/,
    );
    expect(() => niLifFused(x, tf.zeros([3, 1]))).toThrow(/expected decayLogits of shape \[maxSteps − 1\]/);
    expect(() => niLifFused(tf.scalar(1), decay)).toThrow(/niLifFused: expected input with a time axis/);
    expect(() => niLifFused(x, decay, { levels: 0 })).toThrow(ConfigError);
    expect(() => niLifFused('x' as unknown as tf.Tensor, decay)).toThrow(ShapeError);
    tf.dispose([decay, x]);
  });

  it('handles empty inputs', async () => {
    const x = tf.zeros([3, 0]);
    const d = tf.zeros([2]);
    const y = niLifFused(x, d);
    expect(y.shape).toEqual([3, 0]);
    expect((await y.data()).length).toBe(0);
    tf.dispose([x, d, y]);
  });

  it('does not leak, forward or backward', async () => {
    const x = tf.tensor(tieHeavyValues(3 * 2 * 5, 3), [3, 2, 5]);
    const decay = tf.variable(tf.fill([3], NI_LIF_DECAY_INIT));
    await expectNoLeak(() => niLifFused(x, decay));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => niLifFused(a, b))([x, decay]));
    await expectNoLeak(() => tf.variableGrads(() => tf.sum(niLifFused(x, decay)) as tf.Scalar, [decay]));
    const x1 = tf.ones([1, 4]);
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => niLifFused(a, b))([x1, decay]));
    tf.dispose([x, x1, decay]);
  });
});
