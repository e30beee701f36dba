/**
 * A small SVG line-plot writer: axes, ticks, grid, title, axis labels and a legend, nothing more.
 * The evaluation plots need only that, no plotting library runs in Node without a DOM, and this
 * package takes no new dependencies; the output is a self-contained SVG 1.1 document.
 */

/** One curve. */
export interface PlotSeries {
  readonly label: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** A CSS color; default: the next of {@link PLOT_COLORS}. */
  readonly color?: string;
}

/** Options of {@link linePlot}. */
export interface LinePlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
  readonly series: readonly PlotSeries[];
  /** Legend corner (default `'lower left'`). */
  readonly legend?: 'lower left' | 'lower right' | 'upper left' | 'upper right';
  /** Size in pixels (default 640 × 480). */
  readonly width?: number;
  readonly height?: number;
  /** Tick positions (default: {@link niceTicks} of each range). */
  readonly xTicks?: readonly number[];
  readonly yTicks?: readonly number[];
}

/** The line colors, in order: pytracking's plot_results draw styles (red, green, blue, black, …). */
export const PLOT_COLORS: readonly string[] = [
  'rgb(255,0,0)',
  'rgb(0,255,0)',
  'rgb(0,0,255)',
  'rgb(0,0,0)',
  'rgb(255,0,255)',
  'rgb(0,255,255)',
  'rgb(128,128,128)',
  'rgb(136,0,21)',
  'rgb(255,127,39)',
  'rgb(0,162,232)',
  'rgb(0,128,0)',
  'rgb(255,128,51)',
  'rgb(26,102,0)',
  'rgb(153,77,230)',
  'rgb(102,179,26)',
  'rgb(51,26,179)',
  'rgb(179,153,51)',
];

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** About `count` evenly spaced "round" ticks (steps 1, 2, 2.5 or 5 × 10^k) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) throw new RangeError(`niceTicks: empty range [${min}, ${max}]`);
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw - 1e-12 * mag)!;
  const out: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  for (let k = first; k * step <= max + 1e-9 * step; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** Formats a tick value without float noise (`0.30000000000000004` → `0.3`). */
function tickLabel(v: number): string {
  return String(Number(v.toPrecision(10)));
}

/** Renders a line plot as an SVG document. */
export function linePlot(opts: LinePlotOptions): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 480;
  const m = { left: 64, right: 16, top: 36, bottom: 52 };
  const [x0, x1] = opts.xRange;
  const [y0, y1] = opts.yRange;
  if (!(x1 > x0) || !(y1 > y0)) throw new RangeError('linePlot: xRange and yRange must be increasing');
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const py = (y: number) => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const r = (v: number) => String(Math.round(v * 100) / 100);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text class="title" x="${r(m.left + pw / 2)}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`,
  );
  const xt = opts.xTicks ?? niceTicks(x0, x1);
  const yt = opts.yTicks ?? niceTicks(y0, y1);
  parts.push('<g class="grid" stroke="#bbb" stroke-dasharray="4 2 1 2" stroke-width="0.6">');
  for (const t of xt)
    parts.push(`<line x1="${r(px(t))}" y1="${r(m.top)}" x2="${r(px(t))}" y2="${r(m.top + ph)}"/>`);
  for (const t of yt)
    parts.push(`<line x1="${r(m.left)}" y1="${r(py(t))}" x2="${r(m.left + pw)}" y2="${r(py(t))}"/>`);
  parts.push('</g>', '<g class="ticks">');
  for (const t of xt) {
    parts.push(
      `<text class="xtick" x="${r(px(t))}" y="${r(m.top + ph + 16)}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  for (const t of yt) {
    parts.push(
      `<text class="ytick" x="${r(m.left - 6)}" y="${r(py(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`,
    );
  }
  parts.push(
    '</g>',
    `<text class="xlabel" x="${r(m.left + pw / 2)}" y="${H - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    `<text class="ylabel" transform="translate(16 ${r(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
    `<clipPath id="plot-area"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`,
    '<g class="series" clip-path="url(#plot-area)" fill="none" stroke-width="2">',
  );
  const colors = opts.series.map((s, i) => s.color ?? PLOT_COLORS[i % PLOT_COLORS.length]!);
  opts.series.forEach((s, i) => {
    if (s.x.length !== s.y.length)
      throw new RangeError(`linePlot: '${s.label}' has ${s.x.length} x and ${s.y.length} y values`);
    const pts = s.x.map((x, k) => `${r(px(x))},${r(py(s.y[k]!))}`).join(' ');
    parts.push(
      `<polyline stroke="${colors[i]}" points="${pts}"><title>${escapeXml(s.label)}</title></polyline>`,
    );
  });
  parts.push(
    '</g>',
    `<rect class="frame" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>`,
  );
  if (opts.series.length) {
    const loc = opts.legend ?? 'lower left';
    const lw = Math.min(pw - 16, 30 + 7 * Math.max(...opts.series.map((s) => s.label.length)));
    const lh = 8 + 18 * opts.series.length;
    const lx = loc.endsWith('left') ? m.left + 8 : m.left + pw - 8 - lw;
    const ly = loc.startsWith('lower') ? m.top + ph - 8 - lh : m.top + 8;
    parts.push(
      `<g class="legend"><rect x="${r(lx)}" y="${r(ly)}" width="${r(lw)}" height="${lh}" fill="white" stroke="black"/>`,
    );
    opts.series.forEach((s, i) => {
      const y = ly + 16 + 18 * i;
      parts.push(
        `<line x1="${r(lx + 6)}" y1="${r(y - 4)}" x2="${r(lx + 24)}" y2="${r(y - 4)}" stroke="${colors[i]}" stroke-width="2"/>`,
        `<text x="${r(lx + 30)}" y="${r(y)}">${escapeXml(s.label)}</text>`,
      );
    });
    parts.push('</g>');
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
