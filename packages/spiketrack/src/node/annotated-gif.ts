/**
 * Annotated animated GIFs of tracking runs: each frame downscaled by an integer factor (area
 * mean), boxes (`drawBox`) and a line of text drawn in pure colours, then quantized to a fixed
 * 6×6×6 colour cube with 4×4 ordered dithering: fast (no per-frame palette search), the same
 * palette for every frame, and the pure colours (corners of the cube) stay exact. gifenc encodes.
 */
import type * as gifenc from 'gifenc';
import { gifencApi } from './gifenc-api';
import { ConfigError } from '@spiketrack/neurons';
import { drawBox } from '../frames/draw-box';
import type { RgbImage } from '../frames/rgb-image';
import type { Box } from '../tracker/box';

/** Colours that boxes and text can be drawn in (corners of the colour cube, so exact in the GIF). */
export const GIF_COLORS = Object.freeze({
  green: [0, 255, 0],
  red: [255, 0, 0],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
  white: [255, 255, 255],
  black: [0, 0, 0],
} as const);

/** A name of {@link GIF_COLORS}. */
export type AnnotationColor = keyof typeof GIF_COLORS;

/** The palette: index r·36 + g·6 + b is (51r, 51g, 51b), then 40 unused entries. */
function cubePalette(): number[][] {
  const p: number[][] = [];
  for (let r = 0; r < 6; r++)
    for (let g = 0; g < 6; g++) for (let b = 0; b < 6; b++) p.push([r * 51, g * 51, b * 51]);
  while (p.length < 256) p.push([0, 0, 0]);
  return p;
}

const BAYER4 = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5].map((v) => (v + 0.5) / 16);

/**
 * 3×5 glyphs, one string of 15 bits per character (rows top to bottom, '1' = ink), for the
 * characters an annotation line needs.
 */
const GLYPHS: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  '-': '000000111000000',
  ':': '000010000010000',
  ' ': '000000000000000',
  A: '010101111101101',
  B: '110101110101110',
  C: '011100100100011',
  E: '111100110100111',
  F: '111100110100100',
  G: '011100101101011',
  I: '111010010010111',
  L: '100100100100111',
  M: '101111111101101',
  N: '110101101101101',
  O: '010101101101010',
  P: '110101110100100',
  R: '110101110101101',
  S: '011100010001110',
  T: '111010010010010',
  U: '101101101101111',
};

/** One box to draw, `[x, y, w, h]` in the original frame's pixels. */
export interface GifBox {
  readonly box: Box;
  readonly color: AnnotationColor;
}

/** One run of text to draw at the top left, left to right. */
export interface GifText {
  readonly text: string;
  readonly color: AnnotationColor;
}

/** Options of {@link AnnotatedGif}. */
export interface AnnotatedGifOptions {
  /** Integer downscale factor: each GIF pixel is the mean of `scale × scale` frame pixels (default 1). */
  readonly scale?: number;
  /** Frame duration in milliseconds (default 100, i.e. 10 fps). */
  readonly delay?: number;
}

/**
 * Builds an animated GIF frame by frame.
 *
 * @example
 * const gif = new AnnotatedGif(640, 480, { scale: 2 });
 * gif.addFrame(frame, [{ box: truth, color: 'green' }, { box: predicted, color: 'red' }], [{ text: '12', color: 'white' }]);
 * await writeFile('run.gif', gif.finish());
 */
export class AnnotatedGif {
  readonly width: number;
  readonly height: number;
  private readonly scale: number;
  private readonly delay: number;
  private readonly stream: gifenc.GifEncoderStream;
  private readonly palette = cubePalette();
  private frames = 0;
  private finished = false;

  constructor(
    readonly frameWidth: number,
    readonly frameHeight: number,
    options: AnnotatedGifOptions = {},
  ) {
    this.scale = options.scale ?? 1;
    this.delay = options.delay ?? 100;
    if (!Number.isInteger(this.scale) || this.scale < 1) {
      throw new ConfigError(`AnnotatedGif: scale must be a positive integer, got ${this.scale}`);
    }
    this.width = Math.floor(frameWidth / this.scale);
    this.height = Math.floor(frameHeight / this.scale);
    if (this.width < 1 || this.height < 1) {
      throw new ConfigError(
        `AnnotatedGif: a ${frameWidth}×${frameHeight} frame at scale 1/${this.scale} is empty`,
      );
    }
    this.stream = gifencApi().GIFEncoder();
  }

