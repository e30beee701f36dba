import { ConfigError } from '@spiketrack/neurons';
import { formatEnergy } from './format';

/** One bar of {@link energyBarChartSvg}: a label and one energy (pJ) per series, stacked. */
export interface EnergyBar {
  label: string;
  /** Energies in pJ, one per series (finite, ≥ 0). */
  values: readonly number[];
}

/** Options of {@link energyBarChartSvg}. */
export interface EnergyBarChartOptions {
  /** The names of the stacked series (default one unnamed series); the legend lists them. */
  series?: readonly string[];
  /** A title over the chart. */
  title?: string;
  /** Total width in pixels (default 720). */
  width?: number;
  /** Colours of the series (CSS colours), cycled. */
  colors?: readonly string[];
}

const DEFAULT_COLORS = ['#3b6fb6', '#e39b2d', '#5aa05a', '#b65a8c', '#7f7f7f'];
const ROW = 22;
const BAR = 14;
const FONT = 12;
/** Approximate width of one character of the 12 px sans-serif labels. */
const CHAR = 6.8;

/** Escapes text for SVG character data and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * A horizontal stacked bar chart of energies, as a standalone SVG document (no scripts, no
 * external resources): one row per bar with its label, one segment per series with widths
 * proportional to the energy on a common linear scale, and the bar's total at its end
 * (`formatEnergy`). Each segment carries a `<title>` with its series and value (tooltips).
 * Bad values (negative, NaN, a wrong number of series) throw a `ConfigError`.
 */
export function energyBarChartSvg(bars: readonly EnergyBar[], opts: EnergyBarChartOptions = {}): string {
  const where = 'energyBarChartSvg';
  if (!Array.isArray(bars)) throw new ConfigError(`${where}: bars must be an array of { label, values }`);
  const series = opts.series ?? [''];
  if (!Array.isArray(series) || series.length === 0) {
    throw new ConfigError(`${where}: series must be a non-empty array of names`);
  }
  const colors = opts.colors?.length ? opts.colors : DEFAULT_COLORS;
  const width = opts.width ?? 720;
  if (!(Number.isFinite(width) && width >= 200)) {
    throw new ConfigError(`${where}: width must be a number ≥ 200, got ${String(opts.width)}`);
  }
  for (const [i, b] of bars.entries()) {
    if (!b || typeof b.label !== 'string' || !Array.isArray(b.values)) {
      throw new ConfigError(`${where}: bar ${i} must be { label: string, values: number[] }`);
    }
    if (b.values.length !== series.length) {
      throw new ConfigError(
        `${where}: bar '${b.label}' has ${b.values.length} value(s), expected ${series.length} (one per series)`,
      );
    }
    for (const v of b.values) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new ConfigError(
          `${where}: bar '${b.label}' has an invalid energy ${String(v)} (pJ, finite, ≥ 0)`,
        );
      }
    }
  }
  const totals = bars.map((b) => b.values.reduce((a: number, v: number) => a + v, 0));
  const max = Math.max(0, ...totals);
  const labelWidth = Math.ceil(Math.max(40, ...bars.map((b) => b.label.length * CHAR)) + 12);
  const valueWidth = 80;
  const plot = Math.max(50, width - labelWidth - valueWidth - 10);
  const named = series.some((s) => s.length > 0);
  let y = 10;
  const out: string[] = [];
  if (opts.title) {
    y += FONT + 2;
    out.push(
      `<text x="10" y="${y}" font-size="${FONT + 2}" font-weight="bold">${escapeXml(opts.title)}</text>`,
    );
    y += 8;
  }
  if (named) {
    let x = labelWidth;
    y += FONT;
    for (const [i, s] of series.entries()) {
      out.push(
        `<rect class="legend" x="${num(x)}" y="${y - 10}" width="10" height="10" fill="${escapeXml(colors[i % colors.length]!)}"/>`,
        `<text x="${num(x + 14)}" y="${y}" font-size="${FONT}">${escapeXml(s)}</text>`,
      );
      x += 14 + s.length * CHAR + 18;
    }
    y += 8;
  }
  for (const [r, b] of bars.entries()) {
    const top = y + r * ROW;
    const mid = top + BAR / 2 + FONT / 2 - 2;
    out.push(
      `<text x="${labelWidth - 6}" y="${mid}" font-size="${FONT}" text-anchor="end">${escapeXml(b.label)}</text>`,
    );
    let x = labelWidth;
    for (const [i, v] of b.values.entries()) {
      const w = max > 0 ? (v / max) * plot : 0;
      const tip = `${series[i] ? `${series[i]}: ` : ''}${formatEnergy(v)}`;
      out.push(
        `<rect class="bar" x="${num(x)}" y="${top}" width="${num(w)}" height="${BAR}" fill="${escapeXml(colors[i % colors.length]!)}"><title>${escapeXml(`${b.label}, ${tip}`)}</title></rect>`,
      );
      x += w;
    }
    out.push(
      `<text x="${num(x + 6)}" y="${mid}" font-size="${FONT}">${escapeXml(formatEnergy(totals[r]!))}</text>`,
    );
  }
  const height = y + bars.length * ROW + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
