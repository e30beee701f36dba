// Synaptic operations of recorded matrix products (spike-driven attention: kᵀ·v, q·kv).
import { Identity, recordedMatMul } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../test-support/helpers';
import { bruteMatMul, randomCounts } from './brute.test-helper';
import { countOps } from './count';

/** `[batch][rows][cols]` from a flat row-major array. */
function nest(flat: ArrayLike<number>, batch: number, rows: number, cols: number): number[][][] {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: rows }, (_, i) =>
      Array.from({ length: cols }, (_, j) => flat[(b * rows + i) * cols + j]!),
    ),
  );
}
const transpose = (m: number[][][]): number[][][] => m.map((a) => a[0]!.map((_, j) => a.map((r) => r[j]!)));

/** Real values with no zero and off the 1/4 grid. */
const realValues = (n: number, seed: number) =>
  randomCounts(n, 7, seed, 1).map((v, i) => (i % 2 ? -v : v) + 0.3);

const root = new Identity();

describe('matmul ACs', () => {
  it('A spiking, B real: Σ count(A_ik) × N', async () => {
    const ca = randomCounts(2 * 3 * 4, 4, 1, 0.6);
    const a = tf.tensor3d(
      ca.map((v) => v / 4),
      [2, 3, 4],
    );
    const bv = realValues(2 * 4 * 5, 2);
    const b = tf.tensor3d(bv, [2, 4, 5]);
    const r = await countOps(root, () => recordedMatMul(a, b, { label: 'attn.qkv' }), { levels: 4 });
    const brute = bruteMatMul(nest(ca, 2, 3, 4), nest(bv, 2, 4, 5));
    const rate = ca.reduce((x, y) => x + y, 0) / ca.length;
    expect(r.layers[0]).toMatchObject({
      path: 'attn.qkv',
      kind: 'matmul',
      spiking: true,
      countScale: 4,
      denseMacs: brute.macs,
      macs: 0,
      acs: brute.aOnly,
      other: { spiking: false, rate: null, countScale: null },
      // memory traffic: no weights; A read as spikes, B as values; the [2, 3, 5] output written
      traffic: { weights: 0, spikes: 24, values: 40, outputs: 30 },
    });
    expect(r.layers[0]!.inputRate).toBeCloseTo(rate, 12);
    expect(r.layers[0]!.paperAcs).toBeCloseTo(brute.macs * rate, 8);
    tf.dispose([a, b]);
  });

  it('both spiking (kᵀ·v, transposeA): an AC only where B is non-zero, Σ count(A_ik)·[B_kj ≠ 0]', async () => {
    // k [2, M tokens = 6, 3], v [2, 6, 4]: A = kᵀ [2, 3, 6], B = v
    const ck = randomCounts(2 * 6 * 3, 4, 3, 0.5);
    const cv = randomCounts(2 * 6 * 4, 4, 4, 0.4);
    const k = tf.tensor3d(
      ck.map((v) => v / 4),
      [2, 6, 3],
    );
    const v = tf.tensor3d(
      cv.map((x) => x / 4),
      [2, 6, 4],
    );
    const r = await countOps(root, () => recordedMatMul(k, v, { transposeA: true, label: 'attn.kv' }), {
      levels: 4,
    });
    const brute = bruteMatMul(transpose(nest(ck, 2, 6, 3)), nest(cv, 2, 6, 4));
    expect(brute.both).toBeLessThan(brute.aOnly);
    const l = r.layers[0]!;
    expect(l).toMatchObject({ spiking: true, denseMacs: brute.macs, acs: brute.both, macs: 0 });
    expect(l.other).toMatchObject({ spiking: true, countScale: 4 });
    expect(l.other!.rate).toBeCloseTo(cv.reduce((x, y) => x + y, 0) / cv.length, 12);
    // paper: dense MACs × the mean count of the left (event) operand
    expect(l.paperAcs).toBeCloseTo((brute.macs * ck.reduce((x, y) => x + y, 0)) / ck.length, 8);
    tf.dispose([k, v]);
  });

  it('A real, B spiking (transposeB): Σ count(B_kj) × M', async () => {
    const av = realValues(3 * 4, 5);
    const cb = randomCounts(5 * 4, 1, 6, 0.5); // binary spikes, B stored as [N, K]
    const a = tf.tensor2d(av, [3, 4]);
    const b = tf.tensor2d(cb, [5, 4]);
    const r = await countOps(root, () => recordedMatMul(a, b, { transposeB: true }));
    const brute = bruteMatMul(nest(av, 1, 3, 4), transpose(nest(cb, 1, 5, 4)));
    expect(r.layers[0]).toMatchObject({
      path: 'matmul',
      spiking: true,
      acs: brute.bOnly,
      denseMacs: brute.macs,
      other: { spiking: true, countScale: 1 },
    });
    expect(r.layers[0]!.inputRate).toBeCloseTo(cb.reduce((x, y) => x + y, 0) / cb.length, 12);
    tf.dispose([a, b]);
  });

  it('broadcast batch: a rank-2 spiking A against a batch of B', async () => {
    const ca = randomCounts(3 * 4, 4, 7, 0.6);
    const cb = randomCounts(2 * 4 * 2, 4, 8, 0.5);
    const a = tf.tensor2d(
      ca.map((v) => v / 4),
      [3, 4],
    );
    const b = tf.tensor3d(
      cb.map((v) => v / 4),
      [2, 4, 2],
    );
    const r = await countOps(root, () => recordedMatMul(a, b), { levels: 4 });
    const aa = nest(ca, 1, 3, 4);
    const brute = bruteMatMul([aa[0]!, aa[0]!], nest(cb, 2, 4, 2));
    expect(r.layers[0]).toMatchObject({ denseMacs: brute.macs, acs: brute.both });
    tf.dispose([a, b]);
  });

  it('neither spiking: MACs', async () => {
    const a = tf.tensor3d(realValues(2 * 2 * 3, 9), [2, 2, 3]);
    const b = tf.tensor3d(realValues(2 * 3 * 2, 10), [2, 3, 2]);
    const r = await countOps(root, () => recordedMatMul(a, b));
    expect(r.layers[0]).toMatchObject({ spiking: false, acs: 0, paperAcs: 0, macs: 24, denseMacs: 24 });
    // an override makes B the driving spikes with an explicit scale
    const forced = await countOps(root, () => recordedMatMul(a, b), { inputs: { matmul: { other: 1 } } });
    expect(forced.layers[0]).toMatchObject({ spiking: true, other: { spiking: true, countScale: 1 } });
    await expectNoLeak(() => countOps(root, () => recordedMatMul(a, b), { levels: 4 }));
    tf.dispose([a, b]);
  });
});
