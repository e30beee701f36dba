/** What {@link formatProgress} shows. */
export interface ProgressState {
  /** Items done. */
  done: number;
  /** Items in all, or null when unknown (no bar, no ETA). */
  total: number | null;
  /** Milliseconds since the start. */
  elapsedMs: number;
  /** A label before the bar. */
  label?: string;
  /** The unit of the rate (default `'fps'`, frames per second). */
  unit?: string;
  /** The bar's width in characters (default 24). */
  width?: number;
}

/** `m:ss` (or `h:mm:ss`) of a duration in seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * One progress line: `label [#######.........]  12/40  30%  4.2 fps  ETA 0:07`. The rate is
 * `done / elapsed`; the ETA is the remaining items at that rate. Without a total: `label 12  4.2 fps`.
 */
export function formatProgress(p: ProgressState): string {
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  const unit = p.unit ?? 'fps';
  const label = p.label ? `${p.label} ` : '';
  const speed = `${rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)} ${unit}`;
  if (p.total === null || !(p.total > 0))
    return `${label}${p.done}  ${speed}  elapsed ${formatDuration(p.elapsedMs / 1000)}`;
  const width = p.width ?? 24;
  const frac = Math.min(1, p.done / p.total);
  const filled = Math.round(frac * width);
  const eta = rate > 0 ? formatDuration(Math.max(0, p.total - p.done) / rate) : '--:--';
  return `${label}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${String(Math.floor(frac * 100)).padStart(3)}%  ${speed}  ETA ${eta}`;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  total: number | null;
  label?: string;
  unit?: string;
  /** Redraw in place (a terminal) rather than print lines now and then. */
  interactive: boolean;
  /** Minimum milliseconds between redraws (default 100 in a terminal, 5000 otherwise). */
  intervalMs?: number;
  /** The clock (default `performance.now`), for tests. */
  now?: () => number;
}

/**
 * A progress bar on a stream (stderr), with the rate and ETA of {@link formatProgress}. In a
 * terminal it redraws one line in place; elsewhere (logs, CI) it prints a line every few seconds.
 * {@link done} prints the final line.
 */
export class ProgressBar {
  private count = 0;
  private readonly start: number;
  private last = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private finished = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly opts: ProgressBarOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  private line(): string {
    return formatProgress({
      done: this.count,
      total: this.opts.total,
      elapsedMs: this.now() - this.start,
      ...(this.opts.label === undefined ? {} : { label: this.opts.label }),
      ...(this.opts.unit === undefined ? {} : { unit: this.opts.unit }),
    });
  }

  /** Counts `n` more items done and redraws if it is time. */
  tick(n = 1): void {
    this.count += n;
    const t = this.now();
    const interval = this.opts.intervalMs ?? (this.opts.interactive ? 100 : 5000);
    if (t - this.last < interval) return;
    this.last = t;
    this.stream.write(this.opts.interactive ? `\r${this.line()}\x1b[K` : `${this.line()}\n`);
  }

  /** Prints the final line (idempotent). */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    this.stream.write(this.opts.interactive ? `\r${this.line()}\x1b[K\n` : `${this.line()}\n`);
  }
}
