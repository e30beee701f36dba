import type { RgbImage } from '../frames/rgb-image';
import type { Box } from '../tracker/box';
import type { TrainingSequence } from './sampler';

/** How {@link movingSquare} draws its frames. */
export interface MovingSquareOptions {
  /** The box in frame 0, `[x, y, w, h]`; it moves by (1, ½) pixel per frame. */
  start: Box;
  /** The square's colour. */
  color: [number, number, number];
  /** The background's grey at (x, y), a diagonal texture. */
  background: (x: number, y: number) => number;
}

/** A coloured square drifting diagonally over a textured 96×80 background (a training sequence for tests). */
export function movingSquare(name: string, length: number, o: MovingSquareOptions): TrainingSequence {
  const [x0, y0, w, h] = o.start;
  const box = (i: number): Box => [x0 + i, y0 + i / 2, w, h];
  return {
    name,
    length,
    box,
    visible: () => true,
    frame: (i): RgbImage => {
      const W = 96;
      const H = 80;
      const data = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) data.fill(o.background(x, y), (y * W + x) * 3, (y * W + x) * 3 + 3);
      const [bx, by, bw, bh] = box(i).map(Math.round) as [number, number, number, number];
      for (let y = by; y < by + bh; y++)
        for (let x = bx; x < bx + bw; x++) data.set(o.color, (y * W + x) * 3);
      return { width: W, height: H, data };
    },
  };
}
