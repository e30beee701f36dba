/** Frame conversion: tensors of every accepted layout and dtype, pixel data, and clear errors. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../../../../test-support/helpers';
import { FrameError } from './frame-error';
import { toRgbImage } from './to-rgb';

describe('toRgbImage', () => {
  it('converts RGB, gray, RGBA and batched tensors, rounding floats', async () => {
    const rgb = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3], 'int32');
    expect(await toRgbImage(rgb)).toEqual({ width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) });
    const f = tf.tensor4d([0.4, 1.6, 254.5, 9, 9, 9], [1, 1, 2, 3]);
    expect(Array.from((await toRgbImage(f)).data)).toEqual([0, 2, 255, 9, 9, 9]);
    const gray = tf.tensor2d([7, 8], [1, 2]);
    expect(Array.from((await toRgbImage(gray)).data)).toEqual([7, 7, 7, 8, 8, 8]);
    const rgba = tf.tensor3d([1, 2, 3, 255, 4, 5, 6, 0], [1, 2, 4], 'int32');
    expect(Array.from((await toRgbImage(rgba)).data)).toEqual([1, 2, 3, 4, 5, 6]);
    await expectNoLeak(() => toRgbImage(rgb));
    tf.dispose([rgb, f, gray, rgba]);
  });

  it('converts pixel data: ImageData-like RGBA, gray bytes, RGB images', async () => {
    const imageData = { width: 1, height: 2, data: Uint8ClampedArray.from([9, 8, 7, 255, 6, 5, 4, 128]) };
    expect(Array.from((await toRgbImage(imageData)).data)).toEqual([9, 8, 7, 6, 5, 4]);
    const g = await toRgbImage({ width: 2, height: 1, data: Uint8Array.from([3, 200]) });
    expect(Array.from(g.data)).toEqual([3, 3, 3, 200, 200, 200]);
    const img = { width: 1, height: 1, data: Uint8Array.from([1, 2, 3]) };
    expect(await toRgbImage(img)).toEqual(img);
  });

  it('rejects what it cannot convert, naming the problem', async () => {
    const bad = async (frame: unknown): Promise<Error> =>
      toRgbImage(frame as tf.Tensor, 'frame 7').then(
        () => new Error('no error was thrown'),
        (e: unknown) => e as Error,
      );
    const nan = tf.tensor3d([1, Number.NaN, 3], [1, 1, 3]);
    const big = tf.tensor3d([1, 2, 256], [1, 1, 3]);
    const small01 = tf.tensor3d([0.5, 0.5, -0.5], [1, 1, 3]);
    const five = tf.zeros([2, 2, 5]);
    const bool = tf.tensor3d([true, false, true], [1, 1, 3], 'bool');
    expect(await bad(nan)).toBeInstanceOf(FrameError);
    expect((await bad(nan)).message).toMatch(/frame 7: holds a non-finite value \(NaN\) at index 1/);
    expect((await bad(big)).message).toMatch(/expected pixel values in 0\.\.255, got 256/);
    expect((await bad(small01)).message).toMatch(/got -0\.5/);
    expect((await bad(five)).message).toMatch(/expected a tensor \[H, W, 3\].*got \[2, ?2, ?5\]/);
    expect((await bad(bool)).message).toMatch(/int32 or float32 tensor, got bool/);
    expect((await bad({ width: 2, height: 2, data: new Uint8Array(5) })).message).toMatch(
      /not 1, 3 or 4 channels/,
    );
    expect((await bad({ width: 0, height: 2, data: new Uint8Array(0) })).message).toMatch(
      /positive integers/,
    );
    expect((await bad({ videoWidth: 640 })).message).toMatch(/needs a browser/);
    expect((await bad(42)).message).toMatch(/expected a tensor, pixel data or a browser image source/);
    tf.dispose([nan, big, small01, five, bool]);
  });
});
