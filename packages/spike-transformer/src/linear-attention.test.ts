import { ConfigError, type OpRecord, ShapeError, withOpRecorder } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../test-support/helpers';
import { linearAttentionMemory, queryLinearAttention, spikeLinearAttention } from './linear-attention';

/** Seeded integer spike counts / 4 (multiples of 1/4 in [0, 1]), as NI-LIF emits. */
function spikes(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s % 5) / 4;
  }
  return out;
}

/** Naive reference in float64: per head, y = c · q (kᵀ v); channels split head-major. */
function naive(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  dims: { l: number; n: number; m: number; c: number; cv: number; heads: number },
  c: number,
): Float64Array {
  const { l, n, m, heads } = dims;
  const dk = dims.c / heads;
  const dv = dims.cv / heads;
  const y = new Float64Array(l * n * dims.cv);
  for (let b = 0; b < l; b++)
    for (let h = 0; h < heads; h++) {
      const kv = new Float64Array(dk * dv);
      for (let j = 0; j < m; j++)
        for (let a = 0; a < dk; a++)
          for (let e = 0; e < dv; e++)
            kv[a * dv + e]! += k[(b * m + j) * dims.c + h * dk + a]! * v[(b * m + j) * dims.cv + h * dv + e]!;
      for (let i = 0; i < n; i++)
        for (let e = 0; e < dv; e++) {
          let s = 0;
          for (let a = 0; a < dk; a++) s += q[(b * n + i) * dims.c + h * dk + a]! * kv[a * dv + e]!;
          y[(b * n + i) * dims.cv + h * dv + e] = s * c;
        }
    }
  return y;
}

