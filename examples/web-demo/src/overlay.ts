import type { Box } from 'spiketrack';
import type { ScoreHeat } from './session';

/** A perceptual dark-to-bright ramp (black → purple → orange → yellow) for the score map. */
function heatColor(v: number): [number, number, number] {
  const t = Math.max(0, Math.min(1, v));
  const stops: [number, number, number, number][] = [
    [0, 0, 0, 4],
    [0.3, 87, 16, 110],
    [0.6, 229, 92, 48],
    [1, 252, 255, 164],
  ];
  for (let i = 1; i < stops.length; i++) {
    const [t1, r1, g1, b1] = stops[i] as [number, number, number, number];
    if (t <= t1) {
      const [t0, r0, g0, b0] = stops[i - 1] as [number, number, number, number];
      const f = (t - t0) / (t1 - t0);
      return [r0 + (r1 - r0) * f, g0 + (g1 - g0) * f, b0 + (b1 - b0) * f];
    }
  }
  return [252, 255, 164];
}

/** The score map as an F × F image, normalized to its maximum. */
function heatImage(heat: ScoreHeat, alpha: number): ImageData {
  const F = heat.size;
  let max = 0;
  for (const v of heat.values) max = Math.max(max, v);
  const img = new ImageData(F, F);
  for (let i = 0; i < F * F; i++) {
    const v = max > 0 ? (heat.values[i] as number) / max : 0;
    const [r, g, b] = heatColor(v);
    img.data[i * 4] = r;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = b;
    img.data[i * 4 + 3] = Math.round(alpha * 255 * (0.25 + 0.75 * v));
  }
  return img;
}

const scratch = document.createElement('canvas');

function drawHeat(
  ctx: CanvasRenderingContext2D,
  heat: ScoreHeat,
  x: number,
  y: number,
  size: number,
  alpha: number,
) {
  scratch.width = heat.size;
  scratch.height = heat.size;
  scratch.getContext('2d')?.putImageData(heatImage(heat, alpha), 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, x, y, size, size);
  ctx.restore();
}

function strokeBox(
  ctx: CanvasRenderingContext2D,
  box: Box,
  color: string,
  width: number,
  dash: number[] = [],
) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.strokeRect(box[0], box[1], box[2], box[3]);
  ctx.restore();
}

/** What the stage canvas shows on top of the frame. */
export interface StageOverlay {
  box?: Box | null;
  truth?: Box | null;
  /** The box being drawn (before the tracker starts). */
  pending?: Box | null;
  heat?: ScoreHeat | null;
  label?: string | null;
}

/** Draws the frame and its overlays; the canvas is the frame's size (CSS scales it). */
export function drawStage(canvas: HTMLCanvasElement, image: ImageData, o: StageOverlay): void {
  if (canvas.width !== image.width || canvas.height !== image.height) {
    canvas.width = image.width;
    canvas.height = image.height;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(image, 0, 0);
  const line = Math.max(2, Math.round(image.width / 320));
  if (o.heat) {
    const r = o.heat.region;
    drawHeat(ctx, o.heat, r.x, r.y, r.size, 0.45);
    strokeBox(ctx, [r.x, r.y, r.size, r.size], 'rgba(255,255,255,0.6)', 1, [4, 4]);
  }
  if (o.truth) strokeBox(ctx, o.truth, '#7fd3ff', line, [6, 4]);
  if (o.pending) strokeBox(ctx, o.pending, '#ffe14d', line, [8, 4]);
  if (o.box) {
    strokeBox(ctx, o.box, '#39ff7a', line + 1);
    if (o.label) {
      const fs = Math.max(12, Math.round(image.width / 40));
      ctx.font = `600 ${fs}px system-ui, sans-serif`;
      const tw = ctx.measureText(o.label).width;
      const x = Math.max(0, Math.min(o.box[0], image.width - tw - 8));
      const y = o.box[1] > fs + 6 ? o.box[1] - fs - 6 : o.box[1] + o.box[3] + 2;
      ctx.fillStyle = 'rgba(0,0,0,0.65)';
      ctx.fillRect(x, y, tw + 8, fs + 6);
      ctx.fillStyle = '#39ff7a';
      ctx.fillText(o.label, x + 4, y + fs);
    }
  }
}

/** The score map panel: the whole F × F response, nearest-neighbour upscaled. */
export function drawHeatPanel(canvas: HTMLCanvasElement, heat: ScoreHeat | null): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (heat) drawHeat(ctx, heat, 0, 0, canvas.width, 1);
}
