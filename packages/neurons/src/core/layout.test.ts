import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from './errors';
import { fromTorchLayout, type TorchLayout, toTorchLayout, torchShapeOf } from './layout';

const cases: { layout: TorchLayout; native: number[]; torch: number[] }[] = [
  { layout: 'plain', native: [5, 3], torch: [5, 3] },
  { layout: 'oihw', native: [3, 2, 4, 6], torch: [6, 4, 3, 2] },
  { layout: 'depthwise', native: [3, 3, 4, 2], torch: [8, 1, 3, 3] },
  { layout: 'conv1d', native: [1, 4, 6], torch: [6, 4, 1] },
  { layout: 'linear', native: [4, 6], torch: [6, 4] },
];

describe('torch layouts', () => {
  for (const c of cases) {
    it(`${c.layout}: maps ${JSON.stringify(c.torch)} <-> ${JSON.stringify(c.native)} and round-trips`, async () => {
      expect(torchShapeOf(c.native, c.layout)).toEqual(c.torch);
      const t = tf.reshape(
        tf.range(
          0,
          c.torch.reduce((a, b) => a * b, 1),
        ),
        c.torch,
      );
      const n = fromTorchLayout(t, c.layout, c.native);
      expect(n.shape).toEqual(c.native);
      const back = toTorchLayout(n, c.layout);
      expect(Array.from(await back.data())).toEqual(Array.from(await t.data()));
      tf.dispose([t, n, back]);
    });
  }

  it('places torch element [o, i, y, x] at native [y, x, i, o] for OIHW', async () => {
    const t = tf.reshape(tf.range(0, 24), [2, 3, 2, 2]);
    const n = fromTorchLayout(t, 'oihw', [2, 2, 3, 2]);
    const tv = (await t.array()) as number[][][][];
    const nv = (await n.array()) as number[][][][];
    expect(nv[1]?.[0]?.[2]?.[1]).toBe(tv[1]?.[2]?.[1]?.[0]);
    tf.dispose([t, n]);
  });

  it('maps depthwise output channel c*m + j to native [.., c, j]', async () => {
    const t = tf.reshape(tf.range(0, 6), [6, 1, 1, 1]);
    const n = fromTorchLayout(t, 'depthwise', [1, 1, 3, 2]);
    expect(await n.array()).toEqual([
      [
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
      ],
    ]);
    tf.dispose([t, n]);
  });

  it('names the tensor and both shapes on a mismatch', () => {
    const t = tf.zeros([6, 5]);
    expect(() => fromTorchLayout(t, 'linear', [4, 6], 'fc.weight')).toThrow(ShapeError);
    expect(() => fromTorchLayout(t, 'linear', [4, 6], 'fc.weight')).toThrow(
      'fc.weight: expected torch shape [6, 4] (linear), got [6, 5]',
    );
    t.dispose();
  });
});
