import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from './errors';
import { formatShape } from './shape';

/**
 * How a parameter is laid out in PyTorch, so that it can be converted to and from our NHWC
 * layout once, at load and export time.
 *
 * | layout      | torch                  | native (ours)           |
 * |-------------|------------------------|-------------------------|
 * | `plain`     | any                    | the same                |
 * | `oihw`      | `[O, I/g, kh, kw]`     | `[kh, kw, I/g, O]`      |
 * | `depthwise` | `[C·m, 1, kh, kw]`     | `[kh, kw, C, m]`        |
 * | `conv1d`    | `[O, I, k]`            | `[k, I, O]`             |
 * | `linear`    | `[O, I]`               | `[I, O]`                |
 */
export type TorchLayout = 'plain' | 'oihw' | 'depthwise' | 'conv1d' | 'linear';

export const TORCH_LAYOUTS: readonly TorchLayout[] = ['plain', 'oihw', 'depthwise', 'conv1d', 'linear'];

/** The torch shape of a native tensor of the given layout. */
export function torchShapeOf(nativeShape: readonly number[], layout: TorchLayout): number[] {
  const s = nativeShape;
  switch (layout) {
    case 'plain':
      return [...s];
    case 'oihw':
      return [s[3]!, s[2]!, s[0]!, s[1]!];
    case 'depthwise':
      return [s[2]! * s[3]!, 1, s[0]!, s[1]!];
    case 'conv1d':
      return [s[2]!, s[1]!, s[0]!];
    case 'linear':
      return [s[1]!, s[0]!];
    default:
      throw new ConfigError(`unknown torch layout '${layout as string}'`);
  }
}

const RANK: Record<TorchLayout, number | null> = { plain: null, oihw: 4, depthwise: 4, conv1d: 3, linear: 2 };

/**
 * Converts a torch-layout tensor to our native layout. `nativeShape` (the parameter's shape) is
 * needed for depthwise weights, whose channel multiplier cannot be read off the torch shape.
 * Returns a new tensor; the caller owns it.
 */
export function fromTorchLayout(
  t: tf.Tensor,
  layout: TorchLayout,
  nativeShape: readonly number[],
  key = 'tensor',
): tf.Tensor {
  const rank = RANK[layout];
  const expected = torchShapeOf(nativeShape, layout);
  if (
    (rank !== null && t.rank !== rank) ||
    t.shape.some((d, i) => d !== expected[i]) ||
    t.rank !== expected.length
  ) {
    throw new ShapeError(
      `${key}: expected torch shape ${formatShape(expected)} (${layout}), got ${formatShape(t.shape)}`,
    );
  }
  return tf.tidy(() => {
    switch (layout) {
      case 'plain':
        return tf.clone(t);
      case 'oihw':
        return tf.transpose(t, [2, 3, 1, 0]);
      case 'depthwise': {
        const [kh, kw, c, m] = nativeShape as [number, number, number, number];
        return tf.transpose(tf.reshape(t, [c, m, kh, kw]), [2, 3, 0, 1]);
      }
      case 'conv1d':
        return tf.transpose(t, [2, 1, 0]);
      case 'linear':
        return tf.transpose(t, [1, 0]);
    }
  });
}

/** Converts a native tensor to torch layout. Returns a new tensor; the caller owns it. */
export function toTorchLayout(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'plain':
        return tf.clone(t);
      case 'oihw':
        return tf.transpose(t, [3, 2, 0, 1]);
      case 'depthwise': {
        const [kh, kw, c, m] = t.shape as [number, number, number, number];
        return tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
      }
      case 'conv1d':
        return tf.transpose(t, [2, 1, 0]);
      case 'linear':
        return tf.transpose(t, [1, 0]);
    }
  });
}
