import type { Box } from 'spiketrack';

/** Smallest box side accepted, in frame pixels. */
const MIN_SIDE = 4;

/**
 * Drawing the initial box on the stage canvas, with a mouse, a pen or a finger (pointer events),
 * or with the keyboard: arrows move the proposed box, Shift + arrows resize it, Enter confirms.
 */
export class BoxInput {
  private active = false;
  private start: [number, number] | null = null;
  private box: Box | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Called with the box while it changes (for drawing) and when it is confirmed. */
    private readonly onChange: (box: Box | null) => void,
    private readonly onConfirm: (box: Box) => void,
  ) {
    const opts = { signal: this.abort.signal };
    canvas.addEventListener('pointerdown', (e) => this.down(e), opts);
    canvas.addEventListener('pointermove', (e) => this.move(e), opts);
    canvas.addEventListener('pointerup', (e) => this.up(e), opts);
    canvas.addEventListener('pointercancel', () => this.cancelDrag(), opts);
    canvas.addEventListener('keydown', (e) => this.key(e), opts);
  }

  /** Starts asking for a box; proposes one in the middle of the frame for keyboard users. */
  begin(): void {
    this.active = true;
    const w = this.canvas.width;
    const h = this.canvas.height;
    const s = Math.round(Math.min(w, h) / 5);
    this.box = [Math.round(w / 2 - s / 2), Math.round(h / 2 - s / 2), s, s];
    this.onChange(this.box);
  }

  end(): void {
    this.active = false;
    this.start = null;
    this.box = null;
    this.onChange(null);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Pointer position in frame pixels (the canvas is scaled by CSS). */
  private point(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) * this.canvas.width) / r.width;
    const y = ((e.clientY - r.top) * this.canvas.height) / r.height;
    return [Math.max(0, Math.min(this.canvas.width, x)), Math.max(0, Math.min(this.canvas.height, y))];
  }

  private down(e: PointerEvent): void {
    if (!this.active || e.button !== 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.start = this.point(e);
  }

  private move(e: PointerEvent): void {
    if (!this.active || !this.start) return;
    const [x0, y0] = this.start;
    const [x1, y1] = this.point(e);
    this.box = [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)];
    this.onChange(this.box);
  }

  private up(e: PointerEvent): void {
    if (!this.active || !this.start) return;
    this.move(e);
    this.start = null;
    const b = this.box;
    if (b && b[2] >= MIN_SIDE && b[3] >= MIN_SIDE) this.confirm(b);
  }

  private cancelDrag(): void {
    this.start = null;
  }

  private key(e: KeyboardEvent): void {
    if (!this.active || !this.box) return;
    const step = e.altKey ? 1 : 4;
    let [x, y, w, h] = this.box;
    const W = this.canvas.width;
    const H = this.canvas.height;
    const resize = e.shiftKey;
    switch (e.key) {
      case 'ArrowLeft':
        if (resize) w = Math.max(MIN_SIDE, w - step);
        else x -= step;
        break;
      case 'ArrowRight':
        if (resize) w += step;
        else x += step;
        break;
      case 'ArrowUp':
        if (resize) h = Math.max(MIN_SIDE, h - step);
        else y -= step;
        break;
      case 'ArrowDown':
        if (resize) h += step;
        else y += step;
        break;
      case 'Enter':
        e.preventDefault();
        this.confirm(this.box);
        return;
      default:
        return;
    }
    e.preventDefault();
    w = Math.min(w, W);
    h = Math.min(h, H);
    x = Math.max(0, Math.min(W - w, x));
    y = Math.max(0, Math.min(H - h, y));
    this.box = [x, y, w, h];
    this.onChange(this.box);
  }

  private confirm(box: Box): void {
    this.end();
    this.onConfirm(box);
  }

  dispose(): void {
    this.abort.abort();
  }
}
