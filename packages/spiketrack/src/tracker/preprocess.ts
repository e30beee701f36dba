import * as tf from '@tensorflow/tfjs-core';
import type { RgbImage } from '../frames/rgb-image';

/** ImageNet mean and standard deviation (RGB), the reference's `Preprocessor` constants. */
export const IMAGENET_MEAN = Object.freeze([0.485, 0.456, 0.406] as const);
export const IMAGENET_STD = Object.freeze([0.229, 0.224, 0.225] as const);

const f32 = Math.fround;
let lut: Float32Array | null = null;

/**
 * The normalized value of every byte and channel (`lut[v·3 + c]`), computed as the reference's
 * `Preprocessor.process` (`lib/test/tracker/data_utils.py`) does in float32 torch:
 * `((v / 255.0) − mean[c]) / std[c]`, each operation rounded to float32.
 */
function normalizationTable(): Float32Array {
  if (!lut) {
    lut = new Float32Array(256 * 3);
    for (let v = 0; v < 256; v++) {
      for (let c = 0; c < 3; c++) {
        lut[v * 3 + c] = f32(
          f32(f32(v / 255) - f32(IMAGENET_MEAN[c] as number)) / f32(IMAGENET_STD[c] as number),
        );
      }
    }
  }
  return lut;
}

/** A crop's pixels normalized with the ImageNet statistics, channels last (see {@link normalizationTable}). */
export function normalizeCrop(crop: RgbImage): Float32Array {
  const table = normalizationTable();
  const src = crop.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    out[i] = table[(src[i] as number) * 3] as number;
    out[i + 1] = table[(src[i + 1] as number) * 3 + 1] as number;
    out[i + 2] = table[(src[i + 2] as number) * 3 + 2] as number;
  }
  return out;
}

/** A crop as the network's input: `[1, H, W, 3]` float32, normalized ({@link normalizeCrop}). */
export function cropToTensor(crop: RgbImage): tf.Tensor4D {
  return tf.tensor4d(normalizeCrop(crop), [1, crop.height, crop.width, 3], 'float32');
}
