import { FrameError } from './frame-error';

/**
 * A decoded frame on the CPU: 8-bit RGB, row-major, channels last (`data[(y·width + x)·3 + c]`),
 * the layout of an OpenCV image after `cv2.cvtColor(..., cv2.COLOR_BGR2RGB)`, which is what the
 * reference tracker crops (`lib/test/evaluation/tracker.py` reads frames as RGB uint8).
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** `height · width · 3` bytes. */
  readonly data: Uint8Array;
}

/** Checks that `image` is a well-formed {@link RgbImage} and returns it. */
export function assertRgbImage(image: RgbImage, where = 'frame'): RgbImage {
  const { width, height, data } = image as Partial<RgbImage>;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    (width as number) < 1 ||
    (height as number) < 1
  ) {
    throw new FrameError(`${where}: width and height must be positive integers, got ${width} × ${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== (width as number) * (height as number) * 3) {
    throw new FrameError(
      `${where}: expected ${height} · ${width} · 3 = ${(width as number) * (height as number) * 3} RGB bytes, got ${
        data instanceof Uint8Array ? data.length : typeof data
      }`,
    );
  }
  return image;
}

/**
 * Packs interleaved 8-bit pixels with `channels` channels (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA)
 * into an {@link RgbImage}: gray is replicated to R, G and B, alpha is dropped (not composited).
 */
export function rgbFromInterleaved(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  where = 'frame',
): RgbImage {
  if (![1, 2, 3, 4].includes(channels)) {
    throw new FrameError(
      `${where}: expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels, got ${channels}`,
    );
  }
  const n = width * height;
  if (src.length !== n * channels) {
    throw new FrameError(
      `${where}: expected ${height} · ${width} · ${channels} = ${n * channels} values, got ${src.length}`,
    );
  }
  if (channels === 3 && src instanceof Uint8Array) return { width, height, data: src };
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (channels <= 2) {
      const g = src[i * channels] as number;
      data[i * 3] = g;
      data[i * 3 + 1] = g;
      data[i * 3 + 2] = g;
    } else {
      data[i * 3] = src[i * channels] as number;
      data[i * 3 + 1] = src[i * channels + 1] as number;
      data[i * 3 + 2] = src[i * channels + 2] as number;
    }
  }
  return { width, height, data };
}

/** The pixels of an {@link RgbImage} as RGBA bytes with alpha 255 (for encoders that take RGBA). */
export function rgbaFromRgb(image: RgbImage): Uint8Array {
  const { data } = image;
  const rgba = new Uint8Array((data.length / 3) * 4);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    rgba[j] = data[i] as number;
    rgba[j + 1] = data[i + 1] as number;
    rgba[j + 2] = data[i + 2] as number;
    rgba[j + 3] = 255;
  }
  return rgba;
}