  /** Number of frames added so far. */
  get length(): number {
    return this.frames;
  }

  /** Adds one frame with its boxes and text. */
  addFrame(image: RgbImage, boxes: readonly GifBox[] = [], text: readonly GifText[] = []): void {
    if (this.finished) throw new ConfigError('AnnotatedGif: addFrame after finish()');
    if (image.width !== this.frameWidth || image.height !== this.frameHeight) {
      throw new ConfigError(
        `AnnotatedGif: frame is ${image.width}×${image.height}, expected ${this.frameWidth}×${this.frameHeight}`,
      );
    }
    let small = this.downscale(image);
    const s = this.scale;
    for (const { box, color } of boxes) {
      if (!box.every(Number.isFinite)) continue;
      small = drawBox(small, [box[0] / s, box[1] / s, box[2] / s, box[3] / s], { color: GIF_COLORS[color] });
    }
    this.drawText(small.data, text);
    const { width: w, height: h } = this;
    const index = new Uint8Array(w * h);
    const d = small.data;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const t = BAYER4[(y & 3) * 4 + (x & 3)] as number;
        const p = (y * w + x) * 3;
        const q = (v: number) => Math.min(5, Math.floor(v / 51 + t));
        index[y * w + x] = q(d[p] as number) * 36 + q(d[p + 1] as number) * 6 + q(d[p + 2] as number);
      }
    }
    this.stream.writeFrame(index, w, h, { palette: this.palette, delay: this.delay, repeat: 0 });
    this.frames++;
  }

  /** Ends the GIF and returns its bytes. */
  finish(): Uint8Array {
    if (!this.finished) {
      this.stream.finish();
      this.finished = true;
    }
    return this.stream.bytes();
  }

  /** The frame reduced by the integer factor `scale`, each pixel the mean of its block. */
  private downscale(image: RgbImage): RgbImage {
    const { width: w, height: h, scale: s } = this;
    if (s === 1) return image;
    const out = new Uint8Array(w * h * 3);
    const src = image.data;
    const n = s * s;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let j = 0; j < s; j++) {
          let p = ((y * s + j) * image.width + x * s) * 3;
          for (let i = 0; i < s; i++, p += 3) {
            r += src[p] as number;
            g += src[p + 1] as number;
            b += src[p + 2] as number;
          }
        }
        const o = (y * w + x) * 3;
        out[o] = Math.round(r / n);
        out[o + 1] = Math.round(g / n);
        out[o + 2] = Math.round(b / n);
      }
    }
    return { width: w, height: h, data: out };
  }

  /** Text at the top left on a black band (glyphs doubled from 240 px wide); unknown characters are spaces. */
  private drawText(data: Uint8Array, runs: readonly GifText[]): void {
    if (!runs.length) return;
    const { width: w, height: h } = this;
    const k = w >= 240 ? 2 : 1;
    const put = (x: number, y: number, c: readonly number[]) => {
      if (x >= w || y >= h) return;
      data.set(c, (y * w + x) * 3);
    };
    const chars = runs.reduce((n, r) => n + r.text.length, 0);
    const bandW = Math.min(w, (chars * 4 + 1) * k + 2);
    for (let y = 0; y < 7 * k; y++) for (let x = 0; x < bandW; x++) put(x, y, GIF_COLORS.black);
    let cx = k + 1;
    for (const run of runs) {
      const c = GIF_COLORS[run.color];
      for (const ch of run.text.toUpperCase()) {
        const glyph = GLYPHS[ch] ?? '';
        for (let g = 0; g < glyph.length; g++) {
          if (glyph[g] !== '1') continue;
          const gx = g % 3;
          const gy = (g - gx) / 3;
          for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) put(cx + gx * k + i, k + gy * k + j, c);
        }
        cx += 4 * k;
      }
    }
  }
}
