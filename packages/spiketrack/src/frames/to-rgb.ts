import { formatShape } from '@spiketrack/neurons';
import * as tf from '@tensorflow/tfjs-core';
import { FrameError } from './frame-error';
import { type RgbImage, rgbFromInterleaved } from './rgb-image';

/**
 * Interleaved pixels: an {@link RgbImage}, a browser or `canvas` `ImageData` (RGBA), or any
 * `{ data, width, height }` with 1 (gray), 3 (RGB) or 4 (RGBA) 8-bit channels per pixel (the
 * number of channels is `data.length / (width · height)`).
 */
export interface PixelData {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/**
 * A browser image source read through `tf.browser.fromPixels`: `HTMLVideoElement` (the current
 * frame), `HTMLImageElement`, `HTMLCanvasElement`, `OffscreenCanvas`, `ImageBitmap`.
 */
export type BrowserPixelSource = Parameters<typeof tf.browser.fromPixels>[0];

/**
 * Anything the tracker takes as a frame:
 * - a tfjs tensor `[H, W, 3]` (also `[H, W]` / `[H, W, 1]` gray, `[H, W, 4]` RGBA, or with a leading
 *   batch of 1), int32 or float32 with values in 0..255 (floats are rounded to the nearest integer);
 * - {@link PixelData} (`ImageData`, an {@link RgbImage}, decoded JPEG/PNG pixels);
 * - a browser image source ({@link BrowserPixelSource}).
 *
 * Gray frames are replicated to RGB and alpha is dropped, as the reference reads every frame as
 * 3-channel RGB (`cv2.imread` + `cvtColor(BGR2RGB)`).
 */
export type FrameInput = tf.Tensor | PixelData | BrowserPixelSource;

function isPixelData(x: unknown): x is PixelData {
  const o = x as Partial<PixelData> | null;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.width === 'number' &&
    typeof o.height === 'number' &&
    (ArrayBuffer.isView(o.data) || Array.isArray(o.data))
  );
}

/** Whether this JavaScript environment can read browser image sources (a DOM or OffscreenCanvas). */
export function canReadBrowserPixels(): boolean {
  return typeof document !== 'undefined' || typeof OffscreenCanvas !== 'undefined';
}

/** Checks 8-bit values given as arbitrary numbers and packs them (rounding floats). */
function fromValues(
  values: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  where: string,
): RgbImage {
  if (!(values instanceof Uint8Array) && !(values instanceof Uint8ClampedArray)) {
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v))
        throw new FrameError(`${where}: holds a non-finite value (${v}) at index ${i}`);
      if (v < 0 || v > 255) {
        throw new FrameError(
          `${where}: expected pixel values in 0..255, got ${v} at index ${i}` +
            ' (frames are 8-bit images; scale 0..1 images by 255)',
        );
      }
      bytes[i] = Math.round(v);
    }
    return rgbFromInterleaved(bytes, width, height, channels, where);
  }
  return rgbFromInterleaved(values, width, height, channels, where);
}

async function fromTensor(t: tf.Tensor, where: string): Promise<RgbImage> {
  let shape = t.shape;
  if (shape.length === 4 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2) shape = [...shape, 1];
  const [h, w, c] = shape as [number, number, number];
  if (shape.length !== 3 || ![1, 2, 3, 4].includes(c)) {
    throw new FrameError(
      `${where}: expected a tensor [H, W, 3] (or [H, W], [H, W, 1], [H, W, 4], [1, H, W, C]), got ${formatShape(t.shape)}`,
    );
  }
  if (t.dtype !== 'int32' && t.dtype !== 'float32') {
    throw new FrameError(`${where}: expected an int32 or float32 tensor, got ${t.dtype}`);
  }
  const values = (await t.data()) as Float32Array | Int32Array;
  return fromValues(values, w, h, c, where);
}

/**
 * Converts a frame to an {@link RgbImage} on the CPU (the crop works on 8-bit pixels, as the
 * reference's OpenCV code). Throws a {@link FrameError} naming the problem for anything else:
 * a wrong rank or channel count, values outside 0..255, NaN, or a browser source outside a browser.
 * Creates no lasting tensors.
 */
export async function toRgbImage(frame: FrameInput, where = 'frame'): Promise<RgbImage> {
  if (frame instanceof tf.Tensor) return fromTensor(frame, where);
  if (isPixelData(frame)) {
    const { width, height, data } = frame;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new FrameError(`${where}: width and height must be positive integers, got ${width} × ${height}`);
    }
    const channels = data.length / (width * height);
    if (![1, 3, 4].includes(channels)) {
      throw new FrameError(
        `${where}: ${data.length} values for a ${width} × ${height} image is not 1, 3 or 4 channels per pixel`,
      );
    }
    return fromValues(data, width, height, channels, where);
  }
  if (frame && typeof frame === 'object') {
    if (!canReadBrowserPixels()) {
      throw new FrameError(
        `${where}: a browser image source (${frame.constructor?.name ?? 'object'}) needs a browser (tf.browser.fromPixels); in Node pass a tensor, { data, width, height } pixels, or read files with spiketrack/node`,
      );
    }
    const t = tf.browser.fromPixels(frame as BrowserPixelSource, 3);
    try {
      return await fromTensor(t, where);
    } finally {
      t.dispose();
    }
  }
  throw new FrameError(
    `${where}: expected a tensor, pixel data or a browser image source, got ${String(frame)}`,
  );
}