describe('spikeLinearAttention', () => {
  const dims = { l: 6, n: 5, m: 7, c: 16, cv: 24, heads: 2 };
  const lead = [2, 3];

  it('is q·(kᵀv)·fl32(head_dim^−0.5)·2 per head, bit-exact on spikes', async () => {
    const qv = spikes(dims.l * dims.n * dims.c, 1);
    const kvals = spikes(dims.l * dims.m * dims.c, 2);
    const vv = spikes(dims.l * dims.m * dims.cv, 3);
    const q = tf.tensor(qv, [...lead, dims.n, dims.c]);
    const k = tf.tensor(kvals, [...lead, dims.m, dims.c]);
    const v = tf.tensor(vv, [...lead, dims.m, dims.cv]);
    const y = spikeLinearAttention(q, k, v, { numHeads: dims.heads });
    expect(y.shape).toEqual([...lead, dims.n, dims.cv]);
    // The products are exact; the result is fl32(fl32(x·fl32(8^−0.5))·2).
    const exact = naive(qv, kvals, vv, dims, 1);
    const s = Math.fround(8 ** -0.5);
    const expected = Float32Array.from(exact, (x) => Math.fround(Math.fround(x * s) * 2));
    expect(Array.from(await y.data())).toEqual(Array.from(expected));
    await expectNoLeak(() => spikeLinearAttention(q, k, v, { numHeads: dims.heads }));
    tf.dispose([q, k, v, y]);
  });

  it('splits into memory kᵀv [..., heads, dk, dv] and a query of it', async () => {
    const q = tf.tensor(spikes(dims.l * dims.n * dims.c, 4), [...lead, dims.n, dims.c]);
    const k = tf.tensor(spikes(dims.l * dims.m * dims.c, 5), [...lead, dims.m, dims.c]);
    const v = tf.tensor(spikes(dims.l * dims.m * dims.cv, 6), [...lead, dims.m, dims.cv]);
    const kv = linearAttentionMemory(k, v, { numHeads: 2 });
    expect(kv.shape).toEqual([...lead, 2, 8, 12]);
    // kv[0, 0, h=1, a=3, e=5] = Σ_j k[j, 8 + 3] · v[j, 12 + 5]
    const kd = await k.data();
    const vd = await v.data();
    let want = 0;
    for (let j = 0; j < dims.m; j++) want += kd[j * 16 + 11]! * vd[j * 24 + 17]!;
    const kvd = await kv.data();
    expect(kvd[1 * 96 + 3 * 12 + 5]).toBe(want);
    const a = queryLinearAttention(q, kv, { numHeads: 2 });
    const b = spikeLinearAttention(q, k, v, { numHeads: 2 });
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([q, k, v, kv, a, b]);
  });

  it('takes scale and gain', async () => {
    const q = tf.ones([1, 2, 2]);
    const k = tf.ones([1, 3, 2]);
    const v = tf.ones([1, 3, 2]);
    const y = spikeLinearAttention(q, k, v, { numHeads: 1, scale: 0.5, gain: 3 });
    expect(Array.from(await y.data())).toEqual([9, 9, 9, 9]); // 2·3 · 0.5 · 3
    tf.dispose([q, k, v, y]);
  });

  it('has the analytic gradients of a trilinear form', async () => {
    const d = { l: 2, n: 3, m: 4, c: 4, cv: 6, heads: 2 };
    const q = tf.randomNormal([2, d.n, d.c], 0, 1, 'float32', 1);
    const k = tf.randomNormal([2, d.m, d.c], 0, 1, 'float32', 2);
    const v = tf.randomNormal([2, d.m, d.cv], 0, 1, 'float32', 3);
    const r = tf.randomNormal([2, d.n, d.cv], 0, 1, 'float32', 4);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(spikeLinearAttention(a, b, c, { numHeads: 2 }), r));
    const [gq, gk, gv] = tf.grads(f)([q, k, v]);
    const [qd, kd, vd, rd] = (await Promise.all([q.data(), k.data(), v.data(), r.data()])) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const s = Math.fround(2 ** -0.5) * 2;
    // L = s·Σ r ⊙ q(kᵀv): dL/dq = s·r (kᵀv)ᵀ, dL/dk = s·v (qᵀ r)ᵀ, dL/dv = s·k (qᵀ r)
    const dk = d.c / d.heads;
    const dv = d.cv / d.heads;
    const wq = new Float64Array(qd.length);
    const wk = new Float64Array(kd.length);
    const wv = new Float64Array(vd.length);
    for (let b = 0; b < d.l; b++)
      for (let h = 0; h < d.heads; h++) {
        const Q = (i: number, a: number) => qd[(b * d.n + i) * d.c + h * dk + a]!;
        const K = (j: number, a: number) => kd[(b * d.m + j) * d.c + h * dk + a]!;
        const V = (j: number, e: number) => vd[(b * d.m + j) * d.cv + h * dv + e]!;
        const R = (i: number, e: number) => rd[(b * d.n + i) * d.cv + h * dv + e]!;
        for (let i = 0; i < d.n; i++)
          for (let a = 0; a < dk; a++)
            for (let e = 0; e < dv; e++)
              for (let j = 0; j < d.m; j++) {
                wq[(b * d.n + i) * d.c + h * dk + a]! += s * R(i, e) * K(j, a) * V(j, e);
                wk[(b * d.m + j) * d.c + h * dk + a]! += s * V(j, e) * Q(i, a) * R(i, e);
                wv[(b * d.m + j) * d.cv + h * dv + e]! += s * K(j, a) * Q(i, a) * R(i, e);
              }
      }
    expectClose(await gq!.data(), wq, 1e-4, 'dL/dq');
    expectClose(await gk!.data(), wk, 1e-4, 'dL/dk');
    expectClose(await gv!.data(), wv, 1e-4, 'dL/dv');
    await expectNoLeak(() => tf.grads(f)([q, k, v]));
    tf.dispose([q, k, v, r, gq!, gk!, gv!]);
  });

  it('records kᵀv and q·(kᵀv) under the label', () => {
    const q = tf.ones([2, 3, 4]);
    const k = tf.ones([2, 5, 4]);
    const v = tf.ones([2, 5, 8]);
    const records: OpRecord[] = [];
    const y = withOpRecorder({ record: (r) => records.push(r) }, () =>
      spikeLinearAttention(q, k, v, { numHeads: 2, label: 'block3.0.attn' }),
    );
    expect(records.map((r) => [r.kind, r.path, r.outputShape])).toEqual([
      ['matmul', 'block3.0.attn.kv', [4, 2, 4]],
      ['matmul', 'block3.0.attn.qkv', [4, 3, 4]],
    ]);
    tf.dispose([q, k, v, y]);
  });

  it('throws typed errors naming the function for bad shapes and options', () => {
    const q = tf.ones([2, 3, 4]);
    const k = tf.ones([2, 5, 4]);
    const v = tf.ones([2, 5, 8]);
    const t = [q, k, v];
    expect(() => spikeLinearAttention(q, k, v, { numHeads: 3 })).toThrow(
      /spikeLinearAttention: the 4 channels of q/,
    );
    expect(() => spikeLinearAttention(q, k, v, { numHeads: 0 })).toThrow(ConfigError);
    const k2 = tf.ones([3, 5, 4]);
    t.push(k2);
    expect(() => spikeLinearAttention(q, k2, v, { numHeads: 2 })).toThrow(ShapeError);
    expect(() => spikeLinearAttention(q, k2, v, { numHeads: 2 })).toThrow(/same leading dimensions/);
    const v2 = tf.ones([2, 6, 8]);
    t.push(v2);
    expect(() => linearAttentionMemory(k, v2, { numHeads: 2 })).toThrow(/same number of tokens/);
    const kv = linearAttentionMemory(k, v, { numHeads: 2 });
    t.push(kv);
    expect(() => queryLinearAttention(q, kv, { numHeads: 1 })).toThrow(
      /expected kv of shape \[\.\.\., 1, 4, dv\]/,
    );
    expect(() => queryLinearAttention(q, kv, { numHeads: 2, scale: Number.NaN })).toThrow(ConfigError);
    const q1 = tf.ones([4]);
    t.push(q1);
    expect(() => spikeLinearAttention(q1, k, v, { numHeads: 2 })).toThrow(/rank ≥ 2/);
    tf.dispose(t);
  });
});
