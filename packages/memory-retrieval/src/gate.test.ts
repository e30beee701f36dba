import { ConfigError, ShapeError } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../test-support/helpers';
import {
  expectedNhwc,
  loadUnitInto,
  raw,
  readUnit,
  timeFirstNhwc,
  type UnitFixture,
} from './fixtures.test-helper';
import { GateModule } from './gate';

/**
 * An independent, loop-by-loop float64 evaluation of the reference's GateModule (torch layouts:
 * x `[T, B, C, H, W]`, Conv1d weights `[O, I, 1]`), for checking both modes.
 */
function naiveGate(
  mode: 'channel' | 'point',
  x: { shape: number[]; values: ArrayLike<number> },
  w: {
    w0: ArrayLike<number>;
    b0: ArrayLike<number>;
    decay: ArrayLike<number>;
    w2: ArrayLike<number>;
    b2: number;
  },
): { logits: number[][]; y: Float64Array } {
  const [T, B, C, H, W] = x.shape as [number, number, number, number, number];
  const at = (t: number, b: number, c: number, p: number) => x.values[((t * B + b) * C + c) * H * W + p]!;
  const rows = mode === 'channel' ? B * C : B * H * W;
  const inF = mode === 'channel' ? H * W : C;
  const hidden = Math.floor(inF / 2);
  // feature i of row r at time t
  const feat = (r: number, t: number, i: number) =>
    mode === 'channel' ? at(t, Math.floor(r / C), r % C, i) : at(t, Math.floor(r / (H * W)), i, r % (H * W));
  const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));
  const logits: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const lr: number[] = [];
    const mem = new Float64Array(hidden);
    const spk = new Float64Array(hidden);
    for (let t = 0; t < T; t++) {
      let out = w.b2;
      for (let j = 0; j < hidden; j++) {
        let z = w.b0[j]!;
        for (let i = 0; i < inF; i++) z += w.w0[j * inF + i]! * feat(r, t, i);
        const m = t === 0 ? z : (mem[j]! - spk[j]!) * sigmoid(w.decay[t - 1]!) + z;
        const clamped = Math.min(4, Math.max(0, m));
        let q = Math.round(clamped);
        if (q - clamped === 0.5 && q % 2 === 1) q -= 1; // half to even
        mem[j] = m;
        spk[j] = q / 4;
        out += w.w2[j]! * spk[j]!;
      }
      lr.push(out);
    }
    logits.push(lr);
  }
  const y = new Float64Array(B * H * W * C); // [B, H, W, C]
  for (let r = 0; r < rows; r++) {
    const lr = logits[r]!;
    const mx = Math.max(...lr);
    const e = lr.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    for (let t = 0; t < T; t++) {
      const wt = e[t]! / s;
      if (mode === 'channel') {
        const b = Math.floor(r / C);
        const c = r % C;
        for (let p = 0; p < H * W; p++) y[(b * H * W + p) * C + c]! += wt * at(t, b, c, p);
      } else {
        const b = Math.floor(r / (H * W));
        const p = r % (H * W);
        for (let c = 0; c < C; c++) y[(b * H * W + p) * C + c]! += wt * at(t, b, c, p);
      }
    }
  }
  return { logits, y };
}

function unitGateWeights(unit: UnitFixture) {
  return {
    w0: raw(unit, 'mlp.0.weight').values,
    b0: raw(unit, 'mlp.0.bias').values,
    decay: raw(unit, 'mlp.1.decay').values,
    w2: raw(unit, 'mlp.2.weight').values,
    b2: raw(unit, 'mlp.2.bias').values[0]!,
  };
}

