import { readFile, writeFile } from 'node:fs/promises';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { FrameError } from '../frames/frame-error';
import { type RgbImage, rgbaFromRgb, rgbFromInterleaved } from '../frames/rgb-image';

/** File extensions of the images {@link decodeImage} reads. */
export const IMAGE_EXTENSIONS = Object.freeze(['.jpg', '.jpeg', '.png'] as const);

const isPng = (b: Uint8Array) =>
  b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8;

/**
 * Decodes a JPEG (jpeg-js) or PNG (pngjs: any bit depth and colour type, 16-bit scaled to 8) to an
 * 8-bit {@link RgbImage}, recognised by its signature. Gray is replicated and alpha dropped.
 * Throws a {@link FrameError} naming `source` for anything else or a corrupt file.
 */
export function decodeImage(bytes: Uint8Array, source = 'image'): RgbImage {
  try {
    if (isPng(bytes)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return rgbFromInterleaved(png.data, png.width, png.height, 4, source);
    }
    if (isJpeg(bytes)) {
      const jpg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false });
      return rgbFromInterleaved(jpg.data, jpg.width, jpg.height, 3, source);
    }
  } catch (e) {
    if (e instanceof FrameError) throw e;
    throw new FrameError(`${source}: cannot decode the image: ${(e as Error).message}`);
  }
  throw new FrameError(`${source}: not a JPEG or PNG image (unrecognised signature)`);
}

/** Reads and decodes an image file ({@link decodeImage}). */
export async function readImageFile(path: string): Promise<RgbImage> {
  return decodeImage(await readFile(path), path);
}

/** Encodes an {@link RgbImage} as an 8-bit RGB PNG (pngjs). */
export function encodePng(image: RgbImage): Uint8Array {
  const { width, height } = image;
  const png = new PNG({ width, height, colorType: 2 });
  png.data.set(rgbaFromRgb(image));
  return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
}

/** Writes an {@link RgbImage} to a PNG file. */
export async function writePngFile(path: string, image: RgbImage): Promise<void> {
  await writeFile(path, encodePng(image));
}
