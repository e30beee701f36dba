import { ConfigError, type OpRecord, ShapeError, withOpRecorder } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak } from '../../../test-support/helpers';
import { LinearSpikeAttention } from './attention';
import {
  expectedNhwc,
  loadUnitInto,
  randomizeParams,
  readUnit,
  timeFirstNhwc,
  unitTolerance,
} from './fixtures.test-helper';

describe('LinearSpikeAttention', () => {
  it('matches the reference ms_attention on both branches exactly', async () => {
    const unit = readUnit('ms_attention');
    const m = new LinearSpikeAttention({ dim: 64, numHeads: 8, lamdaRatio: 4, gridSize: 16 });
    await loadUnitInto(unit, m);
    for (const branch of ['template', 'search'] as const) {
      const x = timeFirstNhwc(unit, `in.${branch}`);
      const y = m.apply(x, branch);
      expect(y.shape).toEqual(x.shape);
      expectClose(
        await y.data(),
        await expectedNhwc(unit, `out.${branch}`),
        unitTolerance(unit),
        `out.${branch}`,
      );
      if (branch === 'search') await expectNoLeak(() => m.apply(x, branch));
      tf.dispose([x, y]);
    }
    m.dispose();
  });

  it('has the reference state-dict keys and torch shapes', () => {
    const unit = readUnit('ms_attention');
    const m = new LinearSpikeAttention({ dim: 64 });
    const shapes = m.stateShapes({ layout: 'torch' });
    const expected = Object.entries(unit.json.tensors).filter(([k]) => !/^(in|out|grad)\./.test(k));
    expect([...shapes.keys()].sort()).toEqual(expected.map(([k]) => k).sort());
    for (const [k, v] of expected) expect(shapes.get(k), k).toEqual(v.shape);
    m.dispose();
  });

  it('records both attention products for energy counting', async () => {
    const unit = readUnit('ms_attention');
    const m = new LinearSpikeAttention({ dim: 64 });
    await loadUnitInto(unit, m);
    const x = timeFirstNhwc(unit, 'in.search');
    const records = recordAll(() => m.apply(x, 'search'));
    const mm = records.filter((r) => r.kind === 'matmul');
    expect(mm.map((r) => r.path)).toEqual(['attn.kv', 'attn.qkv']);
    expect(mm[0]!.weightShape).toEqual([8, 256, 32]); // v: [T·B·heads, N, Cv/heads]
    expect(mm[1]!.outputShape).toEqual([8, 256, 32]);
    const convs = records.filter((r) => r.kind === 'conv2d').map((r) => r.path);
    expect(convs).toEqual(['q_conv.0', 'k_conv.0', 'v_conv.0', 'proj_conv.0']);
    x.dispose();
    m.dispose();
  });

  for (const branch of ['template', 'search'] as const) {
    it(`passes gradients to the ${branch} embeddings and every other parameter, without leaking`, async () => {
      const m = new LinearSpikeAttention({ dim: 8, numHeads: 2, gridSize: 3 });
      await randomizeParams(m, 11, 2);
      const x = tf.randomUniform([branch === 'search' ? 1 : 3, 2, 3, 3, 8], 0, 3, 'float32', 5);
      const r = tf.randomNormal(x.shape, 0, 1, 'float32', 6);
      const params = [...m.trainableParameters()];
      const run = () =>
        tf.variableGrads(
          () => tf.sum(tf.mul(m.apply(x, branch), r)) as tf.Scalar,
          params.map((p) => p[1]),
        );
      const { value, grads } = run();
      const unused = branch === 'search' ? /^t_pos_embeds/ : /^s_pos_embed|^t_pos_embeds\.3/;
      for (const [k, p] of params) {
        // T = 1 uses no decay; with T = 3 the first two logits of each neuron are used
        const zero = unused.test(k) || (branch === 'search' && k.endsWith('decay'));
        const g = grads[p.name];
        if (!g && zero) continue; // tfjs leaves out variables the loss does not depend on
        expect(g, k).toBeDefined();
        const v = await g!.data();
        expect(v.every(Number.isFinite), k).toBe(true);
        expect(
          v.some((e) => e !== 0),
          `${k}: gradient ${zero ? 'should be zero' : 'is zero'}`,
        ).toBe(!zero);
      }
      tf.dispose([value, grads]);
      await expectNoLeak(() => run(), 2);
      tf.dispose([x, r]);
      m.dispose();
    });
  }

  it('rejects bad branches, token counts and channel counts', () => {
    const m = new LinearSpikeAttention({ dim: 8, numHeads: 2, gridSize: 2 });
    const x = tf.zeros([1, 1, 2, 2, 8]);
    expect(() => m.apply(x, 'other' as never)).toThrow(ConfigError);
    const wrongN = tf.zeros([1, 1, 3, 2, 8]);
    expect(() => m.apply(wrongN, 'search')).toThrow(ShapeError);
    expect(() => m.apply(wrongN, 'search')).toThrow(/2×2 = 4 tokens.*H·W = 3·2 = 6/);
    const wrongC = tf.zeros([1, 1, 2, 2, 4]);
    expect(() => m.apply(wrongC, 'search')).toThrow(/expected input of shape \[T, B, H, W, 8\]/);
    expect(() => new LinearSpikeAttention({ dim: 10, numHeads: 4 })).toThrow(ConfigError);
    tf.dispose([x, wrongN, wrongC]);
    m.dispose();
  });

  it('adds t_pos_embeds[min(t, n − 1)] per template timestep and s_pos_embed to the search', async () => {
    const m = new LinearSpikeAttention({ dim: 2, numHeads: 1, gridSize: 1, templateEmbeds: 2 });
    m.loadStateDict(
      {
        s_pos_embed: tf.tensor([[[5], [6]]]),
        't_pos_embeds.0': tf.tensor([[[1], [2]]]),
        't_pos_embeds.1': tf.tensor([[[3], [4]]]),
      },
      { strict: false },
    );
    let seen: tf.Tensor | null = null;
    const off = m.head_spike.onForward((_m, inputs) => {
      seen?.dispose();
      seen = tf.keep(tf.clone(inputs[0] as tf.Tensor));
    });
    const x = tf.fill([3, 1, 1, 1, 2], 0.5);
    tf.dispose(m.apply(x, 'template'));
    expect(Array.from(await seen!.data())).toEqual([1.5, 2.5, 3.5, 4.5, 3.5, 4.5]);
    const xs = tf.fill([1, 2, 1, 1, 2], 0.5);
    tf.dispose(m.apply(xs, 'search'));
    expect(Array.from(await seen!.data())).toEqual([5.5, 6.5, 5.5, 6.5]);
    off();
    (seen as tf.Tensor | null)?.dispose();
    tf.dispose([x, xs]);
    m.dispose();
  });
});

function recordAll(fn: () => tf.Tensor): OpRecord[] {
  const records: OpRecord[] = [];
  const out = withOpRecorder({ record: (r) => records.push(r) }, fn);
  out.dispose();
  return records;
}