describe('GateModule: parity with the reference', () => {
  for (const name of ['gate_channel_t2', 'gate_channel_t3']) {
    it(`${name}: output and gate logits within the fixture's tolerance`, async () => {
      const unit = readUnit(name);
      const tol = unit.json.tolerance.abs!;
      expect(tol).toBe(1e-6);
      const gate = new GateModule({ dim: 64, mode: 'channel', gridSize: 16 });
      await loadUnitInto(unit, gate);
      const x = timeFirstNhwc(unit, 'in.x');
      const y = gate.apply(x);
      expect(y.shape).toEqual([1, 16, 16, 64]);
      expectClose(await y.data(), await expectedNhwc(unit, 'out.y'), tol, `${name} out.y`);
      const logits = gate.gateLogits(x);
      const t = x.shape[0];
      expect(logits.shape).toEqual([1, 64, t]);
      // the reference's [B·C, 1, T] has the same element order as our [B, C, T]
      expectClose(await logits.data(), raw(unit, 'out.gate_logits').values, tol, `${name} out.gate_logits`);
      // the weights sum to one over T
      const wsum = tf.sum(gate.gateWeights(x), 0);
      expectClose(await wsum.data(), new Float32Array(64).fill(1), 1e-6, 'weights');
      await expectNoLeak(() => gate.apply(x));
      await expectNoLeak(() => gate.gateLogits(x));
      tf.dispose([x, y, logits, wsum]);
      gate.dispose();
    });
  }

  it('the independent loop evaluation reproduces the fixtures (it checks point mode below)', async () => {
    for (const name of ['gate_channel_t2', 'gate_channel_t3']) {
      const unit = readUnit(name);
      const n = naiveGate('channel', raw(unit, 'in.x'), unitGateWeights(unit));
      const yRef = await expectedNhwc(unit, 'out.y');
      expectClose(n.y, yRef, 1e-6, `${name} naive y`);
      expectClose(n.logits.flat(), raw(unit, 'out.gate_logits').values, 1e-5, `${name} naive logits`);
    }
  });

  it('has the reference state-dict keys and torch shapes', () => {
    const unit = readUnit('gate_channel_t3');
    const gate = new GateModule({ dim: 64 });
    const shapes = gate.stateShapes({ layout: 'torch' });
    const expected = Object.entries(unit.json.tensors).filter(([k]) => !/^(in|out|grad)\./.test(k));
    expect([...shapes.keys()].sort()).toEqual(expected.map(([k]) => k).sort());
    for (const [k, v] of expected) expect(shapes.get(k), k).toEqual(v.shape);
    gate.dispose();
  });
});

/** Small dyadic weights (multiples of 2^-8) and spike inputs (k/4): the MLP's sums are exact. */
async function dyadicGate(gate: GateModule, seed: number): Promise<void> {
  for (const [k, p] of gate.namedParameters()) {
    const v = k.endsWith('decay')
      ? tf.zeros(p.shape) // sigmoid(0) = 0.5 exactly
      : tf.div(tf.round(tf.randomUniform(p.shape, -96, 96, 'float32', seed++)), 256);
    p.assign(v);
    v.dispose();
  }
  gate.eval();
}

function spikes(shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => tf.div(tf.floor(tf.randomUniform(shape, 0, 5, 'float32', seed)), 4));
}

async function torchLayoutWeights(gate: GateModule) {
  const sd = gate.stateDict({ layout: 'torch' });
  const get = async (k: string) => (await sd.get(k)!.data()) as Float32Array;
  const w = {
    w0: await get('mlp.0.weight'),
    b0: await get('mlp.0.bias'),
    decay: await get('mlp.1.decay'),
    w2: await get('mlp.2.weight'),
    b2: (await get('mlp.2.bias'))[0]!,
  };
  tf.dispose([...sd.values()]);
  return w;
}

