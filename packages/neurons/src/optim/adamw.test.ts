import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../../test-support/helpers';
import { CheckpointError, ConfigError, ShapeError } from '../core/errors';
import { AdamW } from './adamw';
import { ADAMW_KERNEL } from './adamw-kernel';

/** torch.optim.AdamW's update in float64, for comparison. */
function adamwF64(
  p0: number[],
  grads: number[][],
  o: { lr: number; b1: number; b2: number; eps: number; wd: number },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, i) => {
    const t = i + 1;
    for (let j = 0; j < p.length; j++) {
      const gj = g[j] as number;
      p[j] = (p[j] as number) * (1 - o.lr * o.wd);
      m[j] = o.b1 * (m[j] as number) + (1 - o.b1) * gj;
      v[j] = o.b2 * (v[j] as number) + (1 - o.b2) * gj * gj;
      const denom = Math.sqrt(v[j] as number) / Math.sqrt(1 - o.b2 ** t) + o.eps;
      p[j] = (p[j] as number) - (o.lr / (1 - o.b1 ** t)) * ((m[j] as number) / denom);
    }
  });
  return p;
}

describe('AdamW', () => {
  it('first step: p·(1 − lr·λ) − lr·g/(|g| + ε), whatever the betas', async () => {
    const p = tf.variable(tf.tensor1d([1, -2, 0.5, 3]));
    const g = tf.tensor1d([0.1, -4, 1e-3, 0]);
    const opt = new AdamW(new Map([['w', p]]), { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] });
    opt.step(new Map([['w', g]]));
    const expected = [1, -2, 0.5, 3].map((x, i) => {
      const gi = [0.1, -4, 1e-3, 0][i] as number;
      return x * (1 - 0.001) - (0.01 * gi) / (Math.abs(gi) + 1e-8);
    });
    expectClose(await p.data(), expected, 1e-6, 'first step');
    expect(opt.stepOf('w')).toBe(1);
    opt.dispose();
    tf.dispose([p, g]);
  });

  it('follows the float64 torch update over many steps, with groups scaling the rate', async () => {
    const p0 = [0.3, -1.2, 2.5, 0.01, -0.7, 1.1];
    const grads = Array.from({ length: 12 }, (_, s) =>
      p0.map((_, j) => Math.sin(3.1 * s + j) * (j + 1) * 0.5),
    );
    const enc = tf.variable(tf.tensor1d(p0.slice(0, 3)));
    const head = tf.variable(tf.tensor2d([p0.slice(3)], [1, 3]));
    const opt = new AdamW(
      [{ params: new Map([['encoder.w', enc]]), lrScale: 0.1 }, { params: new Map([['decoder.w', head]]) }],
      { lr: 4e-2, weightDecay: 1e-2 },
    );
    expect(opt.groupLr(0)).toBeCloseTo(4e-3, 12);
    for (const g of grads) {
      const ge = tf.tensor1d(g.slice(0, 3));
      const gh = tf.tensor2d([g.slice(3)], [1, 3]);
      opt.step({ 'encoder.w': ge, 'decoder.w': gh });
      tf.dispose([ge, gh]);
    }
    const base = { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 1e-2 };
    const encRef = adamwF64(
      p0.slice(0, 3),
      grads.map((g) => g.slice(0, 3)),
      { ...base, lr: 4e-3 },
    );
    const headRef = adamwF64(
      p0.slice(3),
      grads.map((g) => g.slice(3)),
      { ...base, lr: 4e-2 },
    );
    expectClose(await enc.data(), encRef, 2e-6, 'encoder group (lr × 0.1)');
    expectClose(await head.data(), headRef, 2e-6, 'decoder group');
    opt.dispose();
    tf.dispose([enc, head]);
  });

  it('skips parameters without a gradient, as torch does for p.grad = None', async () => {
    const a = tf.variable(tf.scalar(1));
    const b = tf.variable(tf.scalar(1));
    const opt = new AdamW(
      new Map([
        ['a', a],
        ['b', b],
      ]),
      { lr: 0.1, weightDecay: 0.5 },
    );
    const g = tf.scalar(2);
    opt.step({ a: g });
    opt.step({ a: g, b: g });
    expect([opt.stepOf('a'), opt.stepOf('b')]).toEqual([2, 1]);
    // b took one step: its first-step formula holds.
    expectClose(await b.data(), [1 * (1 - 0.05) - 0.1 * (2 / (2 + 1e-8))], 1e-6, 'b');
    opt.dispose();
    tf.dispose([a, b, g]);
  });

  it('resumes exactly from its state dict', async () => {
    const init = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const grads = Array.from({ length: 5 }, (_, i) => tf.randomNormal([3, 4], 0, 1, 'float32', 10 + i));
    const straight = tf.variable(tf.clone(init));
    const o1 = new AdamW(new Map([['w', straight]]), { lr: 1e-2, weightDecay: 1e-4 });
    for (const g of grads) o1.step({ w: g });

    const resumed = tf.variable(tf.clone(init));
    const o2 = new AdamW(new Map([['w', resumed]]), { lr: 1e-2, weightDecay: 1e-4 });
    for (const g of grads.slice(0, 3)) o2.step({ w: g });
    const saved = o2.stateDict();
    expect([...saved.keys()].sort()).toEqual(['w.exp_avg', 'w.exp_avg_sq', 'w.step']);
    const snapshot = tf.variable(tf.clone(resumed));
    o2.dispose();
    const o3 = new AdamW(new Map([['w', snapshot]]), { lr: 1e-2, weightDecay: 1e-4 });
    await o3.loadStateDict(saved);
    expect(o3.stepOf('w')).toBe(3);
    for (const g of grads.slice(3)) o3.step({ w: g });
    expect(Array.from(await snapshot.data())).toEqual(Array.from(await straight.data()));
    tf.dispose([init, ...grads, straight, resumed, snapshot, ...saved.values()]);
    o1.dispose();
    o3.dispose();
  });

  it('rejects unknown parameters, wrong shapes, bad options and foreign state', async () => {
    const w = tf.variable(tf.zeros([2]));
    const opt = new AdamW(new Map([['w', w]]));
    const g = tf.zeros([3]);
    expect(() => opt.step({ x: g })).toThrow(/unknown parameters: x/);
    expect(() => opt.step({ w: g })).toThrow(ShapeError);
    expect(() => new AdamW(new Map([['w', w]]), { lr: Number.NaN })).toThrow(ConfigError);
    expect(() => new AdamW(new Map([['w', w]]), { betas: [1, 0.9] })).toThrow(/betas/);
    expect(() => new AdamW([{ params: new Map([['w', w]]) }, { params: new Map([['w', w]]) }])).toThrow(
      /more than one group/,
    );
    const foreign = new Map<string, tf.Tensor>([
      ['v.exp_avg', tf.zeros([2])],
      ['v.exp_avg_sq', tf.zeros([2])],
      ['v.step', tf.scalar(1)],
    ]);
    await expect(opt.loadStateDict(foreign, { source: 'opt.safetensors' })).rejects.toThrow(CheckpointError);
    await expect(opt.loadStateDict(foreign, { source: 'opt.safetensors' })).rejects.toThrow(
      /opt\.safetensors.*unknown parameter 'v'/,
    );
    tf.dispose([w, g, ...foreign.values()]);
    opt.dispose();
  });

  it('does not leak tensors across steps', async () => {
    const w = tf.variable(tf.randomNormal([4, 4], 0, 1, 'float32', 2));
    const g = tf.randomNormal([4, 4], 0, 1, 'float32', 3);
    const opt = new AdamW(new Map([['w', w]]));
    await expectNoLeak(() => opt.step({ w: g }));
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('the one-kernel update (cpu, wasm) equals the composite bit for bit, weight decay and groups included', async () => {
    const shapes: [string, number[]][] = [
      ['a', [3, 5]],
      ['b', [7]],
      ['c', [2, 2, 3]],
    ];
    const make = () =>
      new Map(shapes.map(([k, sh], i) => [k, tf.variable(tf.randomNormal(sh, 0, 1, 'float32', 10 + i))]));
    const fusedParams = make();
    const plainParams = make();
    const groups = (ps: Map<string, tf.Variable>) => [
      { params: new Map([['a', ps.get('a') as tf.Variable]]) },
      {
        params: new Map([
          ['b', ps.get('b') as tf.Variable],
          ['c', ps.get('c') as tf.Variable],
        ]),
        lrScale: 0.1,
        weightDecay: 0,
      },
    ];
    const opts = { lr: 3e-3, weightDecay: 0.05, betas: [0.8, 0.95] as const, eps: 1e-6 };
    const fused = new AdamW(groups(fusedParams), opts);
    const plain = new AdamW(groups(plainParams), { ...opts, fused: false });
    expect(fused.fused).toBe(true);
    expect(plain.fused).toBe(false);
    for (let step = 0; step < 6; step++) {
      const grads = new Map(
        shapes.map(([k, sh], i) => [
          k,
          tf.randomNormal(sh, 0, step === 2 ? 1e-3 : 2, 'float32', 100 * step + i),
        ]),
      );
      fused.step(grads);
      plain.step(grads);
      tf.dispose([...grads.values()]);
    }
    for (const [k] of shapes) {
      expect(Array.from(await (fusedParams.get(k) as tf.Variable).data()), k).toEqual(
        Array.from(await (plainParams.get(k) as tf.Variable).data()),
      );
    }
    const a = fused.stateDict();
    const b = plain.stateDict();
    for (const [k, t] of a)
      expect(Array.from(await t.data()), k).toEqual(Array.from(await (b.get(k) as tf.Tensor).data()));
    tf.dispose([...a.values(), ...b.values(), ...fusedParams.values(), ...plainParams.values()]);
    fused.dispose();
    plain.dispose();
    // where the backend has the kernel, the fused path is the one that ran
    if (tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm')
      expect(tf.getKernel(ADAMW_KERNEL, tf.getBackend())).toBeDefined();
  });
});
