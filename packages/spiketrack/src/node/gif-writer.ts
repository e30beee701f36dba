import { writeFile } from 'node:fs/promises';
import { type RgbImage, rgbaFromRgb } from '../frames/rgb-image';
import { gifencApi } from './gifenc-api';

/**
 * An animated GIF built frame by frame with gifenc (a 256-colour palette quantized per frame).
 * The encoded GIF grows in memory until {@link save}; for long videos prefer PNG frames.
 */
export class GifWriter {
  private readonly gif = gifencApi().GIFEncoder();
  private frames = 0;

  /** @param delayMs the delay between frames (default 40 ms, 25 fps). */
  constructor(private readonly delayMs = 40) {}

  /** Appends a frame. */
  add(image: RgbImage): void {
    const { width, height } = image;
    const rgba = rgbaFromRgb(image);
    const { quantize, applyPalette } = gifencApi();
    const palette = quantize(rgba, 256);
    this.gif.writeFrame(applyPalette(rgba, palette), width, height, {
      palette,
      delay: this.delayMs,
      repeat: 0,
    });
    this.frames++;
  }

  /** The number of frames added. */
  get length(): number {
    return this.frames;
  }

  /** Finishes the GIF and writes it to `path`. */
  async save(path: string): Promise<void> {
    this.gif.finish();
    await writeFile(path, this.gif.bytes());
  }
}