describe('GateModule: point mode and generalisations', () => {
  it("'point' mode equals the loop evaluation of the reference's pixel_wise_gate", async () => {
    const gate = new GateModule({ dim: 8, mode: 'point' });
    await dyadicGate(gate, 3);
    const x = spikes([3, 2, 3, 4, 8], 7); // [T, B, H, W, C]
    const y = gate.apply(x);
    expect(y.shape).toEqual([2, 3, 4, 8]);
    const xTorch = tf.transpose(x, [0, 1, 4, 2, 3]);
    const n = naiveGate(
      'point',
      { shape: xTorch.shape, values: await xTorch.data() },
      await torchLayoutWeights(gate),
    );
    expectClose(await y.data(), n.y, 1e-6, 'point y');
    const logits = gate.gateLogits(x);
    expect(logits.shape).toEqual([2, 3, 4, 3]);
    expectClose(await logits.data(), n.logits.flat(), 1e-5, 'point logits');
    await expectNoLeak(() => gate.apply(x));
    tf.dispose([x, y, xTorch, logits]);
    gate.dispose();
  });

  it("'channel' mode on a non-square grid, with B > 1 and T = 4 (beyond the reference's T ≤ 3)", async () => {
    const gate = new GateModule({ mode: 'channel', gridSize: [2, 3] });
    await dyadicGate(gate, 11);
    const x = spikes([4, 2, 2, 3, 5], 9);
    const y = gate.apply(x);
    const xTorch = tf.transpose(x, [0, 1, 4, 2, 3]);
    const n = naiveGate(
      'channel',
      { shape: xTorch.shape, values: await xTorch.data() },
      await torchLayoutWeights(gate),
    );
    expectClose(await y.data(), n.y, 1e-6, 'channel y');
    tf.dispose([x, y, xTorch]);
    gate.dispose();
  });

  it('T = 1 passes the single timestep through (weight 1)', async () => {
    const gate = new GateModule({ dim: 4, mode: 'point' });
    await dyadicGate(gate, 1);
    const x = spikes([1, 1, 2, 2, 4], 2);
    const y = gate.apply(x);
    expectClose(await y.data(), await x.data(), 0, 'T = 1');
    tf.dispose([x, y]);
    gate.dispose();
  });

  it('passes gradients to the input and every parameter, without leaking', async () => {
    const gate = new GateModule({ gridSize: 2 });
    await dyadicGate(gate, 5);
    gate.train();
    const x = tf.randomUniform([3, 1, 2, 2, 3], -1, 3, 'float32', 4);
    const r = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 6);
    const params = [...gate.trainableParameters().values()];
    const run = () => tf.variableGrads(() => tf.sum(tf.mul(gate.apply(x), r)) as tf.Scalar, params);
    const { value, grads } = run();
    for (const [k, g] of Object.entries(grads)) expect(g.shape.length, k).toBeGreaterThanOrEqual(1);
    expect(Object.keys(grads).length).toBe(params.length);
    const gx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(gate.apply(xi), r)))(x);
    expect(gx.shape).toEqual(x.shape);
    expect((await tf.max(tf.abs(gx)).data())[0]).toBeGreaterThan(0);
    tf.dispose([value, gx, ...Object.values(grads)]);
    await expectNoLeak(() => {
      const o = run();
      return [o.value, ...Object.values(o.grads)];
    });
    tf.dispose([x, r]);
    gate.dispose();
  });
});

describe('GateModule: errors', () => {
  it('rejects bad options with ConfigError', () => {
    expect(() => new GateModule({ mode: 'pixel' as never })).toThrow(ConfigError);
    expect(() => new GateModule({ mode: 'point' })).toThrow(/needs dim/);
    expect(() => new GateModule({ gridSize: 0 })).toThrow(ConfigError);
    expect(() => new GateModule({ gridSize: 1 })).toThrow(/hidden width/);
    expect(() => new GateModule(null as never)).toThrow(ConfigError);
  });

  it('rejects bad inputs with ShapeError naming the module and both shapes', () => {
    const gate = new GateModule({ dim: 8, gridSize: 4 });
    const x = tf.zeros([2, 1, 3, 3, 8]);
    expect(() => gate.apply(x)).toThrow(ShapeError);
    expect(() => gate.apply(x)).toThrow(
      /GateModule: channel mode reads 4×4 = 16 positions.*\[2, 1, 3, 3, 8\]/,
    );
    const y = tf.zeros([2, 1, 4, 4, 6]);
    expect(() => gate.apply(y)).toThrow(/\[T, B, H, W, 8\].*\[2, 1, 4, 4, 6\]/);
    const z = tf.zeros([5, 1, 4, 4, 8]);
    expect(() => gate.apply(z)).toThrow(ShapeError); // T = 5 > maxSteps 4
    tf.dispose([x, y, z]);
    gate.dispose();
  });
});
