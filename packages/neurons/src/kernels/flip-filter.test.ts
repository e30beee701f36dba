import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../../test-support/helpers';
import { flipFilter } from './flip-filter';

describe('flipFilter', () => {
  const shapes: [number, number, number, number][] = [
    [3, 3, 5, 7],
    [1, 1, 6, 4],
    [7, 7, 3, 1],
    [2, 5, 4, 3],
  ];
  for (const shape of shapes) {
    for (const swap of [true, false]) {
      it(`[${shape}] ${swap ? 'with channels swapped' : 'channels kept'}: equals reverse (+ transpose)`, async () => {
        const f = tf.randomUniform(shape, -1, 1, 'float32', 3) as tf.Tensor4D;
        const got = flipFilter(f, swap);
        const want = tf.tidy(() => {
          const r = tf.reverse(f, [0, 1]);
          return swap ? tf.transpose(r, [0, 1, 3, 2]) : r;
        });
        expect(got.shape).toEqual(want.shape);
        expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
        await expectNoLeak(() => flipFilter(f, swap));
        tf.dispose([f, got, want]);
      });
    }
  }
});
